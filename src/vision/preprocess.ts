import type { GridThw, PixelNormalization, ResampleTaps } from '../loader/vision-config.ts';
import { ImageInputError, VideoInputError, VisualTokenLimitError } from './errors.ts';
import type { ImageProcessorConfig, VideoProcessorConfig } from './processor-config.ts';
import { resampleTaps, resizeRgb, type ResizeBackend, type RgbImage } from './resize.ts';
import { smartResize, smartResizeVideo } from './smart-resize.ts';
import { temporalPatchTimes } from './video-sampling.ts';

/** A decoded image, or a video's sampled frames with their times in seconds. */
export type VisualSource =
  | { kind: 'image'; image: RgbImage }
  | { kind: 'video'; frames: RgbImage[]; frameTimes: number[] };

/**
 * A resize left to the GPU: `frames` are still at the source size, and these taps (the same
 * integers the CPU path uses) take them to width × height.
 */
export interface DeferredResize {
  sourceWidth: number;
  sourceHeight: number;
  resample: 'bicubic' | 'bilinear';
  backend: ResizeBackend;
  horizontal?: ResampleTaps;
  vertical?: ResampleTaps;
}

/** One item ready for the GPU (model/vision.ts VisionItem) plus what the prompt needs. */
export interface PreparedVisual {
  kind: 'image' | 'video';
  /** [frameCount, height, width, 3] RGB bytes: at the final size, or at the source size when `resize` is set. */
  frames: Uint8Array;
  /** Distinct frames; a clip shorter than a temporal patch is padded by repeating its last frame when patched. */
  frameCount: number;
  /** The final (resized) size. */
  width: number;
  height: number;
  resize?: DeferredResize;
  grid: GridThw;
  normalization: PixelNormalization;
  /** Placeholder tokens: grid.t · grid.h · grid.w / merge². */
  tokens: number;
  /** Video: seconds of each temporal patch (mean of its first and last frame). */
  times: number[];
}

export interface ProcessorConfigs {
  image: ImageProcessorConfig;
  video: VideoProcessorConfig;
}

/**
 * Which resampling each processor runs in Python: images through the PIL backend (transformers'
 * image processor without torchvision, the one the reference fixtures were made with), videos
 * through torchvision (the only video backend). They differ only in weight rounding.
 */
export const RESIZE_BACKENDS: Record<'image' | 'video', ResizeBackend> = { image: 'pil', video: 'torch' };

/** The fused rescale + normalise constants, in float32 as transformers forms them. */
export function normalizationFor(c: ImageProcessorConfig): PixelNormalization {
  const f = Math.fround;
  const triple = (v: readonly number[], g: (x: number) => number) => [g(v[0]), g(v[1]), g(v[2])] as const;
  if (c.doRescale && c.doNormalize) {
    const inverse = 1 / c.rescaleFactor;
    return { scale: 1, mean: triple(c.imageMean, (m) => f(f(m) * inverse)), std: triple(c.imageStd, (s) => f(f(s) * inverse)) };
  }
  if (c.doNormalize) return { scale: 1, mean: triple(c.imageMean, f), std: triple(c.imageStd, f) };
  return { scale: c.doRescale ? f(c.rescaleFactor) : 1, mean: [0, 0, 0], std: [1, 1, 1] };
}

interface Plan {
  height: number;
  width: number;
  frameCount: number;
  tokens: number;
}

/** The size an item takes under its processor's bounds, with maxPixels lowered to `maxPixels` if given. */
function plan(source: VisualSource, configs: ProcessorConfigs, maxPixels?: number): Plan {
  const c = source.kind === 'image' ? configs.image : configs.video;
  const factor = c.patchSize * c.mergeSize;
  const max = Math.min(c.maxPixels, maxPixels ?? Infinity);
  const cell = c.patchSize ** 2 * c.mergeSize ** 2;
  if (source.kind === 'image') {
    const { width, height } = source.image;
    const [h, w] = c.doResize ? smartResize(height, width, factor, Math.min(c.minPixels, max), max) : unresized(height, width, factor);
    return { height: h, width: w, frameCount: 1, tokens: (h * w) / cell };
  }
  const first = source.frames[0];
  // A clip shorter than one temporal patch repeats its last frame, as the patching does for odd counts.
  const frameCount = Math.max(source.frames.length, c.temporalPatchSize);
  const [h, w] = c.doResize
    ? smartResizeVideo(frameCount, first.height, first.width, c.temporalPatchSize, factor, Math.min(c.minPixels, max), max)
    : unresized(first.height, first.width, factor);
  return { height: h, width: w, frameCount, tokens: (Math.ceil(frameCount / c.temporalPatchSize) * h * w) / cell };
}

/** With do_resize off the picture must already tile into whole merge blocks. */
function unresized(height: number, width: number, factor: number): [number, number] {
  if (height % factor !== 0 || width % factor !== 0) {
    throw new ImageInputError(`The processor does not resize (do_resize is false), so ${width}×${height} must be a multiple of ${factor} on both sides`);
  }
  return [height, width];
}

export interface PrepareOptions {
  /** Most placeholder tokens all items may take together. */
  maxTokens?: number;
  /** Whether to leave the resize of an item whose source frames take this many bytes to the GPU. */
  resizeOnGpu?: (sourceBytes: number) => boolean;
}

/**
 * Sizes every item as the Python processors would, then, if they need more than `maxTokens`
 * placeholder tokens together, lowers each item's max_pixels in proportion until they fit (the
 * qwen-vl-utils way of bounding cost); resizes them (or prepares the GPU's resize) in order.
 */
export function prepareVisuals(sources: readonly VisualSource[], configs: ProcessorConfigs, options: PrepareOptions = {}): PreparedVisual[] {
  const maxTokens = options.maxTokens ?? Infinity;
  for (const s of sources) checkSource(s);
  let plans = sources.map((s) => plan(s, configs));
  const total = () => plans.reduce((sum, p) => sum + p.tokens, 0);
  for (let attempt = 0; total() > maxTokens && attempt < 8; attempt++) {
    const ratio = (maxTokens / total()) * (attempt === 0 ? 1 : 0.95 ** attempt);
    plans = plans.map((p, i) => plan(sources[i], configs, Math.floor(p.height * p.width * (sources[i].kind === 'video' ? p.frameCount : 1) * ratio)));
  }
  if (total() > maxTokens) {
    throw new VisualTokenLimitError(`The request's images and videos need ${total()} visual tokens even at their smallest, but only ${maxTokens} fit`);
  }
  return sources.map((s, i) => resizeItem(s, plans[i], configs, options.resizeOnGpu ?? (() => false)));
}

/** The item's frames at their final size: resized on the CPU here if their resize was left to the GPU. */
export function finalFrames(item: PreparedVisual): Uint8Array {
  const r = item.resize;
  if (!r) return item.frames;
  const bytes = r.sourceWidth * r.sourceHeight * 3;
  const out = new Uint8Array(item.frameCount * item.width * item.height * 3);
  for (let f = 0; f < item.frameCount; f++) {
    const frame = { width: r.sourceWidth, height: r.sourceHeight, data: item.frames.subarray(f * bytes, (f + 1) * bytes) };
    out.set(resizeRgb(frame, item.width, item.height, r.resample, r.backend).data, f * item.width * item.height * 3);
  }
  return out;
}

function checkSource(s: VisualSource): void {
  if (s.kind === 'image') return;
  if (s.frames.length === 0) throw new VideoInputError('A video has no frames');
  if (s.frameTimes.length !== s.frames.length) throw new VideoInputError(`A video has ${s.frames.length} frames but ${s.frameTimes.length} times`);
  const { width, height } = s.frames[0];
  s.frames.forEach((f, i) => {
    if (f.width !== width || f.height !== height) throw new VideoInputError(`Frame ${i} of a video is ${f.width}×${f.height} but frame 0 is ${width}×${height}`);
  });
}

function resizeItem(s: VisualSource, p: Plan, configs: ProcessorConfigs, resizeOnGpu: (bytes: number) => boolean): PreparedVisual {
  const c = s.kind === 'image' ? configs.image : configs.video;
  const originals = s.kind === 'image' ? [s.image] : s.frames;
  const { width: sourceWidth, height: sourceHeight } = originals[0];
  const sourceBytes = sourceWidth * sourceHeight * 3;
  const same = sourceWidth === p.width && sourceHeight === p.height;
  const backend = RESIZE_BACKENDS[s.kind];
  const deferred = !same && resizeOnGpu(originals.length * sourceBytes);
  const frameBytes = deferred || same ? sourceBytes : p.width * p.height * 3;
  const frames = new Uint8Array(originals.length * frameBytes);
  originals.forEach((frame, i) => frames.set(same || deferred ? frame.data : resizeRgb(frame, p.width, p.height, c.resample, backend).data, i * frameBytes));
  const resize: DeferredResize | undefined = deferred
    ? {
        sourceWidth, sourceHeight, resample: c.resample, backend,
        horizontal: sourceWidth === p.width ? undefined : resampleTaps(sourceWidth, p.width, c.resample, backend),
        vertical: sourceHeight === p.height ? undefined : resampleTaps(sourceHeight, p.height, c.resample, backend),
      }
    : undefined;
  const grid = { t: Math.ceil(p.frameCount / c.temporalPatchSize), h: p.height / c.patchSize, w: p.width / c.patchSize };
  const times = s.kind === 'video' ? temporalPatchTimes(padTimes(s.frameTimes, p.frameCount), c.temporalPatchSize) : [];
  return {
    kind: s.kind, frames, frameCount: originals.length, width: p.width, height: p.height, resize, grid,
    normalization: normalizationFor(c), tokens: p.tokens, times,
  };
}

function padTimes(times: readonly number[], count: number): number[] {
  const out = [...times];
  while (out.length < count) out.push(out[out.length - 1]);
  return out;
}
