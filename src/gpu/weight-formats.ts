import { f16ToF32, f32ToF16 } from '../loader/dtype.ts';

/**
 * How a weight matrix is stored on the GPU. Rows are u32 words:
 *  - f32: one float per word.
 *  - f16: two halves per word (low half = even column), read with unpack2x16float.
 *  - q8:  four signed bytes per word, value = code × scale, code in [-127, 127] (llama.cpp's Q8_0).
 *  - q4:  eight 4-bit codes per word, value = (code − 8) × scale (Q4_0: the group's largest
 *         magnitude maps to code 0 exactly). Byte j of word w holds column 8w+j in its low nibble and
 *         8w+4+j in its high nibble, so `unpack4x8unorm(word & 0x0F0F0F0F)` yields columns 8w..8w+3
 *         and the same of `word >> 4` yields 8w+4..8w+7, with no shuffling.
 * q8/q4 keep one f16 scale per group of `groupSize` consecutive columns of a row, two per u32.
 * Zero is exact in every format, so the zero padding past `cols` contributes nothing to a dot product.
 */
export type WeightFormat = 'f32' | 'f16' | 'q8' | 'q4';

export const WEIGHT_FORMATS: readonly WeightFormat[] = ['f32', 'f16', 'q8', 'q4'];
export const VALUES_PER_WORD: Record<WeightFormat, number> = { f32: 1, f16: 2, q8: 4, q4: 8 };
export const GROUPED_FORMATS: ReadonlySet<WeightFormat> = new Set(['q8', 'q4']);

export interface RowLayout {
  cols: number;
  format: WeightFormat;
  rowWords: number;
  groupSize: number;
  scaleWords: number;
}

const f32Bits = new Float32Array(1);

/** Encodes `rowCount` rows of `cols` float32 values into the stored words (and scales) of `layout`. */
export function encodeRows(values: Float32Array, rowCount: number, layout: RowLayout): { words: Uint32Array; scales: Uint32Array | null } {
  const { cols, rowWords, format } = layout;
  const words = new Uint32Array(rowCount * rowWords);
  if (format === 'f32') {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let r = 0; r < rowCount; r++) words.set(bits.subarray(r * cols, (r + 1) * cols), r * rowWords);
    return { words, scales: null };
  }
  if (format === 'f16') {
    for (let r = 0; r < rowCount; r++) {
      for (let c = 0; c < cols; c += 2) {
        const lo = f32ToF16(values[r * cols + c]);
        const hi = c + 1 < cols ? f32ToF16(values[r * cols + c + 1]) : 0;
        words[r * rowWords + c / 2] = (lo | (hi << 16)) >>> 0;
      }
    }
    return { words, scales: null };
  }
  const scales = new Uint32Array(rowCount * layout.scaleWords);
  const G = layout.groupSize;
  const groups = (rowWords * VALUES_PER_WORD[format]) / G;
  const codes = new Int32Array(G);
  for (let r = 0; r < rowCount; r++) {
    for (let g = 0; g < groups; g++) {
      const c0 = g * G;
      const n = Math.max(0, Math.min(G, cols - c0));
      const scaleBits = format === 'q8' ? quantizeQ8(values, r * cols + c0, n, codes) : quantizeQ4(values, r * cols + c0, n, codes);
      scales[r * layout.scaleWords + (g >> 1)] |= scaleBits << ((g & 1) * 16);
      const base = r * rowWords + (c0 / VALUES_PER_WORD[format]);
      if (format === 'q8') {
        for (let w = 0; w < G / 4; w++) {
          words[base + w] = ((codes[4 * w] & 0xff) | ((codes[4 * w + 1] & 0xff) << 8) | ((codes[4 * w + 2] & 0xff) << 16) | ((codes[4 * w + 3] & 0xff) << 24)) >>> 0;
        }
      } else {
        for (let w = 0; w < G / 8; w++) {
          let word = 0;
          for (let j = 0; j < 4; j++) word |= (codes[8 * w + j] | (codes[8 * w + 4 + j] << 4)) << (8 * j);
          words[base + w] = word >>> 0;
        }
      }
    }
  }
  return { words, scales };
}

/** Nearest f16 of x, as its value (what the GPU will multiply by). */
function roundedF16(x: number): { bits: number; value: number } {
  f32Bits[0] = x;
  const bits = f32ToF16(f32Bits[0]);
  return { bits, value: f16ToF32(bits) };
}

/** Codes of values[at .. at+n) (the rest of the group is zero padding); returns the f16 scale bits. */
function quantizeQ8(values: Float32Array, at: number, n: number, codes: Int32Array): number {
  let absMax = 0;
  for (let i = 0; i < n; i++) absMax = Math.max(absMax, Math.abs(values[at + i]));
  const scale = roundedF16(absMax / 127);
  codes.fill(0);
  if (scale.value === 0) return scale.bits;
  for (let i = 0; i < n; i++) codes[i] = Math.max(-127, Math.min(127, Math.round(values[at + i] / scale.value)));
  return scale.bits;
}

function quantizeQ4(values: Float32Array, at: number, n: number, codes: Int32Array): number {
  let extreme = 0;
  for (let i = 0; i < n; i++) if (Math.abs(values[at + i]) > Math.abs(extreme)) extreme = values[at + i];
  const scale = roundedF16(extreme / -8);
  codes.fill(8);
  if (scale.value === 0) return scale.bits;
  for (let i = 0; i < n; i++) codes[i] = Math.max(0, Math.min(15, Math.round(values[at + i] / scale.value) + 8));
  return scale.bits;
}
