// A PNG decoder for runtimes without createImageBitmap (Node): 8-bit and lower greyscale, grey +
// alpha, RGB, RGBA and palette images, every scanline filter, Adam7 interlacing, chunk CRCs
// checked. Output is RGB with alpha dropped, as PIL's convert('RGB') gives. Inflate is the
// platform's DecompressionStream, so no dependency and no node: import. Browsers decode through
// createImageBitmap instead (decode.ts), as image_url parts do.
import { ImageInputError } from './errors.ts';
import { MAX_SIDE } from './decode.ts';
import type { RgbImage } from './resize.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Colour type → channels per pixel (PNG spec, table 11.1). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Colour type → allowed bit depths; 16-bit samples are refused below. */
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** Adam7 passes: [x start, y start, x step, y step]. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

let crcTable: Uint32Array | null = null;

/** The CRC-32 of PNG chunks (ISO 3309, as zlib computes it). */
export function crc32(bytes: Uint8Array): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const b of bytes) crc = crcTable[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colourType: number;
  interlaced: boolean;
}

/** Decodes PNG file bytes to RGB; `what` names the file in errors. */
export async function decodePng(bytes: Uint8Array, what = 'The PNG file'): Promise<RgbImage> {
  const fail = (problem: string): never => {
    throw new ImageInputError(`${what}: ${problem}`);
  };
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) fail('not a PNG file (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | null = null;
  let palette: Uint8Array | null = null;
  const data: Uint8Array[] = [];
  let ended = false;
  for (let at = 8; !ended;) {
    if (at + 12 > bytes.length) fail('truncated (no IEND chunk)');
    const length = view.getUint32(at);
    if (at + 12 + length > bytes.length) fail('truncated inside a chunk');
    const typeAndBody = bytes.subarray(at + 4, at + 8 + length);
    const type = String.fromCharCode(...typeAndBody.subarray(0, 4));
    if (crc32(typeAndBody) !== view.getUint32(at + 8 + length)) fail(`the ${type} chunk fails its CRC check (the file is damaged)`);
    const body = typeAndBody.subarray(4);
    if (type === 'IHDR') {
      if (length !== 13) fail('IHDR has the wrong length');
      header = { width: view.getUint32(at + 8), height: view.getUint32(at + 12), depth: body[8], colourType: body[9], interlaced: body[12] === 1 };
      if (body[10] !== 0 || body[11] !== 0 || body[12] > 1) fail('unknown compression, filter or interlace method');
    } else if (!header) fail('the first chunk is not IHDR');
    else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') ended = true;
    else if (!(typeAndBody[0] & 0x20)) fail(`unknown critical chunk ${type}`);
    at += 12 + length;
  }
  const h = header!;
  if (!(h.colourType in CHANNELS) || !DEPTHS[h.colourType].includes(h.depth)) fail(`colour type ${h.colourType} with bit depth ${h.depth} is not valid PNG`);
  if (h.depth === 16) fail('16-bit samples are not supported; save it with 8 bits per channel');
  if (h.width < 1 || h.height < 1 || h.width > MAX_SIDE || h.height > MAX_SIDE) fail(`size ${h.width}×${h.height} is outside 1…${MAX_SIDE}`);
  if (h.colourType === 3 && (!palette || palette.length % 3 !== 0)) fail('a palette image without a valid PLTE chunk');
  if (data.length === 0) fail('no image data (IDAT)');

  const raw = await inflate(data, what);
  const out = new Uint8Array(h.width * h.height * 3);
  const passes = h.interlaced ? ADAM7 : [[0, 0, 1, 1] as const];
  let offset = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((h.width - x0) / dx);
    const rows = Math.ceil((h.height - y0) / dy);
    if (w <= 0 || rows <= 0) continue;
    const stride = Math.ceil((w * CHANNELS[h.colourType] * h.depth) / 8);
    const size = rows * (stride + 1);
    if (offset + size > raw.length) fail('the image data is shorter than its size says');
    const lines = unfilter(raw.subarray(offset, offset + size), rows, stride, Math.max(1, (CHANNELS[h.colourType] * h.depth) >> 3), what);
    for (let r = 0; r < rows; r++) writeRow(lines.subarray(r * stride, (r + 1) * stride), w, h, palette, out, (y0 + r * dy) * h.width, x0, dx, what);
    offset += size;
  }
  return { width: h.width, height: h.height, data: out };
}

async function inflate(chunks: Uint8Array[], what: string): Promise<Uint8Array> {
  try {
    const stream = new Blob(chunks as BlobPart[]).stream().pipeThrough(new DecompressionStream('deflate'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new ImageInputError(`${what}: the compressed image data is damaged (${(e as Error).message})`);
  }
}

/** Undoes the per-scanline filters in place; returns the rows without their filter bytes. */
function unfilter(data: Uint8Array, rows: number, stride: number, bpp: number, what: string): Uint8Array {
  const out = new Uint8Array(rows * stride);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (stride + 1)];
    const line = data.subarray(r * (stride + 1) + 1, (r + 1) * (stride + 1));
    const cur = out.subarray(r * stride, (r + 1) * stride);
    const prev = r > 0 ? out.subarray((r - 1) * stride, r * stride) : null;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0;
      const b = prev ? prev[i] : 0;
      const c = prev && i >= bpp ? prev[i - bpp] : 0;
      let predicted: number;
      if (type === 0) predicted = 0;
      else if (type === 1) predicted = a;
      else if (type === 2) predicted = b;
      else if (type === 3) predicted = (a + b) >> 1;
      else if (type === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else throw new ImageInputError(`${what}: unknown scanline filter ${type} (the file is damaged)`);
      cur[i] = (line[i] + predicted) & 0xff;
    }
  }
  return out;
}

/** One unfiltered row of `w` pixels → RGB at out[(rowStart + x0 + i·dx) · 3]. */
function writeRow(line: Uint8Array, w: number, h: Header, palette: Uint8Array | null, out: Uint8Array, rowStart: number, x0: number, dx: number, what: string): void {
  const channels = CHANNELS[h.colourType];
  const sample = (i: number): number => {
    if (h.depth === 8) return line[i];
    const perByte = 8 / h.depth;
    return (line[Math.floor(i / perByte)] >> ((perByte - 1 - (i % perByte)) * h.depth)) & ((1 << h.depth) - 1);
  };
  // Sub-byte greyscale scales to 0..255 (PIL's L;1/L;2/L;4 raw modes give the same).
  const grey = h.depth === 8 ? 1 : 255 / ((1 << h.depth) - 1);
  for (let i = 0; i < w; i++) {
    const o = (rowStart + x0 + i * dx) * 3;
    if (h.colourType === 3) {
      const index = sample(i);
      if (index * 3 + 2 >= palette!.length) throw new ImageInputError(`${what}: palette index ${index} is outside its ${palette!.length / 3}-colour palette`);
      out.set(palette!.subarray(index * 3, index * 3 + 3), o);
    } else if (channels <= 2) {
      out.fill(sample(i * channels) * grey, o, o + 3);
    } else {
      out[o] = line[i * channels];
      out[o + 1] = line[i * channels + 1];
      out[o + 2] = line[i * channels + 2];
    }
  }
}
