// The MoE model on the tiny-moe fixture: both checkpoint layouts give the same model, the
// text-only per-expert form verifies against the fixture's reference, prefill + decode (the
// GEMV path) equals one prefill (the grouped path), experts split across buffers change nothing,
// and malformed expert layouts are typed errors before anything is allocated. Then a random MoE
// model of other dims, experts and layer pattern against the CPU reference, also in q4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readF32 } from '../src/gpu/buffers.ts';
import { GREEDY } from '../src/kernels/sample.ts';
import { CheckpointError } from '../src/loader/errors.ts';
import { SINGLE_FILE } from '../src/loader/checkpoint.ts';
import { parseQwen35Config } from '../src/loader/config.ts';
import { MemorySource, type FileSource } from '../src/loader/file-source.ts';
import { textWeightNames } from '../src/loader/names.ts';
import { Qwen35Model, type LoadOptions } from '../src/model/qwen35.ts';
import { verifyFixture } from '../src/verify/verify-fixture.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { ReferenceQwen35 } from '../src/reference/model.ts';
import { maxAbsDiff, seededValues, testDevice, watchBuffers } from './helpers/gpu.ts';
import { matrixLayout } from '../src/gpu/weights.ts';
import { encodeRows } from '../src/gpu/weight-formats.ts';
import { decodeRows } from '../src/reference/quant.ts';
import { MOE_FIXTURE, moeFixtureVariant } from './helpers/moe-fixture.ts';
import { packTensors, type TensorData } from './helpers/safetensors.ts';

const prompt = Int32Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % 230);

async function load(source: FileSource = new NodeDirSource(MOE_FIXTURE), options: LoadOptions = {}) {
  const model = await Qwen35Model.load(await testDevice(), source, { maxContext: 64, ...options });
  model.configureSampling(GREEDY);
  return model;
}

/** The prompt's logits (every position's, or the last one's) after a prefill, then three greedy decode steps' logits. */
async function run(model: Qwen35Model, allPositions = true): Promise<Float32Array[]> {
  const all = allPositions ? model.ctx.pool.storage('test.logits', prompt.length * model.config.vocabSize * 4) : undefined;
  await model.prefill(prompt, { allLogits: all });
  const out = [await readF32(model.ctx.device, all ?? model.logitsBuffer)];
  for (let i = 0; i < 3; i++) {
    await model.decodeOne();
    out.push(await readF32(model.ctx.device, model.logitsBuffer));
  }
  return out;
}

test('fused 3-D and per-expert checkpoints give identical outputs', async () => {
  const fused = await load();
  const perExpert = await load(await moeFixtureVariant({ perExpert: true }));
  const [a, b] = [await run(fused), await run(perExpert)];
  a.forEach((logits, i) => assert.equal(maxAbsDiff(logits, b[i]), 0, `${i ? `decode step ${i}` : 'prompt'} logits`));
  assert.equal(fused.weightBytes, perExpert.weightBytes);
  fused.destroy();
  perExpert.destroy();
});

test('the text-only form (qwen3_5_moe_text) with per-expert tensors verifies against the fixture reference', async () => {
  const lines: string[] = [];
  const outcome = await verifyFixture(await testDevice(), await moeFixtureVariant({ perExpert: true, textOnly: true }), { verbose: false, log: (l) => lines.push(l) });
  assert.equal(outcome.pass, true, lines.join('\n'));
  assert.equal(outcome.greedy_match, '16/16');
  assert.match(lines[0], /^model: qwen3_5_moe_text, 4 layers \[LLLF\]/);
});

test('MoE prefill then decode equals one longer prefill; chunks and experts split across buffers change nothing', async () => {
  // SwiftShader compiles every pipeline anew per model: one model serves both runs.
  const model = await load();
  await model.prefill(prompt.subarray(0, 33));
  let stepLogits: Float32Array = new Float32Array(0);
  for (const id of prompt.subarray(33)) {
    await model.decodeOne(id);
    stepLogits = await readF32(model.ctx.device, model.logitsBuffer);
  }
  const stepState = await model.readState();
  model.reset();
  await model.prefill(prompt);
  const wholeLogits = await readF32(model.ctx.device, model.logitsBuffer);
  // Decode steps route through the GEMVs, the prefill through the grouped tiled products.
  assert.ok(maxAbsDiff(stepLogits, wholeLogits) < 2e-4, `prefill + decode vs one prefill: ${maxAbsDiff(stepLogits, wholeLogits)}`);
  const wholeState = await model.readState();
  wholeState.forEach((b, i) => assert.ok(maxAbsDiff(stepState[i].values, b.values) < 1e-4 * Math.max(1, ...b.values.map(Math.abs)), `layer ${b.layer} ${b.name}`));

  // Prefill chunks of 16, and a 32 KiB binding cap: two experts' gate/up rows (12 KiB each) per buffer.
  const device = await testDevice();
  let other!: Qwen35Model;
  const { created } = await watchBuffers(device, async () => {
    other = await load(undefined, { prefillChunk: 16, maxBindingBytes: 32 << 10 });
  });
  const labels = created.map((b) => b.label);
  assert.ok(labels.includes('layer0.experts.gate_up[3]') && !labels.includes('layer0.experts.gate_up[4]'), 'gate/up experts in four buffers');
  assert.ok(labels.includes('layer0.experts.down[1]'), 'down experts in two buffers');
  model.reset();
  const [a, b] = [await run(other, false), await run(model, false)];
  a.forEach((logits, i) => assert.ok(maxAbsDiff(logits, b[i]) < 1e-4, `${i ? `decode step ${i}` : 'prompt'} logits: ${maxAbsDiff(logits, b[i])}`));
  model.destroy();
  other.destroy();
});

test('malformed expert layouts are typed errors that say what is wrong', async () => {
  const L0 = 'model.language_model.layers.0.mlp.experts.';
  const cases: [string, Parameters<typeof moeFixtureVariant>[0], RegExp][] = [
    ['both layouts in one layer', { perExpert: true, edit: (t) => (t[`${L0}gate_up_proj`] = t[`${L0}0.gate_proj.weight`]) }, /layer 0: has both fused expert tensors \(.*experts\.gate_up_proj\) and per-expert ones/],
    ['an expert missing', { perExpert: true, edit: (t) => delete t[`${L0}5.up_proj.weight`] }, /experts\.5\.up_proj\.weight is missing; per-expert checkpoints need gate_proj, up_proj and down_proj for each of the 8 experts/],
    ['an expert beyond num_experts', { perExpert: true, edit: (t) => (t[`${L0}8.gate_proj.weight`] = t[`${L0}0.gate_proj.weight`]) }, /experts\.8\.gate_proj\.weight names expert 8, but num_experts is 8/],
    ['no expert tensors', { edit: (t) => { delete t[`${L0}gate_up_proj`]; delete t[`${L0}down_proj`]; } }, /layer 0: no expert tensors: expected .*experts\.gate_up_proj and .*experts\.down_proj, or .*experts\.\{0\.\.7\}\.\{gate,up,down\}_proj\.weight/],
    ['a fused tensor of the wrong shape', { edit: (t) => (t[`${L0}down_proj`] = t[`${L0}gate_up_proj`]) }, /shape\/size mismatch: .*experts\.down_proj is \[8, 96, 64\] but config\.json implies \[8, 64, 48\]/],
  ];
  for (const [what, variant, message] of cases) {
    await assert.rejects(load(await moeFixtureVariant(variant)), (e: Error) => e instanceof CheckpointError && message.test(e.message), what);
  }
});

/** A random MoE model of odd dims, 6 experts top-3 and layers F L L F L, and its float32 tensors. */
function randomMoeModel(): { config: ReturnType<typeof parseQwen35Config>; source: FileSource; values: Map<string, Float32Array> } {
  const json = {
    model_type: 'qwen3_5_moe_text', hidden_size: 37, num_hidden_layers: 5,
    layer_types: ['full_attention', 'linear_attention', 'linear_attention', 'full_attention', 'linear_attention'],
    num_attention_heads: 3, num_key_value_heads: 1, head_dim: 16, linear_num_key_heads: 1, linear_num_value_heads: 3,
    linear_key_head_dim: 8, linear_value_head_dim: 12, linear_conv_kernel_dim: 3, num_experts: 6, num_experts_per_tok: 3,
    moe_intermediate_size: 19, shared_expert_intermediate_size: 22, vocab_size: 300, tie_word_embeddings: true,
    rope_parameters: { rope_type: 'default', rope_theta: 10000, partial_rotary_factor: 0.5 },
  };
  const config = parseQwen35Config(json);
  const tensors: Record<string, TensorData> = {};
  const values = new Map<string, Float32Array>();
  let seed = 1;
  for (const [name, shape] of textWeightNames(config).expectedShapes) {
    const count = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape[shape.length - 1];
    // Near-1.5/sqrt(fan_in) weights keep activations O(1); a sharper router keeps expert choices clear.
    let v = seededValues(count, seed++, name.endsWith('mlp.gate.weight') ? 1 : Math.min(1, 1.5 / Math.sqrt(fanIn)));
    if (name.endsWith('A_log')) v = v.map((x) => -1 + x);
    else if (name.endsWith('dt_bias') || name.endsWith('linear_attn.norm.weight')) v = v.map((x) => 1 + x / 4);
    else if (name.endsWith('norm.weight')) v = v.map((x) => x / 4); // zero-centred: scale 1 + w
    values.set(name, v);
    tensors[name] = { dtype: 'F32', shape, data: new Uint8Array(v.buffer) };
  }
  const source = new MemorySource(new Map([['config.json', new TextEncoder().encode(JSON.stringify(json))], [SINGLE_FILE, packTensors(tensors)]]));
  return { config, source, values };
}

/** The model's prompt and two decode steps against the CPU reference over `values`. */
async function checkAgainstReference(model: Qwen35Model, reference: ReferenceQwen35): Promise<void> {
  const ids = Int32Array.from({ length: 29 }, (_, i) => (i * 53 + 7) % 300);
  const want = reference.forward(ids).logits;
  const all = model.ctx.pool.storage('test.logits', ids.length * 300 * 4);
  await model.prefill(ids, { allLogits: all });
  // One wrong expert choice (one token, one layer) moved these logits by 1.8; float32 reordering
  // moves them by ~1e-5, up to 2e-4
  // where a norm amplifies (as the fixtures' README describes). The fixtures' bound is 2e-3.
  const tolerance = 5e-4 * Math.max(...want.map(Math.abs));
  assert.ok(maxAbsDiff(await readF32(model.ctx.device, all), want) < tolerance, 'prompt logits');
  for (const id of [5, 211]) {
    const step = reference.forward(Int32Array.of(id)).logits;
    await model.decodeOne(id);
    assert.ok(maxAbsDiff(await readF32(model.ctx.device, model.logitsBuffer), step) < tolerance, `decode ${id}`);
  }
}

test('a random MoE model with odd dims, 6 experts top-3 and layers F L L F L matches the CPU reference', async () => {
  const { config, source, values } = randomMoeModel();
  const model = await load(source, { prefillChunk: 29 });
  await checkAgainstReference(model, new ReferenceQwen35(config, (n) => values.get(n)!));
  model.destroy();
});

test('the random MoE model in q4, routed experts included, matches the CPU reference over the values q4 stores', async () => {
  const { config, source, values } = randomMoeModel();
  // Every matrix (2-D, or the 3-D fused experts) is quantized row by row as the loader does;
  // vectors (norms, conv taps, A_log, dt_bias) stay float32.
  const stored = (name: string, v: Float32Array) => {
    const shape = textWeightNames(config).expectedShapes.get(name)!;
    if (shape.length < 2 || name.endsWith('conv1d.weight')) return v;
    const cols = shape[shape.length - 1];
    const layout = matrixLayout(v.length / cols, cols, 'q4');
    const { words, scales } = encodeRows(v, v.length / cols, layout);
    return decodeRows(words, scales, v.length / cols, layout);
  };
  const quantized = new Map([...values].map(([n, v]) => [n, stored(n, v)]));
  const model = await load(source, { prefillChunk: 29, quant: 'q4' });
  await checkAgainstReference(model, new ReferenceQwen35(config, (n) => quantized.get(n)!));
  model.destroy();
});
