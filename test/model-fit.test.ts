// The fit estimate against what Qwen35Model.load really allocates on a GPU device, on the fixture
// checkpoints (and an untied variant with an MTP head), then limits under which a model cannot load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCheckpoint, SINGLE_FILE, type Checkpoint } from '../src/loader/checkpoint.ts';
import { parseQwen35Config, type Qwen35Config } from '../src/loader/config.ts';
import { MemorySource, readJsonFile, readWholeFile, type FileSource } from '../src/loader/file-source.ts';
import { estimateModelFit, estimateRequiredBytes, type FitOptions } from '../src/model/fit.ts';
import { Qwen35Model } from '../src/model/qwen35.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { testDevice } from './helpers/gpu.ts';
import { packTensors, type TensorData } from './helpers/safetensors.ts';

const fixture = (name: string) => new NodeDirSource(new URL(`../../shared/fixtures/${name}/`, import.meta.url).pathname);

async function open(source: FileSource): Promise<{ config: Qwen35Config; checkpoint: Checkpoint }> {
  return { config: parseQwen35Config(await readJsonFile(source, 'config.json')), checkpoint: await openCheckpoint(source) };
}

/** tiny-text with tie_word_embeddings off (its own lm_head) and an MTP tensor the engine must skip. */
async function untiedWithMtp(): Promise<FileSource> {
  const base = fixture('qwen35-tiny-text');
  const { checkpoint } = await open(base);
  const tensors: Record<string, TensorData> = {};
  for (const name of checkpoint.names()) {
    const info = checkpoint.get(name);
    tensors[name] = { dtype: info.dtype, shape: info.shape, data: await checkpoint.readTensor(name) };
  }
  tensors['lm_head.weight'] = tensors['model.embed_tokens.weight'];
  tensors['mtp.fc.weight'] = { dtype: 'BF16', shape: [64, 128], data: new Uint8Array(64 * 128 * 2) };
  const config = JSON.parse(new TextDecoder().decode(await readWholeFile(base, 'config.json')));
  config.tie_word_embeddings = false;
  return new MemorySource(new Map([
    ['config.json', new TextEncoder().encode(JSON.stringify(config))],
    [SINGLE_FILE, packTensors(tensors)],
  ]));
}

const cases: [string, () => Promise<FileSource>, FitOptions][] = [
  ['qwen35-tiny-text, f16', async () => fixture('qwen35-tiny-text'), { maxContext: 96, prefillChunk: 32, storage: 'f16' }],
  ['qwen35-tiny-text, f32', async () => fixture('qwen35-tiny-text'), { maxContext: 64, prefillChunk: 128, storage: 'f32' }],
  ['qwen35-realdims-2l, f16', async () => fixture('qwen35-realdims-2l'), { maxContext: 256, prefillChunk: 64, storage: 'f16' }],
  ['qwen35-tiny-vl-image (vision tower skipped), f16', async () => fixture('qwen35-tiny-vl-image'), { maxContext: 64, prefillChunk: 16, storage: 'f16' }],
  ['tiny-text untied with mtp.*, f16', untiedWithMtp, { maxContext: 64, prefillChunk: 16, storage: 'f16' }],
  ['qwen3vl-tiny-image (Qwen3 decoder, vision tower skipped), f16', async () => fixture('qwen3vl-tiny-image'), { maxContext: 64, prefillChunk: 16, storage: 'f16' }],
  ['qwen3vl-tiny-fp8 (FP8 dequantized), f32', async () => fixture('qwen3vl-tiny-fp8'), { maxContext: 48, prefillChunk: 48, storage: 'f32' }],
];

for (const [name, source, options] of cases) {
  test(`${name}: the estimate matches what the engine allocates`, async () => {
    const files = await source();
    const { config, checkpoint } = await open(files);
    const estimate = estimateRequiredBytes(config, checkpoint, options);
    const model = await Qwen35Model.load(await testDevice(), files, options);
    try {
      // Weights are counted exactly; the rest of the load allocates the estimate's caches, state and
      // scratch plus the sampler's 32-byte settings uniform, which the estimate leaves out.
      assert.equal(model.weightBytes, estimate.weights);
      const extra = model.gpuBytes - estimate.total;
      assert.equal(extra, 32, `gpuBytes ${model.gpuBytes} vs estimate ${estimate.total}`);
      assert.ok(extra / model.gpuBytes < 0.01);
    } finally {
      model.destroy();
    }
  });
}

test('skipped and tied tensors are not counted; storage and context scale the right parts', async () => {
  const tied = await open(fixture('qwen35-tiny-text'));
  const untied = await open(await untiedWithMtp());
  const options: FitOptions = { maxContext: 64, prefillChunk: 16, storage: 'f16' };
  const a = estimateRequiredBytes(tied.config, tied.checkpoint, options);
  const b = estimateRequiredBytes(untied.config, untied.checkpoint, options);
  assert.equal(b.weights - a.weights, 512 * 32 * 4, 'one extra [512, 64] lm_head in f16 pairs, and nothing for mtp.fc');
  // The exact match on the GPU above then shows the vision tower is left out.
  const vl = await open(fixture('qwen35-tiny-vl-image'));
  assert.ok(vl.checkpoint.names().some((n) => n.startsWith('model.visual.')), 'the vl fixture has a vision tower to skip');

  const f32 = estimateRequiredBytes(tied.config, tied.checkpoint, { ...options, storage: 'f32' });
  assert.ok(f32.weights > 1.9 * a.weights && f32.weights < 2 * a.weights, 'matrices double, f32 vectors do not');
  const long = estimateRequiredBytes(tied.config, tied.checkpoint, { ...options, maxContext: 128 });
  assert.equal(long.kvCache, 2 * a.kvCache);
  assert.equal(long.weights + long.deltaState + long.scratch, a.weights + a.deltaState + a.scratch);
  // 2 full-attention layers × K and V × 64 tokens × 2 heads × 32 dims × 4 bytes.
  assert.equal(a.kvCache, 2 * 2 * 64 * 2 * 32 * 4);
  // 4 linear layers × (recurrent 4·16·24 + conv (2·2·16 + 4·24)·3) floats.
  assert.equal(a.deltaState, 4 * (4 * 16 * 24 + (2 * 2 * 16 + 4 * 24) * 3) * 4);
});

test('FP8 weights count as dequantized matrices in the chosen storage, plus the load-time staging', async () => {
  const { config, checkpoint } = await open(fixture('qwen3vl-tiny-fp8'));
  const options: FitOptions = { maxContext: 64, prefillChunk: 16, storage: 'f16' };
  const f16 = estimateRequiredBytes(config, checkpoint, options);
  const f32 = estimateRequiredBytes(config, checkpoint, { ...options, storage: 'f32' });
  // 4 layers × (q 256 + k 128 + v 128 + gate/up 2·384 rows of 128, o 128 rows of 256, down 128 rows of 384).
  const fp8Values = 4 * ((256 + 128 + 128 + 768) * 128 + 128 * 256 + 128 * 384);
  const embedValues = 512 * 128;
  const vectorBytes = (4 * (2 * 128 + 2 * 64) + 128) * 4;
  assert.equal(f16.weights, (fp8Values + embedValues) * 2 + vectorBytes);
  assert.equal(f32.weights, (fp8Values + embedValues) * 4 + vectorBytes);
  // 8 MiB of staging, and the largest scale tensor ([3, 1] as f32: 12 bytes).
  assert.equal(f16.loadTransient, (8 << 20) + 12);
  assert.ok(f16.wholeBuffers.some((b) => b.label === 'fp8_dequant.staging'));
  const bf16 = await open(fixture('qwen3vl-tiny-image'));
  assert.equal(estimateRequiredBytes(bf16.config, bf16.checkpoint, options).loadTransient, 0);
  // A budget between the resident bytes and the load peak is reported.
  const fit = estimateModelFit(config, checkpoint, limits(2 ** 30), { ...options, memoryBudgetBytes: f16.total + 1 });
  assert.match(fit.reasons[0], /more than the budget/);
});

const limits = (binding: number, buffer = 2 ** 30) => ({ maxStorageBufferBindingSize: binding, maxBufferSize: buffer }) as GPUSupportedLimits;

test('fits under generous limits, with no reasons', async () => {
  const { config, checkpoint } = await open(fixture('qwen35-realdims-2l'));
  const fit = estimateModelFit(config, checkpoint, limits(2 ** 30), { maxContext: 4096, prefillChunk: 128, storage: 'f16' });
  assert.deepEqual(fit.reasons, []);
  assert.equal(fit.fits, true);
  assert.equal(fit.requiredBytes, fit.breakdown.total);
});

test('a weight row wider than one binding does not fit, and the reason names the tensor', async () => {
  const { config, checkpoint } = await open(fixture('qwen35-realdims-2l'));
  const fit = estimateModelFit(config, checkpoint, limits(2048), { maxContext: 16, prefillChunk: 1, storage: 'f16' });
  assert.equal(fit.fits, false);
  // in_proj_qkv etc. have 1024 columns (2 KiB of f16 pairs, which fits); out_proj has 2048.
  assert.equal(fit.breakdown.widestRow.bytes, 4096);
  assert.match(fit.reasons[0], /^One row of model\.layers\.0\.linear_attn\.out_proj\.weight needs 4\.00 KiB in f16 storage, but this GPU binds at most 2\.00 KiB/);
});

test('a KV cache larger than one binding does not fit, and the reason says which context would', async () => {
  const { config, checkpoint } = await open(fixture('qwen35-realdims-2l'));
  const fit = estimateModelFit(config, checkpoint, limits(2 ** 20), { maxContext: 4096, prefillChunk: 16, storage: 'f16' });
  assert.equal(fit.fits, false);
  assert.deepEqual(fit.reasons, ['Buffer layer1.k_cache needs 8.00 MiB, but this GPU binds at most 1.00 MiB per buffer; maxContext 512 or less would fit']);
  // maxBufferSize counts as well as the binding size.
  assert.equal(estimateModelFit(config, checkpoint, limits(2 ** 30, 2 ** 20), { maxContext: 4096, prefillChunk: 16, storage: 'f16' }).fits, false);
  assert.equal(estimateModelFit(config, checkpoint, limits(2 ** 20), { maxContext: 512, prefillChunk: 16, storage: 'f16' }).fits, true);
});

test('a scratch buffer sized by the prefill chunk is checked too', async () => {
  const { config, checkpoint } = await open(fixture('qwen35-realdims-2l'));
  const fit = estimateModelFit(config, checkpoint, limits(2 ** 20), { maxContext: 512, prefillChunk: 512, storage: 'f16' });
  assert.equal(fit.fits, false);
  assert.ok(fit.reasons.some((r) => /^Buffer scratch\.proj needs/.test(r)), fit.reasons.join('\n'));
});

test('over the memory budget is reported but not decided; MoE is reported as unsupported', async () => {
  const { config, checkpoint } = await open(fixture('qwen35-tiny-text'));
  const options: FitOptions = { maxContext: 64, prefillChunk: 16, storage: 'f16' };
  const { total } = estimateRequiredBytes(config, checkpoint, options);
  const over = estimateModelFit(config, checkpoint, limits(2 ** 30), { ...options, memoryBudgetBytes: total - 1 });
  assert.equal(over.fits, true);
  assert.match(over.reasons[0], /more than the budget of/);
  assert.deepEqual(estimateModelFit(config, checkpoint, limits(2 ** 30), { ...options, memoryBudgetBytes: total }).reasons, []);

  const moe = await open(fixture('qwen35-tiny-moe'));
  const fit = estimateModelFit(moe.config, moe.checkpoint, limits(2 ** 30), options);
  assert.equal(fit.fits, false);
  assert.match(fit.reasons[0], /mixture-of-experts/);
});
