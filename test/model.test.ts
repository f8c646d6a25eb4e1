// Model-level state tests on a real fixture checkpoint: the engine's caches must make chunked
// prefill, prefill + decode and one long prefill the same computation, and reset a fresh start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readF32 } from '../src/gpu/buffers.ts';
import { GREEDY } from '../src/kernels/sample.ts';
import { CheckpointError } from '../src/loader/errors.ts';
import { MemorySource } from '../src/loader/file-source.ts';
import { Qwen35Model } from '../src/model/qwen35.ts';
import { TextGenerator } from '../src/generate/generator.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { maxAbsDiff, testDevice, watchBuffers } from './helpers/gpu.ts';
import { readFileSync, readdirSync } from 'node:fs';

const FIXTURE = new URL('../../shared/fixtures/qwen35-tiny-text/', import.meta.url).pathname;
const prompt = Int32Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % 230);

async function load(options: Parameters<typeof Qwen35Model.load>[2] = {}) {
  const model = await Qwen35Model.load(await testDevice(), new NodeDirSource(FIXTURE), { maxContext: 64, ...options });
  model.configureSampling(GREEDY);
  return model;
}

async function logits(model: Qwen35Model) {
  return readF32(model.ctx.device, model.logitsBuffer);
}

function assertStatesClose(a: { name: string; layer: number; values: Float32Array }[], b: typeof a, tolerance: number) {
  assert.deepEqual(a.map((s) => `${s.layer}.${s.name}`), b.map((s) => `${s.layer}.${s.name}`));
  for (let i = 0; i < a.length; i++) {
    const scale = Math.max(1, ...Array.from(b[i].values, Math.abs));
    assert.ok(maxAbsDiff(a[i].values, b[i].values) <= tolerance * scale, `layer ${a[i].layer} ${a[i].name} state differs by ${maxAbsDiff(a[i].values, b[i].values)}`);
  }
}

test('prefill(T) then decode steps equals one prefill of the longer sequence: logits, KV, conv and recurrent state', async () => {
  const split = 33;
  const stepwise = await load();
  await stepwise.prefill(prompt.subarray(0, split));
  const stepLogits: Float32Array[] = [];
  for (const id of prompt.subarray(split)) {
    await stepwise.decodeOne(id);
    stepLogits.push(await logits(stepwise));
  }
  const whole = await load();
  await whole.prefill(prompt);
  assert.equal(stepwise.position, whole.position);
  // Chunked (prefill) vs recurrent (decode) delta rule: equal up to float32 rounding.
  assert.ok(maxAbsDiff(stepLogits[stepLogits.length - 1], await logits(whole)) < 2e-4);
  assertStatesClose(await stepwise.readState(), await whole.readState(), 1e-4);
  stepwise.destroy();
  whole.destroy();
});

test('prefill in several chunks equals one chunk, and the chunked delta rule equals the recurrent one', async () => {
  const oneChunk = await load({ prefillChunk: 64 });
  const first = await oneChunk.prefill(prompt);
  const chunked = await load({ prefillChunk: 16 });
  assert.equal(await chunked.prefill(prompt), first);
  // Other chunk boundaries reorder the chunked rule's float32 sums (measured 2.3e-5 on logits).
  assert.ok(maxAbsDiff(await logits(chunked), await logits(oneChunk)) < 1e-4);
  assertStatesClose(await chunked.readState(), await oneChunk.readState(), 1e-4);
  const recurrent = await load({ prefillChunk: 64 });
  await recurrent.prefill(prompt, { deltaForm: 'recurrent' });
  assert.ok(maxAbsDiff(await logits(recurrent), await logits(oneChunk)) < 2e-4);
  for (const m of [oneChunk, chunked, recurrent]) m.destroy();
});

test('a reset engine equals a fresh one; a seeded sampler repeats itself', async () => {
  const sampling = { temperature: 0.9, topK: 20, topP: 0.9, repetitionPenalty: 1.2, presencePenalty: 0.3, frequencyPenalty: 0 };
  const collect = async (g: TextGenerator) => {
    const ids: number[] = [];
    for await (const id of g.generate(prompt, { maxTokens: 12, sampling, seed: 42, stopTokens: [] })) ids.push(id);
    return ids;
  };
  const used = new TextGenerator(await load());
  await collect(used);
  await used.model.prefill(prompt.subarray(0, 5));
  used.reset();
  const fresh = new TextGenerator(await load());
  const a = await collect(used);
  const b = await collect((fresh.reset(), fresh));
  assert.deepEqual(a, b);
  assert.equal(a.length, 12);
  assertStatesClose(await used.model.readState(), await fresh.model.readState(), 0);
  used.model.destroy();
  fresh.model.destroy();
});

test('decode refuses to run past the context with a typed error', async () => {
  const model = await load({ maxContext: 41 });
  await model.prefill(prompt);
  await model.decodeOne();
  await assert.rejects(model.decodeOne(), { name: 'ContextLengthError' });
  model.destroy();
});

test('a failed load frees every GPU buffer it made', async () => {
  const device = await testDevice();
  const files = new Map<string, Uint8Array>();
  for (const name of readdirSync(FIXTURE)) files.set(name, readFileSync(FIXTURE + name));
  // The connection drops once most weights are on the GPU: the load must fail and leave nothing behind.
  const weightsSize = files.get('model.safetensors')!.byteLength;
  const source = new MemorySource(files);
  const read = source.read.bind(source);
  source.read = async (path, start, end) => {
    if (path === 'model.safetensors' && end > weightsSize * 0.8) throw new CheckpointError(path, 'connection lost');
    return read(path, start, end);
  };
  const { live } = await watchBuffers(device, () => assert.rejects(Qwen35Model.load(device, source), /connection lost/));
  assert.equal(live.size, 0, `buffers left: ${[...live].map((b) => b.label).join(', ')}`);
});
