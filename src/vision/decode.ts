import type { RawImage } from '../api.ts';
import { ImageInputError } from './errors.ts';
import type { RgbImage } from './resize.ts';

/** Largest side accepted before decoding anything (the browser's own canvas limits are near this). */
export const MAX_SIDE = 32768;

/** Validates caller pixels and drops alpha: RGBA becomes RGB, as PIL's convert('RGB') does. */
export function rgbFromRaw(image: RawImage, what = 'The image'): RgbImage {
  const { width, height, data } = image ?? ({} as RawImage);
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new ImageInputError(`${what} has size ${width}×${height}; width and height must be positive integers`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE) throw new ImageInputError(`${what} is ${width}×${height}; sides above ${MAX_SIDE} pixels are not accepted`);
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) throw new ImageInputError(`${what}'s data must be a Uint8Array or Uint8ClampedArray`);
  const pixels = width * height;
  if (data.length === pixels * 3) return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  if (data.length !== pixels * 4) throw new ImageInputError(`${what} is ${width}×${height} but has ${data.length} bytes; expected ${pixels * 3} (RGB) or ${pixels * 4} (RGBA)`);
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    rgb[i * 3] = data[i * 4];
    rgb[i * 3 + 1] = data[i * 4 + 1];
    rgb[i * 3 + 2] = data[i * 4 + 2];
  }
  return { width, height, data: rgb };
}

/**
 * Fetches and decodes an image URL (http(s), data:, blob:) with createImageBitmap and an
 * OffscreenCanvas, so it works in a page and in a worker; pixels are read without colour
 * management or premultiplication, as PIL reads files. Node has neither API: pass pixels there.
 */
export async function decodeImageUrl(url: string, signal?: AbortSignal): Promise<RgbImage> {
  if (typeof url !== 'string' || url === '') throw new ImageInputError('An image URL is empty');
  const shown = url.length > 80 ? `${url.slice(0, 77)}...` : url;
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') {
    throw new ImageInputError(`Cannot decode ${shown}: this runtime has no createImageBitmap/OffscreenCanvas (Node); pass decoded pixels as {width, height, data}`);
  }
  let blob: Blob;
  try {
    const response = await fetch(url, { signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    blob = await response.blob();
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ImageInputError(`Could not fetch ${shown} (${(e as Error).message})`);
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new ImageInputError(`Could not decode ${shown} as an image (${(e as Error).message}); the file is damaged or not an image format this browser reads`);
  }
  try {
    return pixelsOf(bitmap, shown);
  } finally {
    bitmap.close();
  }
}

/** The RGB pixels of anything a 2-D canvas can draw (an ImageBitmap, a video frame, a <video>). */
export function pixelsOf(source: CanvasImageSource & { width?: number; height?: number; displayWidth?: number; displayHeight?: number; videoWidth?: number; videoHeight?: number }, what: string): RgbImage {
  const width = Number(source.videoWidth ?? source.displayWidth ?? source.width);
  const height = Number(source.videoHeight ?? source.displayHeight ?? source.height);
  if (!(width >= 1 && height >= 1)) throw new ImageInputError(`${what} decoded to an empty picture (${width}×${height})`);
  if (width > MAX_SIDE || height > MAX_SIDE) throw new ImageInputError(`${what} is ${width}×${height}; sides above ${MAX_SIDE} pixels are not accepted`);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new ImageInputError(`No 2-D canvas is available to read ${what}`);
  context.drawImage(source, 0, 0, width, height);
  return rgbFromRaw(context.getImageData(0, 0, width, height, { colorSpace: 'srgb' }), what);
}
