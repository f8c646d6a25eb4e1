// Attachments: images and video clips the user adds to a message, from a file, a paste, a drop or
// the camera. Each is checked in the page before it is sent, so a broken file gets its own error:
// images are decoded once with createImageBitmap (the engine decodes them again in its worker
// from the blob: URL); video files are decoded here (frames sampled and resized as the model's
// processor does, the resizing in a worker) and kept as one Blob, outside the JS heap, which every
// send reads into a fresh ArrayBuffer and transfers to the engine's worker, so frames are never
// copied by postMessage however often the conversation is resent.
import type { ChatMessage, ContentPart, RawImage, VideoInput, VisionInfo } from '../api.ts';
import type { FrameFitter } from '../vision/browser-capture.ts';
import { decodeVideoFile } from '../vision/browser-capture.ts';
import { MAX_SIDE } from '../vision/decode.ts';
import { MAX_ASPECT_RATIO, smartResize } from '../vision/smart-resize.ts';

/** Larger pictures are refused in the page: decoding one takes gigabytes of canvas memory. */
export const MAX_IMAGE_PIXELS = 100e6;

interface Common {
  id: number;
  name: string;
  state: 'loading' | 'ready' | 'error';
  /** What went wrong, in words for the user (state 'error'). */
  error: string;
  /** Visual tokens the model's processor gives it before any cap. */
  tokens: number;
}

export interface ImageAttachment extends Common {
  kind: 'image';
  /** A blob: URL of the file: the thumbnail, and what the image_url part carries. */
  url: string;
  width: number;
  height: number;
}

/** A clip's frames, packed into one Blob: RGB, `width × height × 3` bytes each. */
export interface StoredClip {
  blob: Blob;
  width: number;
  height: number;
  timestamps: number[];
}

export interface VideoAttachment extends Common {
  kind: 'video';
  from: 'file' | 'camera';
  /** A blob: URL of the first frame as a small JPEG, once known. */
  poster: string;
  seconds: number;
  frames: number;
  /** Frames decoded so far of those planned, while loading. */
  progress: { done: number; total: number };
  clip: StoredClip | null;
  /** Stops a decode still running (the attachment was removed). */
  abort: AbortController;
}

export type Attachment = ImageAttachment | VideoAttachment;

let nextId = 1;

const problem = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('. Attach')[0];

/** Whether a file is something the model can be given: an image or a video, by its type or name. */
export function kindOf(file: File): 'image' | 'video' | null {
  if (file.type.startsWith('image/') || /\.(png|jpe?g|gif|webp|avif|bmp)$/i.test(file.name)) return 'image';
  if (file.type.startsWith('video/') || /\.(webm|mp4|m4v|mov|ogv|mkv)$/i.test(file.name)) return 'video';
  return null;
}

/** An image file as an attachment still to be checked (checkImage). */
export function pendingImage(file: File): ImageAttachment {
  return { id: nextId++, kind: 'image', name: file.name || 'Pasted image', state: 'loading', error: '', tokens: 0, url: URL.createObjectURL(file), width: 0, height: 0 };
}

/** Checks an image file decodes and has a shape the model can take. Never throws: failures become the attachment's error. */
export async function checkImage(attachment: ImageAttachment, file: File, vision: VisionInfo): Promise<ImageAttachment> {
  try {
    const bitmap = await createImageBitmap(file);
    attachment.width = bitmap.width;
    attachment.height = bitmap.height;
    bitmap.close();
  } catch {
    return Object.assign(attachment, { state: 'error', error: 'This file can’t be read as an image; it may be damaged or in a format this browser doesn’t open.' });
  }
  const { width: w, height: h } = attachment;
  const fail = (error: string) => Object.assign(attachment, { state: 'error' as const, error });
  if (w > MAX_SIDE || h > MAX_SIDE || w * h > MAX_IMAGE_PIXELS) return fail(`Too large: ${w}×${h} pixels. Images up to ${MAX_IMAGE_PIXELS / 1e6} megapixels and ${MAX_SIDE} pixels a side are accepted.`);
  if (Math.max(w, h) / Math.min(w, h) > MAX_ASPECT_RATIO) return fail(`Too narrow: ${w}×${h} is more than ${MAX_ASPECT_RATIO} times longer than wide. Crop it first.`);
  const [rh, rw] = smartResize(h, w, vision.factor, vision.image.minPixels, vision.image.maxPixels);
  return Object.assign(attachment, { state: 'ready' as const, tokens: (rh * rw) / vision.factor ** 2 });
}

/** A video attachment whose frames are still to come; `onChange` is called as it progresses. */
export function pendingVideo(name: string, from: VideoAttachment['from']): VideoAttachment {
  return {
    id: nextId++, kind: 'video', from, name, state: 'loading', error: '', tokens: 0, poster: '', seconds: 0, frames: 0,
    progress: { done: 0, total: 0 }, clip: null, abort: new AbortController(),
  };
}

/** Decodes a video file into the attachment (frames sampled at the processor's rate). Never throws. */
export async function decodeVideoAttachment(attachment: VideoAttachment, file: File, vision: VisionInfo, fit: FrameFitter, onChange: () => void): Promise<void> {
  try {
    const video = await decodeVideoFile(file, vision, {
      signal: attachment.abort.signal, fit,
      onProgress: (done, total) => {
        attachment.progress = { done, total };
        onChange();
      },
    });
    await storeClip(attachment, video, vision);
  } catch (e) {
    if (attachment.abort.signal.aborted) return;
    Object.assign(attachment, { state: 'error', error: `This video can’t be decoded: ${problem(e)}.` });
  }
  onChange();
}

/** Packs decoded frames into the attachment's Blob and poster, and counts its tokens. */
export async function storeClip(attachment: VideoAttachment, video: VideoInput, vision: VisionInfo): Promise<void> {
  const frames = video.frames as RawImage[];
  const { width, height } = frames[0];
  const timestamps = video.timestamps ?? frames.map((_, i) => i / vision.video.fps);
  attachment.clip = { blob: new Blob(frames.map((f) => f.data as BlobPart)), width, height, timestamps };
  attachment.frames = frames.length;
  attachment.seconds = timestamps[timestamps.length - 1] - timestamps[0];
  const groups = Math.ceil(Math.max(frames.length, vision.video.temporalPatchSize) / vision.video.temporalPatchSize);
  attachment.tokens = (groups * width * height) / vision.factor ** 2;
  attachment.poster = URL.createObjectURL(await posterOf(frames[0]));
  attachment.state = 'ready';
}

/** A frame as a JPEG of at most 320 pixels a side, for thumbnails. */
async function posterOf(frame: RawImage): Promise<Blob> {
  const rgba = new Uint8ClampedArray(frame.width * frame.height * 4);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgba[i] = frame.data[j];
    rgba[i + 1] = frame.data[j + 1];
    rgba[i + 2] = frame.data[j + 2];
    rgba[i + 3] = 255;
  }
  const full = await createImageBitmap(new ImageData(rgba, frame.width, frame.height));
  const scale = Math.min(1, 320 / Math.max(frame.width, frame.height));
  const canvas = new OffscreenCanvas(Math.max(1, Math.round(frame.width * scale)), Math.max(1, Math.round(frame.height * scale)));
  canvas.getContext('2d')!.drawImage(full, 0, 0, canvas.width, canvas.height);
  full.close();
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
}

/** The content part an attachment sends, and the buffers to transfer with it. */
export async function partOf(attachment: Attachment): Promise<{ part: ContentPart; transfer: ArrayBuffer[] }> {
  if (attachment.kind === 'image') return { part: { type: 'image_url', image_url: { url: attachment.url } }, transfer: [] };
  const clip = attachment.clip!;
  const buffer = await clip.blob.arrayBuffer();
  const frameBytes = clip.width * clip.height * 3;
  const frames = clip.timestamps.map((_, i): RawImage => ({ width: clip.width, height: clip.height, data: new Uint8Array(buffer, i * frameBytes, frameBytes) }));
  return { part: { type: 'video', video: { frames, timestamps: clip.timestamps } }, transfer: [buffer] };
}

/** Frees what an attachment holds in the page (its object URLs; a running decode stops). */
export function discard(attachment: Attachment): void {
  if (attachment.kind === 'image') URL.revokeObjectURL(attachment.url);
  else {
    attachment.abort.abort();
    if (attachment.poster) URL.revokeObjectURL(attachment.poster);
  }
}

/** "0:07" */
export function clock(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A short description: "1280×720 · 920 tokens", "0:04 · 8 frames · 96 tokens". */
export function describeAttachment(a: Attachment): string {
  const tokens = `${a.tokens.toLocaleString('en-US')} token${a.tokens === 1 ? '' : 's'}`;
  if (a.kind === 'image') return `${a.width}×${a.height} · ${tokens}`;
  return `${clock(a.seconds)} · ${a.frames} frame${a.frames === 1 ? '' : 's'} · ${tokens}`;
}

/** A user turn as the chat keeps it: text and attachments, turned into a message at each send. */
export interface UserTurn {
  role: 'user';
  text: string;
  attachments: Attachment[];
}

/**
 * The turn as an OpenAI-shaped message (attachments first, then the text; a lone text part as a
 * plain string, the form every chat template reads) and the frame buffers to transfer with it.
 */
export async function messageOf(turn: UserTurn): Promise<{ message: ChatMessage; transfer: ArrayBuffer[] }> {
  const parts = await Promise.all(turn.attachments.map(partOf));
  const content: ContentPart[] = [...parts.map((p) => p.part), ...(turn.text ? [{ type: 'text' as const, text: turn.text }] : [])];
  return { message: { role: 'user', content: parts.length === 0 ? turn.text : content }, transfer: parts.flatMap((p) => p.transfer) };
}
