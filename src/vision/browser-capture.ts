// Browser-only helpers that turn a video file or a webcam into the engine's VideoInput (frames plus
// their times), sampled the way the loaded model's video processor samples: pass
// `modelInfo.vision`. Each frame is resized to the processor's size as soon as it is read (the same
// exact resampling the engine would do), so a long clip holds its processed size in memory, not
// its decoded one. They need a document (an HTMLVideoElement), so they run in the page; the
// resizing, the CPU-heavy part, can run elsewhere (`fit`: the embed uses a worker), and the
// VideoInput they return is plain data to send to the engine's worker.
import type { RawImage, VideoInput, VisionInfo } from '../api.ts';
import { pixelsOf } from './decode.ts';
import { VideoInputError } from './errors.ts';
import { RESIZE_BACKENDS } from './preprocess.ts';
import type { Resample } from './processor-config.ts';
import { resizeRgb, type RgbImage } from './resize.ts';
import { smartResizeVideo } from './smart-resize.ts';
import { linspace } from './video-sampling.ts';

export type VideoSampling = Pick<VisionInfo['video'], 'fps' | 'minFrames' | 'maxFrames'>;

/** Turns one decoded frame into RGB at width × height with the video processor's resampling; closes the bitmap. */
export type FrameFitter = (frame: ImageBitmap, width: number, height: number, resample: Resample) => Promise<RgbImage>;

/** The default FrameFitter, on this thread (a page or a worker: it needs only OffscreenCanvas). */
export async function fitFrame(frame: ImageBitmap, width: number, height: number, resample: Resample): Promise<RgbImage> {
  try {
    return resizeRgb(pixelsOf(frame, 'A video frame'), width, height, resample, RESIZE_BACKENDS.video);
  } finally {
    frame.close();
  }
}

/** The processor's frame size for a `count`-frame clip of width × height frames: [height, width]. */
function fittedSize(info: VisionInfo, count: number, width: number, height: number): [number, number] {
  const v = info.video;
  return smartResizeVideo(Math.max(count, v.temporalPatchSize), height, width, v.temporalPatchSize, info.factor, v.minPixels, v.maxPixels);
}

export interface CaptureOptions {
  signal?: AbortSignal;
  /** Give up on a video that does not load or seek within this many milliseconds (default 20000). */
  timeoutMs?: number;
  /** Called after each frame: frames done, frames planned. */
  onProgress?: (done: number, total: number) => void;
  /** Where frames are resized (default fitFrame, here). */
  fit?: FrameFitter;
}

/** Reads the frame a video element shows and fits it, pixels resized off this thread when `fit` says so. */
async function grab(video: HTMLVideoElement, size: [number, number], info: VisionInfo, options: CaptureOptions, what: string): Promise<RawImage> {
  if (!(video.videoWidth > 0 && video.videoHeight > 0)) throw new VideoInputError(`${what} decoded to an empty picture`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(video);
  } catch (e) {
    throw new VideoInputError(`${what} could not be read (${(e as Error).message})`);
  }
  return (options.fit ?? fitFrame)(bitmap, size[1], size[0], info.video.resample);
}

/** Waits for one of `ok` on the element, failing on its error event, the timeout or the signal. */
function once(target: HTMLVideoElement, ok: string, what: string, options: CaptureOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 20000;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      target.removeEventListener(ok, onOk);
      target.removeEventListener('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onOk = () => finish();
    const onError = () => finish(new VideoInputError(`The video could not be decoded while ${what} (${target.error?.message || `media error ${target.error?.code ?? 'unknown'}`})`));
    const onAbort = () => finish(options.signal!.reason instanceof Error ? options.signal!.reason : new VideoInputError('Decoding the video was aborted'));
    const timer = setTimeout(() => finish(new VideoInputError(`The video did not respond within ${timeoutMs} ms while ${what}`)), timeoutMs);
    target.addEventListener(ok, onOk);
    target.addEventListener('error', onError);
    options.signal?.addEventListener('abort', onAbort);
  });
}

/** Frames the processor keeps from a clip of `duration` seconds: `fps` per second, within [minFrames, maxFrames]. */
export function sampleTimes(duration: number, sampling: VideoSampling): number[] {
  const count = Math.min(Math.max(Math.trunc(duration * sampling.fps), sampling.minFrames), sampling.maxFrames);
  // Seeking to the very end shows nothing in some browsers; stop a millisecond short.
  return linspace(0, Math.max(0, duration - 1e-3), count);
}

/**
 * Decodes a video file (a Blob/File or a URL) by seeking an HTMLVideoElement to the times the
 * model's video processor would sample and reading each frame through a canvas. The result's
 * timestamps make the engine keep exactly these frames (at the size they already have) and write
 * their times into the prompt.
 */
export async function decodeVideoFile(file: Blob | string, info: VisionInfo, options: CaptureOptions = {}): Promise<VideoInput> {
  if (typeof document === 'undefined') throw new VideoInputError('decodeVideoFile needs a page (an HTMLVideoElement); call it there and send the frames to the worker');
  const url = typeof file === 'string' ? file : URL.createObjectURL(file);
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.preload = 'auto';
  video.crossOrigin = 'anonymous';
  try {
    const loaded = once(video, 'loadeddata', 'loading it', options);
    video.src = url;
    await loaded;
    let duration = video.duration;
    if (duration === Infinity) {
      // MediaRecorder's WebM files state no duration; seeking past the end makes the browser find it.
      const seeked = once(video, 'seeked', 'finding its end', options);
      video.currentTime = Number.MAX_SAFE_INTEGER;
      await seeked;
      duration = video.duration;
    }
    if (!Number.isFinite(duration) || duration < 0) throw new VideoInputError(`The video reports no usable duration (${duration}); re-encode it with a known length`);
    if (!(video.videoWidth > 0 && video.videoHeight > 0)) throw new VideoInputError('The file has no video track');
    const times = sampleTimes(duration, info.video);
    const size = fittedSize(info, times.length, video.videoWidth, video.videoHeight);
    // Each frame is resized while the next one is sought: at most one in flight.
    const frames: RawImage[] = [];
    let pending: Promise<void> = Promise.resolve();
    for (const [i, t] of times.entries()) {
      const seeked = once(video, 'seeked', `seeking to ${t.toFixed(2)} s`, options);
      video.currentTime = t;
      await seeked;
      const fitted = grab(video, size, info, options, `The frame at ${t.toFixed(2)} s`).then((frame) => {
        frames[i] = frame;
        options.onProgress?.(i + 1, times.length);
      });
      fitted.catch(() => undefined); // its error surfaces when awaited below, not as an unhandled rejection meanwhile
      await pending;
      pending = fitted;
    }
    await pending;
    return { frames, timestamps: times };
  } finally {
    video.removeAttribute('src');
    video.load();
    if (typeof file !== 'string') URL.revokeObjectURL(url);
  }
}

/**
 * Records up to `seconds` of a live stream (e.g. from getUserMedia) as frames taken every 1/fps
 * seconds at the processor's fps, each with its capture time, from an HTMLVideoElement playing it.
 * `stop` ends the recording early and keeps the frames so far; `signal` abandons it.
 */
export async function captureWebcam(stream: MediaStream, seconds: number, info: VisionInfo, options: CaptureOptions & { stop?: AbortSignal } = {}): Promise<VideoInput> {
  if (typeof document === 'undefined') throw new VideoInputError('captureWebcam needs a page (an HTMLVideoElement)');
  if (!(seconds > 0)) throw new VideoInputError(`A webcam clip needs a positive length (got ${seconds} s)`);
  const sampling = info.video;
  const count = Math.min(Math.max(Math.round(seconds * sampling.fps), sampling.minFrames), sampling.maxFrames);
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  try {
    const ready = once(video, 'loadeddata', 'starting the camera', options);
    video.srcObject = stream;
    await video.play();
    await ready;
    const size = fittedSize(info, count, video.videoWidth, video.videoHeight);
    const frames: Promise<RawImage>[] = [];
    const timestamps: number[] = [];
    const start = performance.now();
    for (let i = 0; i < count && !(i > 0 && options.stop?.aborted); i++) {
      const due = start + (i * 1000) / sampling.fps;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(0, due - performance.now()));
        options.stop?.addEventListener('abort', done, { once: true });
        function done() {
          clearTimeout(timer);
          options.stop?.removeEventListener('abort', done);
          resolve();
        }
      });
      if (options.signal?.aborted) throw new VideoInputError('The webcam capture was aborted');
      if (i > 0 && options.stop?.aborted) break;
      timestamps.push((performance.now() - start) / 1000);
      const frame = grab(video, size, info, options, `Webcam frame ${i}`).then((f) => (options.onProgress?.(i + 1, count), f));
      frame.catch(() => undefined); // surfaces in Promise.all below
      frames.push(frame);
    }
    return { frames: await Promise.all(frames), timestamps };
  } finally {
    video.pause();
    video.srcObject = null;
  }
}
