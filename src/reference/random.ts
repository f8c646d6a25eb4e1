// CPU mirror of shaders/random_fill.wgsl, so a test can check the bench's GPU-generated weights
// word for word. Mode numbers as in the shader.
import { f32ToF16 } from '../loader/dtype.ts';

export function hash32(v: number): number {
  let h = v >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function uniform(bits: number): number {
  return Math.fround(Math.fround((bits >>> 8) / 16777216) * 2 - 1);
}

const VALUES_PER_WORD = [1, 2, 4, 8, 2];

/** The words random_fill writes for a buffer of `words` words (rows of rowWords, `cols` real columns). */
export function randomWords(mode: number, words: number, rowWords: number, cols: number, seed: number, scale: number): Uint32Array {
  const out = new Uint32Array(words);
  const f32 = new Float32Array(out.buffer);
  const s = Math.fround(scale);
  for (let i = 0; i < words; i++) {
    const h = hash32(hash32(i) ^ seed);
    const col = (i % rowWords) * VALUES_PER_WORD[mode];
    if (mode === 0) f32[i] = col < cols ? Math.fround(s * uniform(h)) : 0;
    else if (mode === 1) {
      const lo = col < cols ? f32ToF16(Math.fround(uniform(h) * s)) : 0;
      const hi = col + 1 < cols ? f32ToF16(Math.fround(uniform(hash32(h)) * s)) : 0;
      out[i] = (lo | (hi << 16)) >>> 0;
    } else if (mode === 2) {
      let word = 0;
      for (let j = 0; j < 4; j++) if (col + j < cols) word |= h & (0xff << (8 * j));
      out[i] = word >>> 0;
    } else if (mode === 3) {
      let word = 0;
      for (let j = 0; j < 8; j++) {
        const shift = 8 * (j % 4) + 4 * Math.floor(j / 4);
        word |= (col + j < cols ? (h >>> shift) & 15 : 8) << shift;
      }
      out[i] = word >>> 0;
    } else {
      const lo = f32ToF16(Math.fround(s * Math.fround(1 + Math.fround(0.5 * uniform(h)))));
      const hi = f32ToF16(Math.fround(s * Math.fround(1 + Math.fround(0.5 * uniform(hash32(h))))));
      out[i] = (lo | (hi << 16)) >>> 0;
    }
  }
  return out;
}
