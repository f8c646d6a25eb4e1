import type { GridThw } from '../loader/vision-config.ts';

/**
 * The vision tower's per-patch tables, computed on the CPU in transformers' float32 order (as the
 * text rope table is) and uploaded with the pixels: position-table taps, rotary (cos, sin) and
 * attention segments. Patches are in the processor's merge-block order, items one after another.
 */

/** (row, column) of each patch in an item's grid, merge-block order, repeated for every temporal group. */
function forEachPatch(grids: readonly GridThw[], m: number, visit: (row: number, col: number, grid: GridThw) => void): void {
  for (const grid of grids) {
    for (let g = 0; g < grid.t; g++) {
      for (let br = 0; br < grid.h / m; br++) {
        for (let bc = 0; bc < grid.w / m; bc++) {
          for (let ir = 0; ir < m; ir++) for (let ic = 0; ic < m; ic++) visit(br * m + ir, bc * m + ic, grid);
        }
      }
    }
  }
}

export function patchCount(grids: readonly GridThw[]): number {
  return grids.reduce((sum, g) => sum + g.t * g.h * g.w, 0);
}

/** One axis of get_vision_interpolation_indices_and_weights (bilinear, corners aligned): 2 taps. */
function axisTaps(i: number, size: number, side: number): [number, number, number, number] {
  const f = Math.fround;
  const src = f(f(i * (side - 1)) / Math.max(size - 1, 1));
  const floor = Math.floor(src);
  const frac = f(src - floor);
  return [Math.min(floor, side - 1), Math.min(floor + 1, side - 1), f(1 - frac), Math.max(f(1 - f(1 - frac)), 0)];
}

/** Four table rows and bilinear weights per patch: [N, 4] each, taps ordered (r0c0, r0c1, r1c0, r1c1). */
export function positionTaps(grids: readonly GridThw[], side: number, m: number): { index: Uint32Array; weight: Float32Array } {
  const N = patchCount(grids);
  const index = new Uint32Array(N * 4);
  const weight = new Float32Array(N * 4);
  let n = 0;
  forEachPatch(grids, m, (row, col, grid) => {
    const [r0, r1, wr0, wr1] = axisTaps(row, grid.h, side);
    const [c0, c1, wc0, wc1] = axisTaps(col, grid.w, side);
    index.set([r0 * side + c0, r0 * side + c1, r1 * side + c0, r1 * side + c1], n * 4);
    weight.set([wr0 * wc0, wr0 * wc1, wr1 * wc0, wr1 * wc1], n * 4);
    n++;
  });
  return { index, weight };
}

/**
 * (cos, sin) [N, hd/2] of the axial rotary embedding: inv_freq_j = 1 / θ^(2j / (hd/2)), j < hd/4,
 * angle_i = row · inv_freq_i for i < hd/4 and column · inv_freq_(i − hd/4) above.
 */
export function axialRopeTable(grids: readonly GridThw[], m: number, headDim: number, theta: number): Float32Array {
  const f = Math.fround;
  const quarter = headDim / 4;
  const half = headDim / 2;
  const invFreq = Float32Array.from({ length: quarter }, (_, j) => 1 / f(theta ** f((2 * j) / half)));
  const table = new Float32Array(patchCount(grids) * half * 2);
  let o = 0;
  forEachPatch(grids, m, (row, col) => {
    for (let i = 0; i < half; i++) {
      const angle = f((i < quarter ? row : col) * invFreq[i % quarter]);
      table[o++] = Math.cos(angle);
      table[o++] = Math.sin(angle);
    }
  });
  return table;
}

/** [N, 2] segment (start, end) of each patch: an image is one segment, a video one per temporal group. */
export function attentionSegments(grids: readonly GridThw[]): Uint32Array {
  const seg = new Uint32Array(patchCount(grids) * 2);
  let n = 0;
  for (const { t, h, w } of grids) {
    for (let g = 0; g < t; g++) {
      const start = n;
      for (let i = 0; i < h * w; i++, n++) seg.set([start, start + h * w], n * 2);
    }
  }
  return seg;
}
