import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { bf16ToF32, f16ToF32, f32ToF16, toF32, toF32Padded, toHalfPacked } from '../src/loader/dtype.ts';
import { MemorySource } from '../src/loader/file-source.ts';
import { readSafetensorsHeader } from '../src/loader/safetensors.ts';

const u16Bytes = (bits: number[]) => new Uint8Array(Uint16Array.from(bits).buffer);
const f32Bytes = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
const f32BitsBytes = (bits: number[]) => new Uint8Array(Uint32Array.from(bits).buffer);
const isF16NaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
/** The f16 patterns of a packed result, in column order, padding included. */
const halvesOf = (words: Uint32Array) => [...new Uint16Array(words.buffer, words.byteOffset, words.length * 2)];

test('f16ToF32 on known bit patterns', () => {
  assert.equal(f16ToF32(0x3c00), 1);
  assert.equal(f16ToF32(0xc000), -2);
  assert.equal(f16ToF32(0x3555), 0.333251953125);
  assert.equal(f16ToF32(0x7bff), 65504);
  assert.equal(f16ToF32(0x0400), 2 ** -14);
  assert.equal(f16ToF32(0x0001), 2 ** -24);
  assert.equal(f16ToF32(0x03ff), 1023 * 2 ** -24);
  assert.equal(f16ToF32(0x8001), -(2 ** -24));
  assert.equal(f16ToF32(0x7c00), Infinity);
  assert.equal(f16ToF32(0xfc00), -Infinity);
  assert.ok(Number.isNaN(f16ToF32(0x7e00)));
  assert.ok(Number.isNaN(f16ToF32(0x7c01)));
  assert.ok(Object.is(f16ToF32(0x8000), -0));
});

test('bf16ToF32 on known bit patterns', () => {
  assert.equal(bf16ToF32(0x3f80), 1);
  assert.equal(bf16ToF32(0xc000), -2);
  assert.equal(bf16ToF32(0x3f81), 1 + 2 ** -7);
  assert.equal(bf16ToF32(0x7f80), Infinity);
  assert.equal(bf16ToF32(0xff80), -Infinity);
  assert.equal(bf16ToF32(0x0001), 2 ** -133);
  assert.ok(Number.isNaN(bf16ToF32(0x7fc0)));
});

test('f32ToF16: exact values, overflow, infinities, NaN, signed zero', () => {
  assert.equal(f32ToF16(1), 0x3c00);
  assert.equal(f32ToF16(-2), 0xc000);
  assert.equal(f32ToF16(65504), 0x7bff);
  assert.equal(f32ToF16(65519), 0x7bff); // just below the tie with 65520
  assert.equal(f32ToF16(65520), 0x7c00); // tie between 65504 (odd) and 65536 → even, which is Inf
  assert.equal(f32ToF16(1e6), 0x7c00);
  assert.equal(f32ToF16(-1e6), 0xfc00);
  assert.equal(f32ToF16(Infinity), 0x7c00);
  assert.equal(f32ToF16(-Infinity), 0xfc00);
  assert.ok(isF16NaN(f32ToF16(NaN)));
  assert.equal(f32ToF16(0), 0x0000);
  assert.equal(f32ToF16(-0), 0x8000);
});

test('f32ToF16 rounds to nearest, ties to even, in the normal range', () => {
  assert.equal(f32ToF16(1 + 2 ** -11), 0x3c00); // tie, 0x3c00 even
  assert.equal(f32ToF16(1 + 3 * 2 ** -11), 0x3c02); // tie, 0x3c02 even
  assert.equal(f32ToF16(1 + 2 ** -11 + 2 ** -20), 0x3c01); // just above the tie
  assert.equal(f32ToF16(1 + 2 ** -11 - 2 ** -20), 0x3c00);
  assert.equal(f32ToF16(2 - 2 ** -12), 0x4000); // mantissa carry into the exponent
});

test('f32ToF16 rounds subnormals correctly', () => {
  assert.equal(f32ToF16(2 ** -14), 0x0400);
  assert.equal(f32ToF16(2 ** -24), 0x0001);
  assert.equal(f32ToF16(2 ** -25), 0x0000); // tie between 0 and the smallest subnormal → 0
  assert.equal(f32ToF16(2 ** -25 + 2 ** -40), 0x0001);
  assert.equal(f32ToF16(3 * 2 ** -25), 0x0002); // tie between 1 and 2 ulps → 2
  assert.equal(f32ToF16(5 * 2 ** -25), 0x0002); // tie between 2 and 3 ulps → 2
  assert.equal(f32ToF16(2 ** -14 - 2 ** -25), 0x0400); // tie between the largest subnormal and the smallest normal
  assert.equal(f32ToF16(1e-10), 0x0000);
  assert.equal(f32ToF16(-1e-10), 0x8000);
  assert.equal(f32ToF16(-(2 ** -24)), 0x8001);
});

test('every finite float16 survives f16 → f32 → f16', () => {
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue;
    assert.equal(f32ToF16(f16ToF32(h)), h, `0x${h.toString(16)}`);
  }
});

test('bf16 → f16 packs the nearest half for every bf16 value', () => {
  const all = Array.from({ length: 0x10000 }, (_, b) => b);
  const halves = halvesOf(toHalfPacked(u16Bytes(all), 'BF16', 1, all.length));
  for (const b of all) {
    const x = bf16ToF32(b);
    const h = halves[b];
    if (Number.isNaN(x)) {
      assert.ok(isF16NaN(h), `NaN 0x${b.toString(16)}`);
      continue;
    }
    const got = f16ToF32(h);
    assert.equal((h & 0x8000) !== 0, x < 0 || Object.is(x, -0), `sign of 0x${b.toString(16)}`);
    if (Math.abs(x) >= 65520) {
      assert.equal(got, x > 0 ? Infinity : -Infinity, `overflow 0x${b.toString(16)}`);
      continue;
    }
    // Nearest: neither neighbour of h is closer; on a tie h is even.
    const error = Math.abs(got - x);
    for (const neighbour of [h - 1, h + 1]) {
      if ((neighbour & 0x7fff) > 0x7c00 || (neighbour & 0x8000) !== (h & 0x8000)) continue;
      const other = Math.abs(f16ToF32(neighbour) - x);
      assert.ok(error < other || (error === other && (h & 1) === 0), `0x${b.toString(16)} → 0x${h.toString(16)}`);
    }
  }
});

test('bf16 → f16 on known patterns: exact normals, subnormal ties, overflow, NaN', () => {
  const cases: [number, number][] = [
    [0x3f80, 0x3c00], // 1
    [0x3f81, 0x3c08], // 1 + 2^-7, exact
    [0x477f, 0x7bf8], // 65280, exact
    [0x4780, 0x7c00], // 65536 → Inf
    [0xc780, 0xfc00], // −65536 → −Inf
    [0x7f80, 0x7c00],
    [0xff80, 0xfc00],
    [0x8000, 0x8000],
    [0x3380, 0x0001], // 2^-24
    [0x3300, 0x0000], // 2^-25: tie → 0
    [0x33a0, 0x0001], // 1.25 · 2^-24 → 1 ulp
    [0x33c0, 0x0002], // 1.5 · 2^-24: tie → 2
    [0x3420, 0x0002], // 2.5 · 2^-24: tie → 2
    [0x3460, 0x0004], // 3.5 · 2^-24: tie → 4
    [0x3581, 0x0010], // 2^-20 · (1 + 2^-7) → 16 ulps
    [0x3880, 0x0400], // 2^-14
    [0x0001, 0x0000], // bf16 subnormal → 0
  ];
  const halves = halvesOf(toHalfPacked(u16Bytes(cases.map(([b]) => b)), 'BF16', 1, cases.length));
  cases.forEach(([b, h], i) => assert.equal(halves[i], h, `bf16 0x${b.toString(16)}`));
  const [nan] = halvesOf(toHalfPacked(u16Bytes([0x7fc0, 0]), 'BF16', 1, 2));
  assert.ok(isF16NaN(nan));
  // A NaN whose payload sits only in bits that float16 drops stays NaN.
  const [lowPayloadNaN] = halvesOf(toHalfPacked(f32BitsBytes([0x7f800001, 0]), 'F32', 1, 2));
  assert.ok(isF16NaN(lowPayloadNaN));
});

test('toHalfPacked layout: low half = even column, odd rows padded with +0', () => {
  // rows 2, cols 3, values 1..6 → words per row: [c1|c0], [0|c2]
  const h = [1, 2, 3, 4, 5, 6].map(f32ToF16);
  const expected = [h[1] << 16 | h[0], h[2], h[4] << 16 | h[3], h[5]].map((w) => w >>> 0);
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    const bytes = dtype === 'F32' ? f32Bytes([1, 2, 3, 4, 5, 6]) : dtype === 'F16' ? u16Bytes(h) : u16Bytes([0x3f80, 0x4000, 0x4040, 0x4080, 0x40a0, 0x40c0]);
    assert.deepEqual([...toHalfPacked(bytes, dtype, 2, 3)], expected, dtype);
  }
  assert.deepEqual([...toHalfPacked(u16Bytes(h.slice(0, 4)), 'F16', 2, 2)], [h[1] << 16 | h[0], h[3] << 16 | h[2]].map((w) => w >>> 0));
  assert.deepEqual([...toHalfPacked(u16Bytes([0x3c00]), 'F16', 1, 1)], [0x3c00]);
});

test('toF32Padded layout: row stride 2·ceil(cols/2), zero padding', () => {
  assert.deepEqual([...toF32Padded(f32Bytes([1, 2, 3, 4, 5, 6]), 'F32', 2, 3)], [1, 2, 3, 0, 4, 5, 6, 0]);
  assert.deepEqual([...toF32Padded(u16Bytes([0x3c00, 0xc000, 0x0001]), 'F16', 3, 1)], [1, 0, -2, 0, 2 ** -24, 0]);
  assert.deepEqual([...toF32Padded(u16Bytes([0x3f80, 0x4000, 0x4040, 0x4080]), 'BF16', 2, 2)], [1, 2, 3, 4]);
});

test('toF32 widens every dtype exactly and keeps NaN bits', () => {
  assert.deepEqual([...toF32(u16Bytes([0x3f80, 0xbf81, 0x0001, 0xff80]), 'BF16')], [1, -(1 + 2 ** -7), 2 ** -133, -Infinity]);
  assert.deepEqual([...toF32(u16Bytes([0x3555, 0x03ff, 0x8000]), 'F16')], [0.333251953125, 1023 * 2 ** -24, -0]);
  assert.deepEqual([...toF32(f32Bytes([1.5, -3e-40]), 'F32')], [1.5, Math.fround(-3e-40)]);
  const nan = toF32(u16Bytes([0x7e01]), 'F16');
  assert.equal(new Uint32Array(nan.buffer)[0], 0x7fc02000);
});

test('misaligned input bytes are read correctly', () => {
  const backing = new Uint8Array(1 + 8);
  backing.set(f32Bytes([1.5, -2]), 1);
  const bytes = backing.subarray(1);
  assert.deepEqual([...toF32(bytes, 'F32')], [1.5, -2]);
  assert.deepEqual(halvesOf(toHalfPacked(bytes, 'F32', 1, 2)), [0x3e00, 0xc000]);
  const halves = new Uint8Array(1 + 4);
  halves.set(u16Bytes([0x3c00, 0x4000]), 1);
  assert.deepEqual([...toF32(halves.subarray(1), 'F16')], [1, 2]);
});

test('a byte count that does not match rows × cols is rejected', () => {
  assert.throws(() => toHalfPacked(new Uint8Array(10), 'BF16', 2, 3), RangeError);
  assert.throws(() => toF32Padded(new Uint8Array(8), 'F32', 1, 3), RangeError);
  assert.throws(() => toF32(new Uint8Array(3), 'F16'), RangeError);
});

test('fixture BF16 weights convert to float16 exactly, as the fixtures README promises', async () => {
  const file = new URL('../../shared/fixtures/qwen35-realdims-2l/model.safetensors', import.meta.url).pathname;
  const bytes = new Uint8Array(readFileSync(file));
  const header = await readSafetensorsHeader(new MemorySource(new Map([['m', bytes]])), 'm');
  for (const t of header.tensors.values()) {
    if (t.dtype !== 'BF16') continue;
    const raw = bytes.subarray(t.begin, t.end);
    const count = raw.byteLength / 2;
    const packed = toHalfPacked(raw, 'BF16', 1, count);
    const widened = toF32(new Uint8Array(packed.buffer, 0, raw.byteLength), 'F16');
    assert.deepEqual(widened, toF32(raw, 'BF16'), t.name);
  }
});
