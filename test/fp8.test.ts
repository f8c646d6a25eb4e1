// Block-wise FP8: the e4m3 decoder, the CPU dequantization against transformers' own (the fixture's
// fp8_dequant_example), and the GPU dequant kernel against the CPU on odd sizes, non-square blocks,
// chunk and part boundaries, in both weight storages; then the header rules and their errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openCheckpoint, SINGLE_FILE, type Checkpoint } from '../src/loader/checkpoint.ts';
import { parseQwen35Config } from '../src/loader/config.ts';
import { bf16ToF32, toF32, toF32Padded, toHalfPacked } from '../src/loader/dtype.ts';
import { CheckpointError, ConfigError } from '../src/loader/errors.ts';
import { MemorySource } from '../src/loader/file-source.ts';
import { fp8RowsToF32, fp8TensorOf, type Fp8Tensor } from '../src/loader/fp8.ts';
import type { Fp8Quantization } from '../src/loader/quantization.ts';
import { readBuffer } from '../src/gpu/buffers.ts';
import type { GpuContext, WeightStorage } from '../src/gpu/context.ts';
import { allocateMatrix, type GpuMatrix } from '../src/gpu/weights.ts';
import { encodeRows } from '../src/gpu/weight-formats.ts';
import type { MlpWeights } from '../src/layers/mlp.ts';
import { loadWeights } from '../src/model/load-weights.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { Fp8Uploader } from '../src/model/fp8-upload.ts';
import { Qwen35Model } from '../src/model/qwen35.ts';
import { decodeE4M3, dequantFp8 } from '../src/reference/fp8.ts';
import { openSafetensors } from './helpers/fixtures.ts';
import { testContext, watchBuffers } from './helpers/gpu.ts';
import { packTensors, type TensorData } from './helpers/safetensors.ts';

const FP8_FIXTURE = new URL('../../shared/fixtures/qwen3vl-tiny-fp8/', import.meta.url);

test('e4m3: every byte decodes exactly (subnormals, bias 7, ±448, NaN)', () => {
  assert.equal(decodeE4M3(0x00), 0);
  assert.ok(Object.is(decodeE4M3(0x80), -0));
  assert.equal(decodeE4M3(0x01), 2 ** -9, 'smallest subnormal');
  assert.equal(decodeE4M3(0x07), 7 * 2 ** -9, 'largest subnormal');
  assert.equal(decodeE4M3(0x08), 2 ** -6, 'smallest normal');
  assert.equal(decodeE4M3(0x38), 1);
  assert.equal(decodeE4M3(0x3d), 1.625);
  assert.equal(decodeE4M3(0x7e), 448);
  assert.equal(decodeE4M3(0xfe), -448);
  assert.ok(Number.isNaN(decodeE4M3(0x7f)) && Number.isNaN(decodeE4M3(0xff)));
  // Positive codes are strictly increasing, and each negative code mirrors its positive one.
  for (let b = 1; b < 0x7f; b++) assert.ok(decodeE4M3(b) > decodeE4M3(b - 1), `byte ${b}`);
  for (let b = 0; b < 0x7f; b++) assert.equal(decodeE4M3(b | 0x80), -decodeE4M3(b));
});

test('CPU dequantization equals transformers on the fixture weight, bit for bit', async () => {
  const weights = await openSafetensors(FP8_FIXTURE, 'model.safetensors');
  const reference = await openSafetensors(FP8_FIXTURE, 'reference.safetensors');
  const meta = JSON.parse(readFileSync(new URL('reference.json', FP8_FIXTURE), 'utf8'));
  const module: string = meta.quantization.dequant_example.module;
  const { info, bytes } = weights.raw(`${module}.weight`);
  const scale = weights.f32(`${module}.weight_scale_inv`);
  const [rows, cols] = info.shape;
  const got = dequantFp8(bytes, scale, rows, cols, [128, 128]);
  assert.deepEqual(got, reference.f32('fp8_dequant_example'));
});

test('the loader\'s CPU dequantization (FP8 → q8/q4) equals the reference: every code, odd shapes, rows from mid-tensor', () => {
  for (const [rows, cols, block, rowStart] of [[7, 33, [4, 16], 0], [5, 128, [128, 128], 3], [9, 10, [2, 3], 4]] as [number, number, [number, number], number][]) {
    const fp8 = randomFp8((rowStart + rows) * cols, rows + cols);
    const scale = Float32Array.from(randomScalesBf16(Math.ceil((rowStart + rows) / block[0]) * Math.ceil(cols / block[1]), cols), bf16ToF32);
    const tensor = { weight: { name: 'w', file: SINGLE_FILE, dtype: 'F8_E4M3', shape: [rowStart + rows, cols], begin: 0, end: 0 }, scale: { name: 'w_scale_inv', file: SINGLE_FILE, dtype: 'BF16', shape: [0, 0], begin: 0, end: 0 }, block } as Fp8Tensor;
    const want = dequantFp8(fp8, scale, rowStart + rows, cols, block).subarray(rowStart * cols);
    assert.deepEqual(fp8RowsToF32(tensor, scale, fp8.subarray(rowStart * cols), rowStart, rows), want, `${rows}×${cols} from row ${rowStart}`);
  }
});

test('FP8 loaded as q8: the stored codes are the q8 encoding of the dequantized rows, gate and up interleaved', async () => {
  const ctx = await testContext('f16');
  const source = new NodeDirSource(FP8_FIXTURE.pathname);
  const config = parseQwen35Config(JSON.parse(readFileSync(new URL('config.json', FP8_FIXTURE), 'utf8')));
  const checkpoint = await openCheckpoint(source);
  const weights = await loadWeights(ctx, checkpoint, config, { weights: { format: 'q8' } });
  const { gateUp } = weights.layers[1].mlp as MlpWeights;
  assert.equal(gateUp.format, 'q8');
  const file = await openSafetensors(FP8_FIXTURE, 'model.safetensors');
  const dequant = (name: string) => {
    const { info, bytes } = file.raw(name);
    return dequantFp8(bytes, file.f32(`${name}_scale_inv`), info.shape[0], info.shape[1], config.quantization!.blockSize);
  };
  const [gate, up] = ['gate_proj', 'up_proj'].map((p) => dequant(`model.language_model.layers.1.mlp.${p}.weight`));
  const interleaved = new Float32Array(gate.length * 2);
  const cols = gateUp.cols;
  for (let r = 0; r < gateUp.rows / 2; r++) {
    interleaved.set(gate.subarray(r * cols, (r + 1) * cols), 2 * r * cols);
    interleaved.set(up.subarray(r * cols, (r + 1) * cols), (2 * r + 1) * cols);
  }
  const want = encodeRows(interleaved, gateUp.rows, gateUp);
  const [part] = gateUp.parts;
  assert.deepEqual(new Uint32Array(await readBuffer(ctx.device, part.buffer)), want.words);
  assert.deepEqual(new Uint32Array(await readBuffer(ctx.device, part.scales!)), want.scales);
  ctx.pool.destroyAll();
});

/** Deterministic e4m3 bytes without NaN, and bf16-exact scales spread over 2^-10 .. 2^2. */
function randomFp8(count: number, seed: number): Uint8Array {
  const out = new Uint8Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const b = s & 0xff;
    out[i] = (b & 0x7f) === 0x7f ? b ^ 1 : b;
  }
  return out;
}

function randomScalesBf16(count: number, seed: number): Uint16Array {
  const bytes = randomFp8(count * 2, seed);
  return Uint16Array.from({ length: count }, (_, i) => (0x3a80 + ((bytes[2 * i] << 8 | bytes[2 * i + 1]) % 0x600)) & 0xffff);
}

interface Fp8Case { name: string; rows: number; cols: number; block: [number, number]; fp8: Uint8Array; scale: Uint16Array }

function fp8Case(name: string, rows: number, cols: number, block: [number, number], seed: number): Fp8Case {
  const scaleCount = Math.ceil(rows / block[0]) * Math.ceil(cols / block[1]);
  return { name, rows, cols, block, fp8: randomFp8(rows * cols, seed), scale: randomScalesBf16(scaleCount, seed + 1) };
}

async function checkpointOf(cases: Fp8Case[]): Promise<Checkpoint> {
  const tensors: Record<string, TensorData> = {};
  for (const c of cases) {
    tensors[c.name] = { dtype: 'F8_E4M3', shape: [c.rows, c.cols], data: c.fp8 };
    tensors[`${c.name}_scale_inv`] = { dtype: 'BF16', shape: [Math.ceil(c.rows / c.block[0]), Math.ceil(c.cols / c.block[1])], data: new Uint8Array(c.scale.buffer) };
  }
  return openCheckpoint(new MemorySource(new Map([[SINGLE_FILE, packTensors(tensors)]])));
}

/**
 * The matrix's parts read back and joined, as raw 32-bit words in the pair layout (each stored
 * row's zero padding to whole 32-value units checked, then dropped).
 */
async function readMatrix(ctx: GpuContext, m: GpuMatrix): Promise<Uint32Array> {
  const parts = await Promise.all(m.parts.map(async (p) => new Uint32Array(await readBuffer(ctx.device, p.buffer))));
  const pairWords = m.pairs * (m.format === 'f16' ? 1 : 2);
  const out = new Uint32Array(m.rows * pairWords);
  let row = 0;
  for (const p of parts) {
    for (let r = 0; r < p.length / m.rowWords; r++, row++) {
      const stored = p.subarray(r * m.rowWords, (r + 1) * m.rowWords);
      assert.ok(stored.subarray(pairWords).every((w) => w === 0), `row ${row}: padding stays zero`);
      out.set(stored.subarray(0, pairWords), row * pairWords);
    }
  }
  return out;
}

/** What the loader would upload for float32 values already dequantized on the CPU. */
function storageWords(values: Float32Array, rows: number, cols: number, storage: WeightStorage): Uint32Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return storage === 'f16' ? toHalfPacked(bytes, 'F32', rows, cols) : new Uint32Array(toF32Padded(bytes, 'F32', rows, cols).buffer);
}

for (const storage of ['f16', 'f32'] as const) {
  test(`GPU dequant (${storage}) equals the CPU bit for bit: odd sizes, non-square and oversized blocks, chunks, parts, fused rows`, async () => {
    // A matrix row is 40 columns (stored as 64): 8 rows per part, so most matrices span several parts; 150-byte
    // chunks end mid-block. Three tensors are fused by rows, as q/k/v are.
    for (const [cols, block] of [[40, [8, 16]], [40, [3, 7]], [40, [128, 128]]] as [number, [number, number]][]) {
      const ctx = await testContext(storage, 9 * 64 * (storage === 'f16' ? 2 : 4));
      const cases = [fp8Case('a.weight', 37, cols, block, 1), fp8Case('b.weight', 5, cols, block, 2), fp8Case('c.weight', 19, cols, block, 3)];
      const checkpoint = await checkpointOf(cases);
      const quantization: Fp8Quantization = { method: 'fp8', blockSize: block, modulesToNotConvert: [] };
      const rows = cases.reduce((n, c) => n + c.rows, 0);
      const m = allocateMatrix(ctx, 'fused', rows, cols);
      assert.ok(m.parts.length > 2);
      const uploader = await Fp8Uploader.create(ctx, 150);
      let rowBase = 0;
      const expected = new Float32Array(rows * cols);
      let loaded = 0;
      for (const c of cases) {
        await uploader.upload(m, rowBase, 1, checkpoint, fp8TensorOf(checkpoint, c.name, quantization)!, undefined, (n) => (loaded += n));
        const scale = Float32Array.from(c.scale, bf16ToF32);
        expected.set(dequantFp8(c.fp8, scale, c.rows, c.cols, c.block), rowBase * cols);
        rowBase += c.rows;
      }
      uploader.destroy();
      assert.equal(loaded, rows * cols, 'every byte reported once');
      assert.deepEqual(await readMatrix(ctx, m), storageWords(expected, rows, cols, storage), `block ${block}`);
      ctx.pool.destroyAll();
    }
  });

  test(`GPU dequant (${storage}) interleaves two tensors row by row across parts, as the MLP's gate and up`, async () => {
    const cols = 33;
    const ctx = await testContext(storage, 5 * 64 * 4);
    const block: [number, number] = [4, 16];
    const cases = [fp8Case('gate.weight', 11, cols, block, 4), fp8Case('up.weight', 11, cols, block, 5)];
    const checkpoint = await checkpointOf(cases);
    const quantization: Fp8Quantization = { method: 'fp8', blockSize: block, modulesToNotConvert: [] };
    const m = allocateMatrix(ctx, 'gate_up', 22, cols);
    assert.ok(m.parts.length > 2 && m.parts.every((p) => p.rowStart % 2 === 0), 'parts start at even rows');
    const uploader = await Fp8Uploader.create(ctx, 100);
    const expected = new Float32Array(22 * cols);
    for (const [i, c] of cases.entries()) {
      await uploader.upload(m, i, 2, checkpoint, fp8TensorOf(checkpoint, c.name, quantization)!, undefined, () => {});
      const values = dequantFp8(c.fp8, Float32Array.from(c.scale, bf16ToF32), c.rows, c.cols, c.block);
      for (let r = 0; r < c.rows; r++) expected.set(values.subarray(r * cols, (r + 1) * cols), (2 * r + i) * cols);
    }
    uploader.destroy();
    assert.deepEqual(await readMatrix(ctx, m), storageWords(expected, 22, cols, storage));
    ctx.pool.destroyAll();
  });

  test(`GPU dequant (${storage}): every e4m3 code, and odd columns padded with zero`, async () => {
    const ctx = await testContext(storage);
    const codes = Uint8Array.from({ length: 255 }, (_, i) => (i === 0x7f ? 0 : i));
    const one = new Uint16Array([0x3f80]); // bf16 1.0
    const c: Fp8Case = { name: 'codes.weight', rows: 15, cols: 17, block: [128, 128], fp8: codes, scale: one };
    const checkpoint = await checkpointOf([c]);
    const m = allocateMatrix(ctx, 'codes', 15, 17);
    const uploader = await Fp8Uploader.create(ctx, 1 << 20);
    await uploader.upload(m, 0, 1, checkpoint, fp8TensorOf(checkpoint, c.name, { method: 'fp8', blockSize: [128, 128], modulesToNotConvert: [] })!, undefined, () => {});
    uploader.destroy();
    assert.deepEqual(await readMatrix(ctx, m), storageWords(Float32Array.from(codes, decodeE4M3), 15, 17, storage));
    ctx.pool.destroyAll();
  });
}

test('GPU dequant of the fixture weight: exact in f32; in f16 the nearest half of every value', async () => {
  const reference = await openSafetensors(FP8_FIXTURE, 'reference.safetensors');
  const expected = reference.f32('fp8_dequant_example');
  const source = new MemorySource(new Map([[SINGLE_FILE, new Uint8Array(readFileSync(new URL(SINGLE_FILE, FP8_FIXTURE)))]]));
  const checkpoint = await openCheckpoint(source);
  const config = parseQwen35Config(JSON.parse(readFileSync(new URL('config.json', FP8_FIXTURE), 'utf8')));
  const meta = JSON.parse(readFileSync(new URL('reference.json', FP8_FIXTURE), 'utf8'));
  const tensor = fp8TensorOf(checkpoint, `${meta.quantization.dequant_example.module}.weight`, config.quantization)!;
  const [rows, cols] = tensor.weight.shape;
  let inexact = 0;
  for (const storage of ['f32', 'f16'] as const) {
    const ctx = await testContext(storage);
    const m = allocateMatrix(ctx, 'down_proj', rows, cols);
    const uploader = await Fp8Uploader.create(ctx, 4096);
    await uploader.upload(m, 0, 1, checkpoint, tensor, undefined, () => {});
    uploader.destroy();
    const got = await readMatrix(ctx, m);
    assert.deepEqual(got, storageWords(expected, rows, cols, storage), storage);
    if (storage === 'f16') {
      const halves = toF32(new Uint8Array(got.buffer), 'F16');
      inexact = expected.filter((v, i) => v !== halves[i]).length / expected.length;
    }
    ctx.pool.destroyAll();
  }
  // Dequantized values are not all f16-exact (7 % over this fixture's tensors; this one has a few).
  assert.ok(inexact > 0, 'some values round in f16');
});

test('FP8 header rules: scales required, shaped by the block size, matching the config', async () => {
  const q: Fp8Quantization = { method: 'fp8', blockSize: [8, 16], modulesToNotConvert: ['lm_head'] };
  const c = fp8Case('layers.0.q.weight', 20, 33, [8, 16], 5);
  const ok = await checkpointOf([c]);
  assert.deepEqual(fp8TensorOf(ok, c.name, q)?.block, [8, 16]);
  assert.throws(() => fp8TensorOf(ok, c.name, null), (e: unknown) => e instanceof ConfigError && /no quantization_config/.test(e.message));
  assert.throws(() => fp8TensorOf(ok, c.name, { ...q, blockSize: [16, 16] }), (e: unknown) => e instanceof CheckpointError && /needs \[2, 3\]/.test(e.message));
  assert.throws(() => fp8TensorOf(ok, c.name, { ...q, modulesToNotConvert: ['layers.0'] }), (e: unknown) => e instanceof ConfigError && /modules_to_not_convert lists layers\.0/.test(e.message));

  const unscaled = await openCheckpoint(new MemorySource(new Map([[SINGLE_FILE, packTensors({ 'x.weight': { dtype: 'F8_E4M3', shape: [2, 4], data: new Uint8Array(8) } })]])));
  assert.throws(() => fp8TensorOf(unscaled, 'x.weight', q), (e: unknown) => e instanceof CheckpointError && /no x\.weight_scale_inv/.test(e.message));
  const plain = await openCheckpoint(new MemorySource(new Map([[SINGLE_FILE, packTensors({ 'y.weight': { dtype: 'BF16', shape: [2, 4], data: new Uint8Array(16) } })]])));
  assert.equal(fp8TensorOf(plain, 'y.weight', q), null, 'a BF16 tensor is not quantized');

  const nan = fp8Case('n.weight', 4, 6, [8, 16], 7);
  nan.fp8[15] = 0xff;
  const withNaN = await checkpointOf([nan]);
  const ctx = await testContext();
  const uploader = await Fp8Uploader.create(ctx, 1024);
  await assert.rejects(uploader.upload(allocateMatrix(ctx, 'n', 4, 6), 0, 1, withNaN, fp8TensorOf(withNaN, nan.name, q)!, undefined, () => {}), /FP8 NaN at row 2, column 3/);
  ctx.pool.destroyAll();
});

test('a failed FP8 load frees every GPU buffer it made, the dequant staging included', async () => {
  const device = (await testContext()).device;
  const dir = new URL('../../shared/fixtures/qwen3vl-tiny-fp8/', import.meta.url).pathname;
  const files = new Map<string, Uint8Array>();
  for (const name of ['config.json', SINGLE_FILE]) files.set(name, new Uint8Array(readFileSync(dir + name)));
  const source = new MemorySource(files);
  // The connection drops after the first layers' FP8 tensors were dequantized on the GPU.
  const cut = (await openCheckpoint(source)).get('model.language_model.layers.2.mlp.down_proj.weight').begin;
  const read = source.read.bind(source);
  source.read = async (path, start, end) => {
    if (path === SINGLE_FILE && start >= cut) throw new CheckpointError(path, 'connection lost');
    return read(path, start, end);
  };
  const { live } = await watchBuffers(device, () => assert.rejects(Qwen35Model.load(device, source), /connection lost/));
  assert.equal(live.size, 0, `buffers left: ${[...live].map((b) => b.label).join(', ')}`);
});
