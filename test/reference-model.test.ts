// The CPU reference model against the transformers golden fixtures: every layer's residual
// stream, the final norm, prompt logits, teacher-forced decode logits and greedy ids; then its
// state handling (prefill + decode = one prefill, split prefill = one prefill, reset = fresh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReferenceDeepstack, ReferenceQwen35 } from '../src/reference/model.ts';
import { loadFixture } from './helpers/fixtures.ts';

type FixtureTensors = Awaited<ReturnType<typeof loadFixture>>['reference'];

/** Qwen3-VL's DeepStack input from the fixture: image rows then video rows, their features joined per level. */
function fixtureDeepstack(reference: FixtureTensors, H: number): ReferenceDeepstack | undefined {
  const types = reference.i32('mm_token_type_ids');
  const parts = ([[1, 'image'], [2, 'video']] as const)
    .filter(([, kind]) => reference.has(`${kind}_deepstack_features`))
    .map(([type, kind]) => ({ rows: Int32Array.from(types.keys()).filter((r) => types[r] === type), features: reference.f32(`${kind}_deepstack_features`) }));
  if (parts.length === 0) return undefined;
  const N = parts.reduce((n, p) => n + p.rows.length, 0);
  const levels = parts[0].features.length / (parts[0].rows.length * H);
  const features = new Float32Array(levels * N * H);
  for (let k = 0; k < levels; k++) {
    let at = k * N * H;
    for (const p of parts) {
      features.set(p.features.subarray(k * p.rows.length * H, (k + 1) * p.rows.length * H), at);
      at += p.rows.length * H;
    }
  }
  return { rows: Int32Array.from(parts.flatMap((p) => Array.from(p.rows))), features, levels };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

// The multimodal fixtures enter at layer 0 with their merged embeddings and M-RoPE positions: they
// pin the interleaved axis rule with positions that differ per axis. Qwen3-VL's also add their
// DeepStack features (and one stores its decoder weights in FP8, dequantized by the test helper).
const NAMES = ['qwen35-tiny-text', 'qwen35-tiny-moe', 'qwen35-realdims-2l', 'qwen35-tiny-vl-image', 'qwen35-tiny-vl-video', 'qwen3vl-tiny-image', 'qwen3vl-tiny-video', 'qwen3vl-tiny-fp8'];
for (const name of NAMES) {
  test(`${name}: prefill, every layer, logits, teacher-forced decode and greedy ids match transformers`, async (t) => {
    const { config, reference, create } = await loadFixture(name);
    const { hiddenSize: H, vocabSize: V, numLayers: L } = config;
    const ids = reference.i32('input_ids');
    const T = ids.length;
    const model = create();
    const multimodal = reference.has('position_ids');
    const out = multimodal
      ? model.forward(ids, reference.i32('position_ids'), reference.f32('embeddings'), fixtureDeepstack(reference, H))
      : model.forward(ids);

    assert.equal(maxAbsDiff(out.embeddings, reference.f32('embeddings')), 0, 'embeddings are exact rows of the table');
    const layers = reference.f32('layer_outputs');
    const layerRel: number[] = [];
    for (let l = 0; l < L; l++) {
      const want = layers.subarray(l * T * H, (l + 1) * T * H);
      layerRel.push(maxAbsDiff(out.layerOutputs[l], want) / maxAbs(want));
      assert.ok(layerRel[l] < 5e-4, `layer ${l} differs by ${layerRel[l]} of its max`);
    }
    if (reference.has('layer_outputs_before_deepstack')) {
      const before = reference.f32('layer_outputs_before_deepstack');
      assert.equal(out.layerOutputsBeforeDeepstack.length, before.length / (T * H));
      out.layerOutputsBeforeDeepstack.forEach((got, k) => {
        const want = before.subarray(k * T * H, (k + 1) * T * H);
        assert.ok(maxAbsDiff(got, want) / maxAbs(want) < 5e-4, `layer ${k} before DeepStack`);
      });
    }
    const finalRef = reference.f32('final_hidden');
    const finalRel = maxAbsDiff(out.finalHidden, finalRef) / maxAbs(finalRef);
    assert.ok(finalRel < 5e-4, `final_hidden differs by ${finalRel} of its max`);
    const logitsDiff = maxAbsDiff(out.logits, reference.f32('logits'));
    assert.ok(logitsDiff < 2e-3, `prompt logits differ by ${logitsDiff}`);

    const generated = reference.i32('generated_ids');
    const decodeRef = reference.f32('decode_logits');
    const decodePositions = reference.i32('decode_position_ids');
    const chosen = [argmax(out.logits.subarray((T - 1) * V))];
    let decodeDiff = 0;
    for (let i = 0; i < generated.length; i++) {
      const p = decodePositions[i];
      const step = model.forward(generated.subarray(i, i + 1), Int32Array.of(p, p, p));
      decodeDiff = Math.max(decodeDiff, maxAbsDiff(step.logits, decodeRef.subarray(i * V, (i + 1) * V)));
      if (i + 1 < generated.length) chosen.push(argmax(step.logits));
    }
    assert.ok(decodeDiff < 2e-3, `decode logits differ by ${decodeDiff}`);
    assert.deepEqual(chosen, Array.from(generated), 'greedy ids');
    t.diagnostic(`layers max rel ${layerRel.map((x) => x.toExponential(1)).join(' ')}; final rel ${finalRel.toExponential(1)}; ` +
      `logits max abs ${logitsDiff.toExponential(1)}; decode max abs ${decodeDiff.toExponential(1)}`);
  });
}

test('state: prefill + decode steps and a split prefill equal one prefill; reset equals fresh', async () => {
  const { config, reference, create } = await loadFixture('qwen35-tiny-text');
  const V = config.vocabSize;
  const prompt = reference.i32('input_ids').subarray(0, 140);
  const lastLogits = (logits: Float32Array) => logits.subarray(logits.length - V);
  const assertStatesClose = (a: ReferenceQwen35, b: ReferenceQwen35, what: string) => {
    const sa = a.readState();
    const sb = b.readState();
    assert.deepEqual(sa.map((s) => `${s.layer}.${s.name}`), sb.map((s) => `${s.layer}.${s.name}`));
    for (let i = 0; i < sa.length; i++) {
      const d = maxAbsDiff(sa[i].values, sb[i].values);
      assert.ok(d <= 1e-4 * Math.max(1, maxAbs(sb[i].values)), `${what}: layer ${sa[i].layer} ${sa[i].name} differs by ${d}`);
    }
  };

  const whole = create();
  const wholeLogits = lastLogits(whole.forward(prompt).logits);

  // 100 crosses a chunk boundary; decode steps take the recurrent path from a chunked state.
  const stepwise = create();
  stepwise.forward(prompt.subarray(0, 100));
  let stepLogits: Float32Array = new Float32Array(0);
  for (let i = 100; i < prompt.length; i++) stepLogits = stepwise.forward(prompt.subarray(i, i + 1)).logits;
  assert.equal(stepwise.position, whole.position);
  assert.ok(maxAbsDiff(stepLogits, wholeLogits) < 2e-4, 'prefill + decode logits');
  assertStatesClose(stepwise, whole, 'prefill + decode');

  // A continued prefill starts its chunks from the carried recurrent and conv state.
  const split = create();
  split.forward(prompt.subarray(0, 37));
  const splitLogits = lastLogits(split.forward(prompt.subarray(37)).logits);
  assert.ok(maxAbsDiff(splitLogits, wholeLogits) < 2e-4, 'split prefill logits');
  assertStatesClose(split, whole, 'split prefill');

  stepwise.reset();
  assert.equal(stepwise.position, 0);
  const again = stepwise.forward(prompt.subarray(0, 50));
  const fresh = create().forward(prompt.subarray(0, 50));
  assert.deepEqual(again.logits, fresh.logits, 'reset then prefill equals a fresh model');
});
