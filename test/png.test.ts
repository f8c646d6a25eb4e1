// The PNG decoder verify uses in Node: every colour type and low bit depth, all five filters,
// Adam7, damaged files as typed errors, and the Qwen3-VL fixtures' PNGs equal to their raw pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { ImageInputError } from '../src/vision/errors.ts';
import { decodePng } from '../src/vision/png.ts';
import { FIXTURES, openSafetensors } from './helpers/fixtures.ts';
import { encodePng, rgbPng, type PngSpec } from './helpers/png.ts';

/** Deterministic samples with every bit pattern a depth allows. */
function samples(count: number, max: number): number[] {
  return Array.from({ length: count }, (_, i) => (i * 37 + ((i * i) >> 3)) % (max + 1));
}

/** What PIL's convert('RGB') gives for a spec: grey replicated (scaled to 8 bits), palette looked up, alpha dropped. */
function expectedRgb(s: PngSpec): number[] {
  const depth = s.depth ?? 8;
  const out: number[] = [];
  for (let p = 0; p < s.width * s.height; p++) {
    if (s.colourType === 3) out.push(...s.palette!.subarray(s.samples[p] * 3, s.samples[p] * 3 + 3));
    else if (s.colourType === 0 || s.colourType === 4) {
      const ch = s.colourType === 0 ? 1 : 2;
      out.push(...Array(3).fill((s.samples[p * ch] * 255) / ((1 << depth) - 1)));
    } else {
      const ch = s.colourType === 2 ? 3 : 4;
      out.push(s.samples[p * ch], s.samples[p * ch + 1], s.samples[p * ch + 2]);
    }
  }
  return out;
}

test('every colour type, bit depth, filter and interlacing decodes to the right RGB', async () => {
  const palette = Uint8Array.from(samples(16 * 3, 255));
  const cases: Omit<PngSpec, 'samples' | 'width' | 'height'>[] = [
    { colourType: 2 }, { colourType: 6 }, { colourType: 0 }, { colourType: 4 },
    { colourType: 0, depth: 1 }, { colourType: 0, depth: 2 }, { colourType: 0, depth: 4 },
    { colourType: 3, depth: 8, palette }, { colourType: 3, depth: 4, palette }, { colourType: 3, depth: 2, palette }, { colourType: 3, depth: 1, palette },
  ];
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;
  for (const base of cases) {
    // Odd sizes (partial bytes per row, Adam7 passes of unequal and empty widths) and a round one.
    for (const [width, height] of [[13, 7], [1, 1], [3, 9], [16, 16]]) {
      for (const interlaced of [false, true]) {
        const depth = base.depth ?? 8;
        const max = base.colourType === 3 ? 15 >> (4 - Math.min(depth, 4)) : (1 << depth) - 1;
        const spec: PngSpec = { ...base, width, height, interlaced, samples: samples(width * height * channels[base.colourType], max), filter: (r) => (r * 3 + width) % 5 };
        const got = await decodePng(encodePng(spec));
        const label = `type ${base.colourType} depth ${depth} ${width}×${height}${interlaced ? ' interlaced' : ''}`;
        assert.deepEqual([got.width, got.height], [width, height], label);
        assert.deepEqual(Array.from(got.data), expectedRgb(spec), label);
      }
    }
  }
});

test('damaged and unsupported files are typed errors that say what is wrong', async () => {
  const good = rgbPng({ width: 5, height: 4, data: samples(60, 255) });
  const reject = (bytes: Uint8Array, message: RegExp) => assert.rejects(decodePng(bytes, 'photo.png'), (e: unknown) => e instanceof ImageInputError && e.code === 'bad-image' && message.test(e.message));
  await reject(new TextEncoder().encode('GIF89a not a png'), /photo\.png: not a PNG file/);
  await reject(good.subarray(0, good.length - 20), /truncated/);
  const flipped = good.slice();
  flipped[45] ^= 0x10; // inside the first IDAT's data
  await reject(flipped, /IDAT chunk fails its CRC check/);
  await reject(encodePng({ width: 2, height: 2, colourType: 2, depth: 16, samples: samples(12, 65535) }), /16-bit samples are not supported/);
  await reject(encodePng({ width: 2, height: 2, colourType: 2, samples: samples(12, 255), filter: () => 7 }), /unknown scanline filter 7/);
  await reject(encodePng({ width: 2, height: 1, colourType: 3, samples: [0, 5], palette: Uint8Array.of(1, 2, 3) }), /palette index 5/);
});

test('the Qwen3-VL fixtures ship PNGs that decode to exactly their image_rgb / video_rgb', async () => {
  for (const [name, tensor, files] of [
    ['qwen3vl-tiny-image', 'image_rgb', ['image.png']],
    ['qwen3vl-tiny-video', 'video_rgb', [0, 1, 2, 3].map((i) => `video_frame_00${i}.png`)],
  ] as const) {
    const dir = new URL(`${name}/`, FIXTURES);
    if (!existsSync(dir)) continue;
    const raw = (await openSafetensors(dir, 'reference.safetensors')).i32(tensor);
    const decoded = await Promise.all(files.map((f) => decodePng(new Uint8Array(readFileSync(new URL(f, dir))), f)));
    const all = decoded.flatMap((img) => Array.from(img.data));
    assert.equal(all.length, raw.length, name);
    assert.ok(all.every((v, i) => v === raw[i]), `${name}: decoded PNG pixels equal ${tensor}`);
  }
});
