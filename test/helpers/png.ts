// A small PNG writer for tests: any colour type and bit depth, a chosen filter per scanline, and
// Adam7 interlacing, so the decoder (src/vision/png.ts) meets every case. Filtering follows the
// PNG spec's equations written out separately from the decoder's; zlib comes from node:zlib.
import { deflateSync } from 'node:zlib';
import { crc32 } from '../../src/vision/png.ts';

export interface PngSpec {
  width: number;
  height: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  colourType: 0 | 2 | 3 | 4 | 6;
  depth?: 1 | 2 | 4 | 8 | 16;
  /** Samples row-major, `channels` per pixel (palette: indices); 16-bit samples are 0..65535. */
  samples: ArrayLike<number>;
  palette?: Uint8Array;
  /** The filter of scanline r (default 0), counted across all passes. */
  filter?: (row: number) => number;
  interlaced?: boolean;
}

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  out.set([...type].map((ch) => ch.charCodeAt(0)), 4);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/** Packs one row of samples at `depth` bits, most significant bits first. */
function packRow(values: number[], depth: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((values.length * depth) / 8));
  values.forEach((v, i) => {
    if (depth === 16) {
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 255;
    } else if (depth === 8) out[i] = v;
    else out[(i * depth) >> 3] |= v << (8 - depth - ((i * depth) & 7));
  });
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function filterRow(type: number, row: Uint8Array, prev: Uint8Array | null, bpp: number): Uint8Array {
  const out = new Uint8Array(row.length + 1);
  out[0] = type;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = prev ? prev[i] : 0;
    const c = prev && i >= bpp ? prev[i - bpp] : 0;
    const predictor = [0, a, b, Math.floor((a + b) / 2), paeth(a, b, c)][type];
    out[i + 1] = (row[i] - predictor + 256) % 256;
  }
  return out;
}

export function encodePng(spec: PngSpec): Uint8Array {
  const { width, height, colourType } = spec;
  const depth = spec.depth ?? 8;
  const channels = CHANNELS[colourType];
  const bpp = Math.max(1, (channels * depth) >> 3);
  const passes = spec.interlaced ? ADAM7 : [[0, 0, 1, 1]];
  const lines: Uint8Array[] = [];
  let rowCount = 0;
  for (const [x0, y0, dx, dy] of passes) {
    let prev: Uint8Array | null = null;
    for (let y = y0; y < height; y += dy) {
      const values: number[] = [];
      for (let x = x0; x < width; x += dx) for (let ch = 0; ch < channels; ch++) values.push(spec.samples[(y * width + x) * channels + ch]);
      if (values.length === 0) break;
      const row = packRow(values, depth);
      lines.push(filterRow(spec.filter?.(rowCount++) ?? 0, row, prev, bpp));
      prev = row;
    }
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([depth, colourType, 0, 0, spec.interlaced ? 1 : 0], 8);
  const raw = new Uint8Array(lines.reduce((n, l) => n + l.length, 0));
  lines.reduce((at, l) => (raw.set(l, at), at + l.length), 0);
  const parts = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), chunk('IHDR', ihdr),
    ...(spec.palette ? [chunk('PLTE', spec.palette)] : []),
    // Split the data over two IDAT chunks, as encoders do for large images.
    ...splitIdat(deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

function splitIdat(data: Uint8Array): Uint8Array[] {
  const half = Math.ceil(data.length / 2);
  return [chunk('IDAT', data.subarray(0, half)), chunk('IDAT', data.subarray(half))];
}

/** An RGB image as a PNG (filters cycling through all five types). */
export function rgbPng(image: { width: number; height: number; data: ArrayLike<number> }): Uint8Array {
  return encodePng({ width: image.width, height: image.height, colourType: 2, samples: image.data, filter: (r) => r % 5 });
}
