import { ImageInputError, VideoInputError } from './errors.ts';

/** Python's round(): halves go to the even neighbour (round(2.5) = 2, round(3.5) = 4). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff !== 0.5) return diff < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** HF refuses images and videos more than 200 times longer than wide. */
export const MAX_ASPECT_RATIO = 200;

/**
 * Qwen2-VL's smart_resize as transformers computes it: both sides multiples of `factor` (patch ×
 * merge), rounded half to even, then scaled by √(area ratio) into [minPixels, maxPixels]
 * (down: floored, at least one factor; up: ceiled). A 1×1 image becomes the smallest square
 * within minPixels, as in Python.
 */
export function smartResize(height: number, width: number, factor: number, minPixels: number, maxPixels: number): [number, number] {
  const aspect = Math.max(height, width) / Math.min(height, width);
  if (aspect > MAX_ASPECT_RATIO) throw new ImageInputError(`A ${width}×${height} image is ${aspect.toFixed(1)} times longer than wide; at most ${MAX_ASPECT_RATIO} is accepted (crop it)`);
  let h = roundHalfEven(height / factor) * factor;
  let w = roundHalfEven(width / factor) * factor;
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return [h, w];
}

/**
 * Qwen3-VL's video smart_resize: sides below `factor` are first scaled up to it (truncated), and
 * the pixel bounds apply to frames × height × width, with the frame count rounded to a multiple
 * of the temporal patch size.
 */
export function smartResizeVideo(
  frames: number, height: number, width: number, temporalFactor: number, factor: number, minPixels: number, maxPixels: number,
): [number, number] {
  if (frames < temporalFactor) throw new VideoInputError(`${frames} frame(s) cannot fill a temporal patch of ${temporalFactor}`);
  if (height < factor || width < factor) {
    const scale = Math.max(factor / height, factor / width);
    height = Math.trunc(height * scale);
    width = Math.trunc(width * scale);
  }
  const aspect = Math.max(height, width) / Math.min(height, width);
  if (aspect > MAX_ASPECT_RATIO) throw new VideoInputError(`${width}×${height} frames are ${aspect.toFixed(1)} times longer than wide; at most ${MAX_ASPECT_RATIO} is accepted`);
  let h = roundHalfEven(height / factor) * factor;
  let w = roundHalfEven(width / factor) * factor;
  const t = roundHalfEven(frames / temporalFactor) * temporalFactor;
  if (t * h * w > maxPixels) {
    const beta = Math.sqrt((frames * height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (t * h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (frames * height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return [h, w];
}
