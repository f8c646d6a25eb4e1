// Decoding of the stored weight formats (src/gpu/weight-formats.ts), written independently of the
// encoder: tests quantize with the engine's encoder, then check every kernel against a matmul over
// these decoded values, so a kernel is judged on the same weights it multiplies.
import { f16ToF32 } from '../loader/dtype.ts';

export interface StoredRows {
  format: 'f32' | 'f16' | 'q8' | 'q4';
  cols: number;
  rowWords: number;
  groupSize: number;
  scaleWords: number;
}

/** words [rows, rowWords] (+ scales [rows, scaleWords]) → float32 [rows, cols]. */
export function decodeRows(words: Uint32Array, scales: Uint32Array | null, rows: number, layout: StoredRows): Float32Array {
  const { cols, rowWords, format } = layout;
  const out = new Float32Array(rows * cols);
  const f32 = new Float32Array(words.buffer, words.byteOffset, words.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const row = r * rowWords;
      let v: number;
      if (format === 'f32') v = f32[row + c];
      else if (format === 'f16') v = f16ToF32(words[row + (c >> 1)] >>> ((c & 1) * 16));
      else {
        const g = Math.floor(c / layout.groupSize);
        const scale = f16ToF32(scales![r * layout.scaleWords + (g >> 1)] >>> ((g & 1) * 16));
        if (format === 'q8') {
          const byte = (words[row + (c >> 2)] >>> ((c & 3) * 8)) & 0xff;
          v = (byte > 127 ? byte - 256 : byte) * scale;
        } else {
          const word = words[row + (c >> 3)];
          const j = c & 7;
          const code = (word >>> ((j & 3) * 8 + (j >= 4 ? 4 : 0))) & 0xf;
          v = (code - 8) * scale;
        }
      }
      out[r * cols + c] = v;
    }
  }
  return out;
}
