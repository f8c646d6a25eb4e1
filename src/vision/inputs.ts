import type { ChatMessage, ContentPart, RawImage, VideoInput } from '../api.ts';
import { decodeImageUrl, rgbFromRaw } from './decode.ts';
import { ImageInputError, VideoInputError } from './errors.ts';
import type { VisualSource } from './preprocess.ts';
import type { VideoProcessorConfig } from './processor-config.ts';
import type { RgbImage } from './resize.ts';
import { sampleFrameIndices } from './video-sampling.ts';

/** transformers' frame rate for frames given without one (it warns and assumes 24). */
export const DEFAULT_CLIP_FPS = 24;

type ImagePart = Extract<ContentPart, { type: 'image' | 'image_url' }>;
type VideoPart = Extract<ContentPart, { type: 'video' }>;

/** The image and video parts of a conversation, each in message order. */
export function visualParts(messages: readonly ChatMessage[]): { images: ImagePart[]; videos: VideoPart[] } {
  const images: ImagePart[] = [];
  const videos: VideoPart[] = [];
  for (const m of messages) {
    if (typeof m.content === 'string' || !Array.isArray(m.content)) continue;
    for (const part of m.content) {
      if (part.type === 'image' || part.type === 'image_url') images.push(part);
      else if (part.type === 'video') videos.push(part);
    }
  }
  return { images, videos };
}

/**
 * The messages as the chat template should see them: image and video parts reduced to their type
 * (the template only emits a placeholder for them), so pixel arrays never pass through Jinja.
 */
export function templateMessages(messages: readonly ChatMessage[]): ChatMessage[] {
  return messages.map((m) => (typeof m.content === 'string' || !Array.isArray(m.content)
    ? m
    : { ...m, content: m.content.map((p) => (p.type === 'text' ? p : ({ type: p.type === 'image_url' ? 'image' : p.type } as ContentPart))) }));
}

async function decodeSource(source: RawImage | string, what: string, signal?: AbortSignal): Promise<RgbImage> {
  return typeof source === 'string' ? decodeImageUrl(source, signal) : rgbFromRaw(source, what);
}

export async function decodeImagePart(part: ImagePart, index: number, signal?: AbortSignal): Promise<VisualSource> {
  const source = part.type === 'image_url' ? part.image_url?.url : part.image;
  if (source === undefined || source === null) throw new ImageInputError(`Image ${index + 1} has no ${part.type === 'image_url' ? 'image_url.url' : 'image'}`);
  return { kind: 'image', image: await decodeSource(source, `Image ${index + 1}`, signal) };
}

/**
 * The frames the video processor keeps and their times: with do_sample_frames, `fps` per second
 * of the clip between min_frames and max_frames; every frame otherwise. Times are frame index /
 * clip fps (or the given timestamps). Only the kept frames are decoded.
 */
export function selectFrames(video: VideoInput, config: VideoProcessorConfig): { indices: number[]; times: number[] } {
  const n = video.frames.length;
  const stamps = video.timestamps;
  if (stamps !== undefined) {
    if (!Array.isArray(stamps) || stamps.length !== n) throw new VideoInputError(`A video has ${n} frames but ${stamps?.length ?? 0} timestamps`);
    if (!stamps.every((t, i) => Number.isFinite(t) && t >= 0 && (i === 0 || t >= stamps[i - 1]))) throw new VideoInputError('Video timestamps must be finite, non-negative seconds in non-decreasing order');
  }
  const fps = video.fps ?? (stamps && n > 1 && stamps[n - 1] > stamps[0] ? (n - 1) / (stamps[n - 1] - stamps[0]) : DEFAULT_CLIP_FPS);
  if (!(fps > 0) || !Number.isFinite(fps)) throw new VideoInputError(`A video's fps must be a positive number (got ${video.fps})`);
  const indices = config.doSampleFrames ? sampleFrameIndices(n, fps, config) : Array.from({ length: n }, (_, i) => i);
  return { indices, times: indices.map((i) => (stamps ? stamps[i] - stamps[0] : i / fps)) };
}

export async function decodeVideoPart(part: VideoPart, index: number, config: VideoProcessorConfig, signal?: AbortSignal): Promise<VisualSource> {
  const video: VideoInput = Array.isArray(part.video) ? { frames: part.video } : part.video;
  if (!video || !Array.isArray(video.frames) || video.frames.length === 0) throw new VideoInputError(`Video ${index + 1} has no frames`);
  const { indices, times } = selectFrames(video, config);
  const frames: RgbImage[] = [];
  for (const i of indices) {
    try {
      frames.push(await decodeSource(video.frames[i], `Frame ${i} of video ${index + 1}`, signal));
    } catch (e) {
      if (e instanceof ImageInputError) throw new VideoInputError(`Video ${index + 1}: ${e.message.split('. Attach')[0]}`);
      throw e;
    }
  }
  return { kind: 'video', frames, frameTimes: times };
}
