import type { VideoProcessorConfig } from './processor-config.ts';
import { roundHalfEven } from './smart-resize.ts';

/** numpy.linspace(start, stop, num) with the endpoint, in numpy's own arithmetic order. */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  const out = Array.from({ length: num }, (_, i) => (step === 0 ? (i / div) * delta : i * step) + start);
  out[num - 1] = stop;
  return out;
}

/**
 * Qwen3VLVideoProcessor.sample_frames: `fps` frames per second of the clip, at least min_frames and
 * at most max_frames (never more than the clip has), spread evenly from the first frame to the last
 * and rounded half to even as numpy does.
 */
export function sampleFrameIndices(totalFrames: number, clipFps: number, config: VideoProcessorConfig): number[] {
  const wanted = Math.trunc((totalFrames / clipFps) * config.fps);
  const n = Math.min(Math.max(wanted, config.minFrames), config.maxFrames, totalFrames);
  return linspace(0, totalFrames - 1, n).map(roundHalfEven);
}

/**
 * Qwen3VLProcessor._calculate_timestamps: each frame's time in seconds, the list padded to whole
 * temporal patches by repeating the last frame, then the mean of each patch's first and last frame.
 */
export function temporalPatchTimes(frameTimes: readonly number[], temporalPatchSize: number): number[] {
  const times = [...frameTimes];
  while (times.length % temporalPatchSize !== 0) times.push(times[times.length - 1]);
  const out: number[] = [];
  for (let i = 0; i < times.length; i += temporalPatchSize) out.push((times[i] + times[i + temporalPatchSize - 1]) / 2);
  return out;
}

/**
 * Python's f"<{t:.1f} seconds>". toFixed rounds exact ties (0.25, 0.75, … the only decimals with
 * a tie at one digit that a double holds exactly) up; Python rounds them to even.
 */
export function timestampText(seconds: number): string {
  const quarters = seconds * 4;
  let text: string;
  if (Number.isInteger(quarters) && quarters % 2 !== 0) {
    const tenthsBelow = Math.floor(seconds * 10);
    text = ((tenthsBelow % 2 === 0 ? tenthsBelow : tenthsBelow + 1) / 10).toFixed(1);
  } else text = seconds.toFixed(1);
  return `<${text} seconds>`;
}
