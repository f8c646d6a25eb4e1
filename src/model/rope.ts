import type { RopeConfig } from '../loader/config.ts';

/**
 * (cos, sin) per token and rotary frequency, computed on the CPU in the reference's float32 order:
 * inv_freq_j = 1 / theta^(2j / rotaryDim), angle = inv_freq_j * position of the axis that frequency
 * j follows under interleaved M-RoPE (height if j % 3 == 1 and j < 3 * section[1], width if
 * j % 3 == 2 and j < 3 * section[2], temporal otherwise). Doing this here keeps large-angle
 * sin/cos off the GPU (WGSL only bounds their error on [-pi, pi]).
 */
export function ropeTable(rope: RopeConfig, positions: Int32Array, T: number): Float32Array {
  const half = rope.rotaryDim / 2;
  if (positions.length !== 3 * T) throw new Error(`rope positions must be [3, ${T}], got ${positions.length} values`);
  const [, heightFreqs, widthFreqs] = rope.mropeSection;
  const table = new Float32Array(T * half * 2);
  for (let j = 0; j < half; j++) {
    const invFreq = Math.fround(1 / Math.fround(rope.theta ** Math.fround((2 * j) / rope.rotaryDim)));
    const axis = j % 3 === 1 && j < 3 * heightFreqs ? 1 : j % 3 === 2 && j < 3 * widthFreqs ? 2 : 0;
    for (let t = 0; t < T; t++) {
      const angle = Math.fround(invFreq * positions[axis * T + t]);
      table[(t * half + j) * 2] = Math.cos(angle);
      table[(t * half + j) * 2 + 1] = Math.sin(angle);
    }
  }
  return table;
}

/** Text positions: all three M-RoPE axes advance together from `start`. */
export function textPositions(start: number, T: number): Int32Array {
  const positions = new Int32Array(3 * T);
  for (let axis = 0; axis < 3; axis++) for (let t = 0; t < T; t++) positions[axis * T + t] = start + t;
  return positions;
}
