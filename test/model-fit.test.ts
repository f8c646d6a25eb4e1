// The fit estimate against what Qwen35Model.load really allocates on a GPU device, on the fixture
// checkpoints (and an untied variant with an MTP head, and the MoE fixture in its other layouts),
// then limits under which a model cannot load, and the real Qwen3.5-35B-A3B from its headers alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCheckpoint, SINGLE_FILE, type Checkpoint } from '../src/loader/checkpoint.ts';
import { parseQwen35Config, type Qwen35Config } from '../src/loader/config.ts';
import { MemorySource, readJsonFile, readWholeFile, type FileSource } from '../src/loader/file-source.ts';
import { estimateModelFit, estimateRequiredBytes, formatBytes, type FitOptions } from '../src/model/fit.ts';
import { CHUNK_BYTES } from '../src/model/load-weights.ts';
import { Qwen35Model } from '../src/model/qwen35.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { testDevice } from './helpers/gpu.ts';
import { moeFixtureVariant } from './helpers/moe-fixture.ts';
import { encodeSafetensors, packTensors, type TensorData } from './helpers/safetensors.ts';

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
  ['qwen35-tiny-moe (fused experts, vision tower skipped), f16', async () => fixture('qwen35-tiny-moe'), { maxContext: 116, prefillChunk: 100, storage: 'f16' }],
  ['qwen35-tiny-moe, q8 (routed experts quantized too)', async () => fixture('qwen35-tiny-moe'), { maxContext: 64, prefillChunk: 16, storage: 'f16', quant: 'q8' }],
  ['tiny-moe per-expert tensors, text-only form, f32', () => moeFixtureVariant({ perExpert: true, textOnly: true }), { maxContext: 64, prefillChunk: 16, storage: 'f32' }],
  ['qwen3vl-tiny-image (Qwen3 decoder, vision tower skipped), f16', async () => fixture('qwen3vl-tiny-image'), { maxContext: 64, prefillChunk: 16, storage: 'f16' }],
  ['qwen3vl-tiny-fp8 (FP8 dequantized), f32', async () => fixture('qwen3vl-tiny-fp8'), { maxContext: 48, prefillChunk: 48, storage: 'f32' }],
  ['qwen3vl-tiny-fp8 re-quantized to q4 on the CPU', async () => fixture('qwen3vl-tiny-fp8'), { maxContext: 48, prefillChunk: 48, storage: 'f16', quant: 'q4' }],
  ['qwen35-realdims-2l, q8 (embeddings and lm_head too)', async () => fixture('qwen35-realdims-2l'), { maxContext: 64, prefillChunk: 16, storage: 'f16', quant: 'q8' }],
  ['qwen35-tiny-moe, q4', async () => fixture('qwen35-tiny-moe'), { maxContext: 64, prefillChunk: 16, storage: 'f16', quant: 'q4' }],
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
  // One upload chunk of staging, and the largest scale tensor ([3, 1] as f32: 12 bytes).
  assert.equal(f16.loadTransient, CHUNK_BYTES + 12);
  assert.ok(f16.wholeBuffers.some((b) => b.label === 'fp8_dequant.staging'));
  const bf16 = await open(fixture('qwen3vl-tiny-image'));
  assert.equal(estimateRequiredBytes(bf16.config, bf16.checkpoint, options).loadTransient, 0);
  // A budget between the resident bytes and the load peak is not enough.
  const fit = estimateModelFit(config, checkpoint, limits(2 ** 30), { ...options, memoryBudgetBytes: f16.total + 1 });
  assert.equal(fit.fits, false);
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

test('over the memory budget does not fit, and says so with the numbers; q4 needs less', async () => {
  const { config, checkpoint } = await open(fixture('qwen35-tiny-text'));
  const options: FitOptions = { maxContext: 64, prefillChunk: 16, storage: 'f16' };
  const { total } = estimateRequiredBytes(config, checkpoint, options);
  const over = estimateModelFit(config, checkpoint, limits(2 ** 30), { ...options, memoryBudgetBytes: total - 1 });
  assert.equal(over.fits, false);
  assert.match(over.reasons[0], /^The model needs [\d.]+ KiB of GPU memory \(weights [\d.]+ KiB, KV cache .*\), more than the budget of/);
  const exact = estimateModelFit(config, checkpoint, limits(2 ** 30), { ...options, memoryBudgetBytes: total });
  assert.deepEqual([exact.fits, exact.reasons], [true, []]);
  const q4 = estimateModelFit(config, checkpoint, limits(2 ** 30), { ...options, quant: 'q4', memoryBudgetBytes: total - 1 });
  assert.equal(q4.fits, true, 'quantized weights fit the budget the f16 ones exceed');
  assert.ok(q4.requiredBytes < total);
});

test('decode bytes: all weights but the unchosen experts and, untied, all embedding rows but one', async () => {
  const options: FitOptions = { maxContext: 64, prefillChunk: 16, storage: 'f16' };
  const estimate = async (source: FileSource, quant?: FitOptions['quant']) => {
    const { config, checkpoint } = await open(source);
    return estimateRequiredBytes(config, checkpoint, { ...options, quant });
  };
  const tied = await estimate(fixture('qwen35-tiny-text'));
  assert.equal(tied.decodeWeights, tied.weights, 'a tied lm_head reads the whole table');
  const untied = await estimate(await untiedWithMtp());
  assert.equal(untied.weights - untied.decodeWeights, 511 * 32 * 4, '511 of 512 embedding rows (64 values in f16 pairs) are not read');

  const moe = await estimate(fixture('qwen35-tiny-moe'));
  // Per layer 6 of 8 experts are not read: gate/up 96 rows × 64 and down 64 rows × 48 (stored
  // padded to 64), in f16.
  const expert = 96 * 32 * 4 + 64 * 32 * 4;
  assert.equal(moe.weights - moe.decodeWeights, 4 * 6 * expert + 511 * 32 * 4);
  assert.deepEqual(moe.widestExpert, { name: 'model.language_model.layers.0.mlp.experts.gate_up_proj', bytes: 96 * 32 * 4, format: 'f16' });
  const split = await estimate(await moeFixtureVariant({ perExpert: true }));
  assert.deepEqual({ ...split, widestExpert: null }, { ...moe, widestExpert: null }, 'both expert layouts take the same bytes');
  assert.equal(split.widestExpert?.name, 'model.language_model.layers.0.mlp.experts.0.gate_proj.weight');
  // q4: the experts take the load's format too; a row of 64 values is 8 words of codes and 1 of scales.
  const q4 = await estimate(fixture('qwen35-tiny-moe'), 'q4');
  assert.equal(q4.weights - q4.decodeWeights, 4 * 6 * (96 + 64) * 9 * 4 + 511 * 9 * 4);
  assert.deepEqual(q4.widestExpert, { name: 'model.language_model.layers.0.mlp.experts.gate_up_proj', bytes: 96 * 9 * 4, format: 'q4' });
});

/** Qwen3.5-35B-A3B (QWEN35-ARCHITECTURE.md §8) as config.json and a safetensors header with no data behind it. */
function qwen35_35bA3b(): FileSource {
  const [H, V, L, E, Im, Is] = [2048, 248320, 40, 256, 512, 512];
  const layerTypes = Array.from({ length: L }, (_, i) => ((i + 1) % 4 === 0 ? 'full_attention' : 'linear_attention'));
  const config = {
    model_type: 'qwen3_5_moe', tie_word_embeddings: false, image_token_id: 248056, video_token_id: 248057,
    text_config: {
      model_type: 'qwen3_5_moe_text', hidden_size: H, num_hidden_layers: L, layer_types: layerTypes, num_attention_heads: 16,
      num_key_value_heads: 2, head_dim: 256, linear_num_key_heads: 16, linear_num_value_heads: 32, linear_key_head_dim: 128,
      linear_value_head_dim: 128, linear_conv_kernel_dim: 4, num_experts: E, num_experts_per_tok: 8, moe_intermediate_size: Im,
      shared_expert_intermediate_size: Is, vocab_size: V, rms_norm_eps: 1e-6, max_position_embeddings: 262144,
      rope_parameters: { rope_type: 'default', rope_theta: 1e7, partial_rotary_factor: 0.25, mrope_section: [11, 11, 10], mrope_interleaved: true },
    },
  };
  const tensors: [string, string, number[]][] = [['model.language_model.embed_tokens.weight', 'BF16', [V, H]], ['lm_head.weight', 'BF16', [V, H]],
    ['model.language_model.norm.weight', 'BF16', [H]], ['model.visual.blocks.0.attn.qkv.weight', 'BF16', [3456, 1152]], ['mtp.fc.weight', 'BF16', [H, 2 * H]]];
  layerTypes.forEach((type, i) => {
    const P = `model.language_model.layers.${i}.`;
    const add = (name: string, shape: number[], dtype = 'BF16') => tensors.push([P + name, dtype, shape]);
    add('input_layernorm.weight', [H]);
    add('post_attention_layernorm.weight', [H]);
    if (type === 'linear_attention') {
      for (const [name, rows] of [['in_proj_qkv', 8192], ['in_proj_z', 4096], ['in_proj_b', 32], ['in_proj_a', 32]] as const) add(`linear_attn.${name}.weight`, [rows, H]);
      add('linear_attn.conv1d.weight', [8192, 1, 4]);
      add('linear_attn.dt_bias', [32]);
      add('linear_attn.A_log', [32], 'F32');
      add('linear_attn.norm.weight', [128], 'F32');
      add('linear_attn.out_proj.weight', [H, 4096]);
    } else {
      for (const [name, rows] of [['q_proj', 8192], ['k_proj', 512], ['v_proj', 512]] as const) add(`self_attn.${name}.weight`, [rows, H]);
      add('self_attn.o_proj.weight', [H, 4096]);
      add('self_attn.q_norm.weight', [256]);
      add('self_attn.k_norm.weight', [256]);
    }
    add('mlp.gate.weight', [E, H]);
    add('mlp.experts.gate_up_proj', [E, 2 * Im, H]);
    add('mlp.experts.down_proj', [E, H, Im]);
    add('mlp.shared_expert.gate_proj.weight', [Is, H]);
    add('mlp.shared_expert.up_proj.weight', [Is, H]);
    add('mlp.shared_expert.down_proj.weight', [H, Is]);
    add('mlp.shared_expert_gate.weight', [1, H]);
  });
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, dtype, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * (dtype === 'F32' ? 4 : 2);
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const head = encodeSafetensors(header);
  const files = new Map([['config.json', new TextEncoder().encode(JSON.stringify(config))], [SINGLE_FILE, head]]);
  return {
    description: 'Qwen3.5-35B-A3B headers',
    size: async (path) => (path === SINGLE_FILE ? head.byteLength + offset : files.get(path)?.byteLength ?? null),
    read: async (path, start, end) => {
      const file = files.get(path);
      if (!file || end > file.byteLength) throw new Error(`${path} [${start}, ${end}): the estimate must read nothing but config.json and headers`);
      return file.subarray(start, end);
    },
  };
}

test('Qwen3.5-35B-A3B from its headers: exact bytes, the bytes a decode step reads, and why it does not fit', async () => {
  const { config, checkpoint } = await open(qwen35_35bA3b());
  const options: FitOptions = { maxContext: 4096, prefillChunk: 128, storage: 'f16', memoryBudgetBytes: 8 * 2 ** 30 };
  // f16 pairs: a row of c values takes 2c bytes; norms, conv taps, A_log, dt_bias stay f32.
  const rows = (n: number, cols: number) => n * cols * 2;
  const embed = rows(248320, 2048);
  const gdn = rows(8192 + 4096 + 64, 2048) + rows(2048, 4096) + 4 * (8192 * 4 + 32 + 32 + 128);
  const full = rows(8192 + 1024, 2048) + rows(2048, 4096) + 4 * (2 * 256);
  const experts = rows(256 * 1024, 2048) + rows(256 * 2048, 512);
  const moe = rows(256 + 1 + 1024, 2048) + rows(2048, 512) + experts;
  const weights = 2 * embed + 4 * 2048 + 30 * gdn + 10 * full + 40 * (moe + 2 * 4 * 2048);
  const typical = { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 31 } as GPUSupportedLimits;
  const fit = estimateModelFit(config, checkpoint, typical, options);
  assert.equal(fit.breakdown.weights, weights);
  assert.equal(fit.breakdown.decodeWeights, weights - (embed - 4096) - 40 * (256 - 8) * (experts / 256));
  // About 3 billion parameters a token (the "A3B"): 5.5 GiB of the 64.6 GiB read per decode step.
  assert.equal((fit.breakdown.decodeWeights / 2 ** 30).toFixed(1), '5.5');
  assert.equal(formatBytes(fit.breakdown.weights), '64.6 GiB');
  // Each layer's 1 GiB of gate/up experts splits into buffers by whole experts, so every buffer fits;
  // only the memory is too small, which the estimate states with the numbers before anything loads.
  assert.equal(fit.fits, false);
  assert.equal(fit.reasons.length, 1);
  assert.match(fit.reasons[0], /^The model needs 64\.8 GiB of GPU memory \(weights 64\.6 GiB, KV cache 160\.0 MiB, delta-rule state 62\.8 MiB, scratch 30\.8 MiB\), more than the budget of 8\.00 GiB/);
  // WebGPU's default 128 MiB bindings still hold one expert (4 MiB of gate/up rows); 2 MiB does not.
  const unbudgeted = { ...options, memoryBudgetBytes: undefined };
  assert.equal(estimateModelFit(config, checkpoint, { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 } as GPUSupportedLimits, unbudgeted).fits, true);
  const tiny = estimateModelFit(config, checkpoint, { maxStorageBufferBindingSize: 2 ** 21, maxBufferSize: 2 ** 28 } as GPUSupportedLimits, unbudgeted);
  assert.equal(tiny.fits, false);
  assert.ok(tiny.reasons.some((r) => r.startsWith('One expert of model.language_model.layers.0.mlp.experts.gate_up_proj needs 4.00 MiB in f16 storage')), tiny.reasons.join('\n'));
  // q4 experts: a row of 2048 values is 1 KiB of codes and 128 bytes of scales, so a 2 MiB binding holds one expert; 1 MiB does not.
  const q4 = (bindingBytes: number) => estimateModelFit(config, checkpoint, { maxStorageBufferBindingSize: bindingBytes, maxBufferSize: 2 ** 28 } as GPUSupportedLimits, { ...options, quant: 'q4' });
  assert.ok(!q4(2 ** 21).reasons.some((r) => r.startsWith('One expert')), q4(2 ** 21).reasons.join('\n'));
  assert.ok(q4(2 ** 20).reasons.some((r) => r.startsWith('One expert of model.language_model.layers.0.mlp.experts.gate_up_proj needs 1.13 MiB in q4 storage')), q4(2 ** 20).reasons.join('\n'));
  const q4Bytes = q4(2 ** 30).breakdown;
  const q4Experts = 256 * (1024 * 1152 + 2048 * 288);
  assert.equal(q4Bytes.weights - q4Bytes.decodeWeights, 248319 * 1152 + 40 * (256 - 8) * (q4Experts / 256));
});
