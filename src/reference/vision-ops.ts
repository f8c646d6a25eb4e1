// The vision tower's operations, plain and slow. N = patches, Hv = vision hidden size, hd = head dim,
// p = patch size, Tp = temporal patch size, m = spatial merge size. A grid (t, h, w) counts patches.

import type { GridThw, PixelNormalization } from '../loader/vision-config.ts';

export type { GridThw };

/** torch.nn.LayerNorm over the last dim n (biased variance), then × weight + bias. */
export function layerNorm(x: Float32Array, weight: Float32Array, bias: Float32Array, rows: number, n: number, eps: number): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[o + i];
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (x[o + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(variance / n + eps);
    for (let i = 0; i < n; i++) y[o + i] = (x[o + i] - mean) * inv * weight[i] + bias[i];
  }
  return y;
}

/** gelu_pytorch_tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** nn.GELU(): 0.5·x·(1 + erf(x/√2)). */
export function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** erf to double precision: Taylor series near 0, Lentz's continued fraction for erfc beyond. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a > 6) return Math.sign(x);
  if (a < 2.5) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 80; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * sum * (2 / Math.sqrt(Math.PI));
  }
  // erfc(a) = exp(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...)))).
  let f = a;
  let c = a;
  let d = 0;
  for (let k = 1; k < 200; k++) {
    const coefficient = k / 2;
    d = 1 / (a + coefficient * d);
    c = a + coefficient / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/**
 * Frames [F, H, W, 3] (0–255, already at the target size) → pixel values [t·h·w, 3·Tp·p·p]: per
 * channel (value · scale − mean) / std in float32, frames Tp·g … Tp·g + Tp − 1 in the temporal
 * slots of group g (the last frame repeated past the end), rows in merge-block order
 * (t, h/m, w/m, m, m) and each row ordered (channel, temporal slot, y, x).
 */
export function patchify(
  frames: Uint8Array, F: number, H: number, W: number, p: number, Tp: number, m: number, norm: PixelNormalization,
): { pixels: Float32Array; grid: GridThw } {
  const f32 = Math.fround;
  const t = Math.ceil(F / Tp);
  const h = H / p;
  const w = W / p;
  const dim = 3 * Tp * p * p;
  const pixels = new Float32Array(t * h * w * dim);
  let row = 0;
  for (let g = 0; g < t; g++) {
    for (let br = 0; br < h / m; br++) {
      for (let bc = 0; bc < w / m; bc++) {
        for (let ir = 0; ir < m; ir++) {
          for (let ic = 0; ic < m; ic++, row++) {
            const pr = br * m + ir;
            const pc = bc * m + ic;
            for (let c = 0; c < 3; c++) {
              for (let s = 0; s < Tp; s++) {
                const f = Math.min(g * Tp + s, F - 1);
                for (let y = 0; y < p; y++) {
                  for (let x = 0; x < p; x++) {
                    const v = frames[((f * H + pr * p + y) * W + pc * p + x) * 3 + c];
                    pixels[row * dim + ((c * Tp + s) * p + y) * p + x] = f32(f32(v * norm.scale) - norm.mean[c]) / norm.std[c];
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  return { pixels, grid: { t, h, w } };
}

/** (row, column) of every patch of the grids in merge-block order, repeated for each t. */
export function patchCoordinates(grids: readonly GridThw[], m: number): { row: number; col: number; h: number; w: number }[] {
  const out: { row: number; col: number; h: number; w: number }[] = [];
  for (const { t, h, w } of grids) {
    for (let g = 0; g < t; g++) {
      for (let br = 0; br < h / m; br++) {
        for (let bc = 0; bc < w / m; bc++) {
          for (let ir = 0; ir < m; ir++) for (let ic = 0; ic < m; ic++) out.push({ row: br * m + ir, col: bc * m + ic, h, w });
        }
      }
    }
  }
  return out;
}

/**
 * The side×side learned table [side², Hv] resampled bilinearly (corners aligned) to each patch's
 * (row, col) on its grid: source coordinate r·(side−1)/(h−1), the four neighbours weighted by
 * distance. Returns [N, Hv].
 */
export function interpolatePosEmbed(table: Float32Array, side: number, Hv: number, grids: readonly GridThw[], m: number): Float32Array {
  const coords = patchCoordinates(grids, m);
  const out = new Float32Array(coords.length * Hv);
  const axis = (i: number, size: number) => {
    const src = size > 1 ? (i * (side - 1)) / (size - 1) : 0;
    const lo = Math.floor(src);
    return { lo, hi: Math.min(lo + 1, side - 1), frac: src - lo };
  };
  coords.forEach(({ row, col, h, w }, n) => {
    const r = axis(row, h);
    const c = axis(col, w);
    const taps: [number, number][] = [
      [r.lo * side + c.lo, (1 - r.frac) * (1 - c.frac)],
      [r.lo * side + c.hi, (1 - r.frac) * c.frac],
      [r.hi * side + c.lo, r.frac * (1 - c.frac)],
      [r.hi * side + c.hi, r.frac * c.frac],
    ];
    for (let i = 0; i < Hv; i++) {
      let sum = 0;
      for (const [index, weight] of taps) sum += table[index * Hv + i] * weight;
      out[n * Hv + i] = sum;
    }
  });
  return out;
}

/**
 * 2-D rotary embedding in place on x [N, heads, hd]: frequencies θ^(−4j/hd), j < hd/4; the angle of
 * dim i < hd/2 is row·f_i for i < hd/4 and col·f_(i−hd/4) above, and dims i and i + hd/2 rotate
 * together (rotate_half over the whole head).
 */
export function axialRopeInPlace(x: Float32Array, grids: readonly GridThw[], m: number, heads: number, hd: number, theta: number): void {
  const quarter = hd / 4;
  const half = hd / 2;
  patchCoordinates(grids, m).forEach(({ row, col }, n) => {
    for (let i = 0; i < half; i++) {
      const j = i < quarter ? i : i - quarter;
      const angle = (i < quarter ? row : col) / theta ** ((2 * j) / half);
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      for (let head = 0; head < heads; head++) {
        const o = (n * heads + head) * hd;
        const a = x[o + i];
        const b = x[o + half + i];
        x[o + i] = a * cos - b * sin;
        x[o + half + i] = b * cos + a * sin;
      }
    }
  });
}

/** Segment [start, end) of every patch: one per image, one per temporal group of a video. */
export function attentionSegments(grids: readonly GridThw[]): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (const { t, h, w } of grids) {
    for (let g = 0; g < t; g++, start += h * w) for (let i = 0; i < h * w; i++) out.push([start, start + h * w]);
  }
  return out;
}

/**
 * Bidirectional softmax attention restricted to each patch's segment: q, k, v [N, heads, hd] →
 * [N, heads·hd], scale hd^-½.
 */
export function segmentAttention(q: Float32Array, k: Float32Array, v: Float32Array, segments: readonly [number, number][], heads: number, hd: number): Float32Array {
  const N = segments.length;
  const out = new Float32Array(N * heads * hd);
  const scale = 1 / Math.sqrt(hd);
  for (let n = 0; n < N; n++) {
    const [start, end] = segments[n];
    for (let h = 0; h < heads; h++) {
      const qo = (n * heads + h) * hd;
      const scores = new Float64Array(end - start);
      let max = -Infinity;
      for (let s = start; s < end; s++) {
        let dot = 0;
        for (let i = 0; i < hd; i++) dot += q[qo + i] * k[(s * heads + h) * hd + i];
        scores[s - start] = dot * scale;
        max = Math.max(max, scores[s - start]);
      }
      let sum = 0;
      for (let s = 0; s < scores.length; s++) sum += scores[s] = Math.exp(scores[s] - max);
      for (let i = 0; i < hd; i++) {
        let acc = 0;
        for (let s = start; s < end; s++) acc += scores[s - start] * v[(s * heads + h) * hd + i];
        out[qo + i] = acc / sum;
      }
    }
  }
  return out;
}
