// Interleaved M-RoPE (Qwen3-VL / Qwen3.5 text). T = tokens, D = head dim, R = rotaryDim.

export interface RopeSpec {
  theta: number;
  /** Leading dims of each head that rotate (R, even); dims R..D-1 pass through. */
  rotaryDim: number;
  /** Frequencies following the temporal, height and width position axes. */
  mropeSection: [number, number, number];
}

/**
 * The position axis (0 temporal, 1 height, 2 width) frequency j follows. transformers'
 * apply_interleaved_mrope starts from the temporal row and overwrites the slices
 * [1 : 3·section[1] : 3] with height and [2 : 3·section[2] : 3] with width, so the layout reads
 * THWTHW…, with the frequencies past the shorter sections falling back to temporal.
 */
export function mropeAxis(j: number, mropeSection: readonly [number, number, number]): 0 | 1 | 2 {
  if (j % 3 === 1 && j < 3 * mropeSection[1]) return 1;
  if (j % 3 === 2 && j < 3 * mropeSection[2]) return 2;
  return 0;
}

/**
 * Rotates x [T, heads, D] in place: x' = x·cos + rotate_half(x)·sin on the first R dims (NeoX
 * halves: dim i pairs with i + R/2), frequency j = i mod R/2 at angle pos_axis(j) · θ^(−2j/R).
 * positions is [3, T], axis-major. inv_freq, angle, cos and sin are rounded to float32 as
 * transformers computes them, so large angles agree with the fixtures to float32 precision.
 */
export function ropeInPlace(x: Float32Array, positions: Int32Array, T: number, heads: number, D: number, rope: RopeSpec): void {
  const R = rope.rotaryDim;
  const half = R / 2;
  if (R % 2 !== 0 || R > D) throw new Error(`rope: rotaryDim ${R} must be even and at most head_dim ${D}`);
  if (positions.length !== 3 * T) throw new Error(`rope: positions must be [3, ${T}], got ${positions.length} values`);
  const cos = new Float32Array(half);
  const sin = new Float32Array(half);
  const invFreq = new Float32Array(half);
  for (let j = 0; j < half; j++) invFreq[j] = 1 / Math.fround(rope.theta ** Math.fround((2 * j) / R));
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < half; j++) {
      const angle = Math.fround(invFreq[j] * positions[mropeAxis(j, rope.mropeSection) * T + t]);
      cos[j] = Math.cos(angle);
      sin[j] = Math.sin(angle);
    }
    for (let h = 0; h < heads; h++) {
      const o = (t * heads + h) * D;
      for (let j = 0; j < half; j++) {
        const a = x[o + j];
        const b = x[o + half + j];
        x[o + j] = a * cos[j] - b * sin[j];
        x[o + half + j] = b * cos[j] + a * sin[j];
      }
    }
  }
}
