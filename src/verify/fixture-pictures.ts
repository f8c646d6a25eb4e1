// Where verify's pictures come from. A fixture that ships PNG files (image.png, video_frame_NNN.png:
// the Qwen3-VL format) is checked from those: decoded the way this runtime decodes an image —
// in a browser the product's image_url path (createImageBitmap + OffscreenCanvas), in Node our
// PNG decoder — and compared exactly with the reference's image_rgb / video_rgb. Fixtures without
// PNGs start from those raw tensors.
import { ConfigError } from '../loader/errors.ts';
import type { FileSource } from '../loader/file-source.ts';
import { decodeImageUrl } from '../vision/decode.ts';
import { decodePng } from '../vision/png.ts';
import type { RgbImage } from '../vision/resize.ts';

/** The reference.safetensors reads this needs (ReferenceTensors in verify-fixture.ts). */
export interface PictureReader {
  has(name: string): boolean;
  shape(name: string): number[];
  i32(name: string): Promise<Int32Array>;
}

export interface FixturePictures {
  /** Per image, its one frame; per video, its frames. */
  images: RgbImage[][];
  videos: RgbImage[][];
  /** 'png' when the fixture's PNG files were the input, 'reference' for the raw tensors. */
  source: 'png' | 'reference';
  /** PNG input only: whether every decoded pixel equals the reference tensor's. */
  pngExact: boolean | null;
}

/** Probes name(0), name(1), … until one is missing. */
async function numbered(source: FileSource, name: (i: number) => string): Promise<string[]> {
  const found: string[] = [];
  while ((await source.size(name(found.length))) !== null) found.push(name(found.length));
  return found;
}

const pad = (i: number) => String(i).padStart(3, '0');

/** In a browser, a PNG goes through the same decoder an image_url part does; Node has none, so ours. */
async function decodeFile(source: FileSource, path: string): Promise<RgbImage> {
  const size = (await source.size(path))!;
  const bytes = await source.read(path, 0, size);
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') return decodePng(bytes, path);
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'image/png' }));
  try {
    return await decodeImageUrl(url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

export const pngDecoderName = (): string => (typeof createImageBitmap === 'function' && typeof OffscreenCanvas === 'function'
  ? 'createImageBitmap + OffscreenCanvas (the image_url path)'
  : 'src/vision/png.ts');

export async function fixturePictures(source: FileSource, reference: PictureReader, log: (line: string) => void): Promise<FixturePictures> {
  const fromReference = { images: await rawPictures(reference, 'image_rgb'), videos: await rawPictures(reference, 'video_rgb', true) };
  const imageFiles = (await source.size('image.png')) !== null ? ['image.png'] : await numbered(source, (i) => `image_${pad(i)}.png`);
  const frameFiles = await numbered(source, (i) => `video_frame_${pad(i)}.png`);
  if (imageFiles.length + frameFiles.length === 0) {
    if (fromReference.images.length + fromReference.videos.length) log('pictures: from reference.safetensors (image_rgb / video_rgb): the fixture ships no PNG files');
    return { ...fromReference, source: 'reference', pngExact: null };
  }
  log(`pictures: from the fixture's PNG files (${imageFiles.length + frameFiles.length}), checked against reference.safetensors`);
  let exact = true;
  const load = async (files: string[], expected: RgbImage[][], tensor: string): Promise<RgbImage[][]> => {
    const flat = expected.flat();
    if (files.length === 0 && flat.length === 0) return [];
    if (files.length !== flat.length) {
      throw new ConfigError('reference.safetensors', `the fixture has ${files.length} PNG file(s) for ${tensor}, which holds ${flat.length} picture(s)`);
    }
    const decoded = await Promise.all(files.map((f) => decodeFile(source, f)));
    const same = decoded.every((d, i) => d.width === flat[i].width && d.height === flat[i].height && d.data.every((v, j) => v === flat[i].data[j]));
    exact &&= same;
    log(`${same ? 'PIXELS OK ' : 'PIXELS BAD'} ${files.length === 1 ? files[0] : `${files[0]} … ${files[files.length - 1]}`} decoded by ${pngDecoderName()}: ${same ? 'equal' : 'differ from'} ${tensor} exactly`);
    // The PNG pixels are the input, regrouped as the reference groups them.
    let next = 0;
    return expected.map((item) => item.map(() => decoded[next++]));
  };
  const images = await load(imageFiles, fromReference.images, 'image_rgb');
  const videos = await load(frameFiles, fromReference.videos, 'video_rgb');
  return { images, videos, source: 'png', pngExact: exact };
}

/**
 * The raw pictures of a fixture as lists of frames: `image_rgb` is [H, W, 3] (one image) or
 * [n, H, W, 3]; `video_rgb` is [F, H, W, 3] (one video) or [n, F, H, W, 3]. Values are I32 0..255.
 */
async function rawPictures(reference: PictureReader, name: string, video = false): Promise<RgbImage[][]> {
  if (!reference.has(name)) return [];
  const shape = reference.shape(name);
  const single = video ? 4 : 3;
  if ((shape.length !== single && shape.length !== single + 1) || shape[shape.length - 1] !== 3) {
    throw new ConfigError('reference.safetensors', `${name} has shape [${shape}]; expected [${video ? 'F, ' : ''}H, W, 3] or a list of those`);
  }
  const values = await reference.i32(name);
  const [height, width] = shape.slice(-3, -1);
  const framesPerItem = video ? shape[shape.length - 4] : 1;
  const items = shape.length === single ? 1 : shape[0];
  const frameBytes = height * width * 3;
  return Array.from({ length: items }, (_, i) => Array.from({ length: framesPerItem }, (_, f) => {
    const start = (i * framesPerItem + f) * frameBytes;
    return { width, height, data: Uint8Array.from(values.subarray(start, start + frameBytes)) };
  }));
}
