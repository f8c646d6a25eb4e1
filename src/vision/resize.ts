// Antialiased resampling of 8-bit RGB images, bit-exact with the two backends the Python processors
// use: Pillow's ImagingResample (PIL backend) and PyTorch's uint8 antialias kernel (torchvision
// backend, the only one for video). Both compute separable filter weights in double precision,
// quantise them to integers, run the horizontal pass into an 8-bit intermediate and then the
// vertical pass, rounding and clamping each result to 0..255. They differ in the integer precision
// of the weights: Pillow always uses 22 fractional bits, PyTorch the most that keep the largest
// weight within int16.
import type { ResampleTaps } from '../loader/vision-config.ts';
import type { Resample } from './processor-config.ts';

export type ResizeBackend = 'pil' | 'torch';

/** An 8-bit RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

interface Filter {
  support: number;
  weight(x: number, backend: ResizeBackend): number;
}

// Keys' cubic with a = -0.5 (what both backends use when antialiasing); the two write the outer
// polynomial differently, which can move the last bit of a weight.
const BICUBIC: Filter = {
  support: 2,
  weight(x, backend) {
    const a = -0.5;
    x = Math.abs(x);
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return backend === 'pil' ? (((x - 5) * x + 8) * x - 4) * a : ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
  },
};

const BILINEAR: Filter = {
  support: 1,
  weight(x) {
    x = Math.abs(x);
    return x < 1 ? 1 - x : 0;
  },
};

/** The integer taps of one axis (shared by the CPU passes below and the GPU's vision_resize). */
export function resampleTaps(inSize: number, outSize: number, resample: Resample, backend: ResizeBackend): ResampleTaps {
  const filter = resample === 'bicubic' ? BICUBIC : BILINEAR;
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const real = new Float64Array(outSize * ksize);
  let maxWeight = 0;
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.max(Math.min(Math.trunc(center + support + 0.5), inSize) - lo, 0), ksize);
    let total = 0;
    for (let j = 0; j < n; j++) total += real[i * ksize + j] = filter.weight((j + lo - center + 0.5) / filterScale, backend);
    for (let j = 0; j < n; j++) {
      if (total !== 0) real[i * ksize + j] /= total;
      maxWeight = Math.max(maxWeight, real[i * ksize + j]);
    }
    start[i] = lo;
    count[i] = n;
  }
  let precision = 22;
  if (backend === 'torch') {
    for (precision = 0; precision < 22; precision++) if (Math.trunc(0.5 + maxWeight * 2 ** (precision + 1)) >= 1 << 15) break;
  }
  const weights = new Int32Array(outSize * ksize);
  for (let i = 0; i < real.length; i++) {
    const v = real[i] * 2 ** precision;
    weights[i] = v < 0 ? Math.trunc(-0.5 + v) : Math.trunc(0.5 + v);
  }
  return { inSize, outSize, start, count, weights, ksize, precision };
}

/**
 * Resamples one axis. The image is `lines` lines, each `outSize` (after) / some (before) steps of
 * `inner` contiguous bytes; `axisStride` bytes separate steps, `lineStride` lines. Sums run over a
 * whole step at once so the innermost loop streams contiguous bytes.
 */
function pass(src: Uint8Array, dst: Uint8Array, t: ResampleTaps, outSize: number, lines: number, lineStrideIn: number, lineStrideOut: number, axisStrideIn: number, axisStrideOut: number, inner: number): void {
  const round = 2 ** (t.precision - 1);
  const unit = 2 ** t.precision;
  // Integer sums stay below 2^31 (|weights| sum to ~1.3 · 2^22, pixels below 2^8); doubles hold them exactly.
  const acc = new Float64Array(inner);
  for (let line = 0; line < lines; line++) {
    for (let o = 0; o < outSize; o++) {
      acc.fill(round);
      const k = o * t.ksize;
      for (let j = 0; j < t.count[o]; j++) {
        const weight = t.weights[k + j];
        const from = line * lineStrideIn + (t.start[o] + j) * axisStrideIn;
        for (let e = 0; e < inner; e++) acc[e] += src[from + e] * weight;
      }
      const to = line * lineStrideOut + o * axisStrideOut;
      for (let e = 0; e < inner; e++) {
        const v = Math.floor(acc[e] / unit);
        dst[to + e] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
}

/** The image at width × height; returned as is when the size already matches. */
export function resizeRgb(image: RgbImage, width: number, height: number, resample: Resample, backend: ResizeBackend): RgbImage {
  let current = image;
  if (width !== current.width) {
    const t = resampleTaps(current.width, width, resample, backend);
    const out = new Uint8Array(current.height * width * 3);
    pass(current.data, out, t, width, current.height, current.width * 3, width * 3, 3, 3, 3);
    current = { width, height: current.height, data: out };
  }
  if (height !== current.height) {
    const t = resampleTaps(current.height, height, resample, backend);
    const out = new Uint8Array(height * width * 3);
    // One "line" holding every column: the axis stride is a whole row.
    pass(current.data, out, t, height, 1, 0, 0, width * 3, width * 3, width * 3);
    current = { width, height, data: out };
  }
  return current;
}
