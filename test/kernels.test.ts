// Every kernel against its plain-TS reference, on odd sizes as well as round ones (the matmul and
// embedding kernels, which read weight formats, are in matmul-formats.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attention } from '../src/kernels/attention.ts';
import { CausalConv1d } from '../src/kernels/conv1d.ts';
import { GatedRmsNorm, SwiGlu } from '../src/kernels/elementwise.ts';
import { GatedDeltaRule } from '../src/kernels/gated-delta.ts';
import { RmsNorm } from '../src/kernels/rmsnorm.ts';
import type { SamplingParams } from '../src/api.ts';
import { Sampler, samplerUniform } from '../src/kernels/sample.ts';
import { ScatterRows } from '../src/kernels/scatter-rows.ts';
import { ropeTable } from '../src/model/rope.ts';
import * as ref from '../src/reference/ops.ts';
import { emptyF32, maxAbsDiff, readF32, run, seededValues, testContext, upload } from './helpers/gpu.ts';

const relDiff = (a: Float32Array, b: Float32Array) => maxAbsDiff(a, b) / Math.max(1e-12, ...Array.from(b, Math.abs));

test('rmsnorm on odd and round rows, with strides and offsets', async () => {
  const ctx = await testContext();
  const norm = await RmsNorm.create(ctx);
  for (const [rows, n] of [[1, 1], [3, 37], [4, 256], [2, 1024], [5, 1000]]) {
    const x = seededValues(rows * n, n, 3);
    const w = seededValues(n, 5).map((v) => 1 + v);
    const y = emptyF32(ctx, rows * n);
    await run(ctx, (b) => norm.record(b, { x: upload(ctx, x), weight: upload(ctx, w), y, rows, n, eps: 1e-6 }));
    assert.ok(relDiff(await readF32(ctx.device, y), ref.rmsNorm(x, w, rows, n, 1e-6, false)) < 1e-6, `rows=${rows} n=${n}`);
  }
  // The last row of a [3, 37] tensor into row 0: how the final norm serves generation.
  const x = seededValues(3 * 37, 1);
  const w = seededValues(37, 2);
  const y = emptyF32(ctx, 37);
  await run(ctx, (b) => norm.record(b, { x: upload(ctx, x), weight: upload(ctx, w), y, rows: 1, n: 37, eps: 1e-6, inOffset: 74 }));
  assert.ok(relDiff(await readF32(ctx.device, y), ref.rmsNorm(x.subarray(74), w, 1, 37, 1e-6, false)) < 1e-6);
  ctx.pool.destroyAll();
});

test('attention: q/k norm, partial and full M-RoPE, KV cache across calls, GQA, with and without output gate', async () => {
  const ctx = await testContext();
  const cases: [number, number, number, number, number, number, boolean][] = [
    [5, 1, 4, 2, 32, 8, true], [70, 3, 8, 2, 256, 64, true], [3, 1, 3, 1, 20, 4, true], [1, 1, 2, 2, 64, 16, true],
    // Qwen3-VL: no gate, rotary over all of head_dim.
    [6, 2, 4, 2, 32, 32, false], [67, 1, 6, 3, 128, 128, false], [2, 3, 3, 1, 20, 20, false],
  ];
  for (const [T1, T2, nq, nkv, D, rot, outputGate] of cases) {
    const qRows = outputGate ? 2 * D : D;
    const stride = nq * qRows + 2 * nkv * D;
    // The full-rotary cases use interleaved M-RoPE sections with positions that differ per axis.
    const half = rot / 2;
    const section: [number, number, number] = outputGate ? [half, 0, 0] : [half - 2 * Math.floor(half / 3), Math.floor(half / 3), Math.floor(half / 3)];
    const rope = { theta: outputGate ? 1e7 : 5e6, partialRotaryFactor: rot / D, rotaryDim: rot, mropeSection: section };
    const positionsOf = (start: number, T: number) => Int32Array.from({ length: 3 * T }, (_, i) => start + (i % T) * (outputGate ? 1 : 1 + Math.floor(i / T)));
    const qNorm = seededValues(D, 1, 0.5).map((v) => 1 + v);
    const kNorm = seededValues(D, 2, 0.5).map((v) => 1 + v);
    const attention = await Attention.create(ctx, { nq, nkv, headDim: D, rotHalf: rot / 2, eps: 1e-6, outputGate });
    const S = T1 + T2;
    const kCache = emptyF32(ctx, S * nkv * D);
    const vCache = emptyF32(ctx, S * nkv * D);
    const refK = new Float32Array(S * nkv * D);
    const refV = new Float32Array(S * nkv * D);
    const out = emptyF32(ctx, Math.max(T1, T2) * nq * D);
    let start = 0;
    for (const T of [T1, T2]) {
      const qkv = seededValues(T * stride, start + 11);
      await run(ctx, (b) => attention.record(b, {
        qkv: upload(ctx, qkv), qNorm: upload(ctx, qNorm), kNorm: upload(ctx, kNorm),
        rope: upload(ctx, ropeTable(rope, positionsOf(start, T), T)),
        q: emptyF32(ctx, T * nq * D), kCache, vCache, out, T,
      }), start);
      // Reference: split the fused projection, norm + rope, append to the cache, attend.
      const q = new Float32Array(T * nq * D);
      const gate = new Float32Array(T * nq * D);
      for (let t = 0; t < T; t++) {
        for (let h = 0; h < nq; h++) {
          q.set(qkv.subarray(t * stride + h * qRows, t * stride + h * qRows + D), (t * nq + h) * D);
          gate.set(qkv.subarray(t * stride + h * qRows + D, t * stride + h * qRows + 2 * D), (t * nq + h) * D);
        }
        refK.set(qkv.subarray(t * stride + nq * qRows, t * stride + nq * qRows + nkv * D), (start + t) * nkv * D);
        refV.set(qkv.subarray(t * stride + nq * qRows + nkv * D, (t + 1) * stride), (start + t) * nkv * D);
      }
      const positions = positionsOf(start, T);
      const qn = ref.rmsNorm(q, qNorm, T * nq, D, 1e-6, false);
      ref.ropeInPlace(qn, positions, T, nq, D, rope);
      const kn = ref.rmsNorm(refK.subarray(start * nkv * D, (start + T) * nkv * D), kNorm, T * nkv, D, 1e-6, false);
      ref.ropeInPlace(kn, positions, T, nkv, D, rope);
      refK.set(kn, start * nkv * D);
      const expected = ref.gatedAttention(qn, refK, refV, outputGate ? gate : null, T, start + T, start, nq, nkv, D);
      const got = (await readF32(ctx.device, out)).subarray(0, T * nq * D);
      assert.ok(maxAbsDiff(got, expected) < 2e-6, `T=${T} after ${start}: nq=${nq} nkv=${nkv} D=${D} gate=${outputGate} diff ${maxAbsDiff(got, expected)}`);
      start += T;
    }
  }
  ctx.pool.destroyAll();
});

test('causal conv1d + SiLU carries its window across calls', async () => {
  const ctx = await testContext();
  for (const [C, K, T1, T2] of [[5, 4, 1, 1], [37, 4, 13, 1], [96, 3, 2, 7], [6144, 4, 3, 1]]) {
    const conv = await CausalConv1d.create(ctx, K);
    const w = seededValues(C * K, 3);
    const state = emptyF32(ctx, C * (K - 1));
    const refState = new Float32Array(C * (K - 1));
    for (const T of [T1, T2]) {
      const inStride = C + 3;
      const x = seededValues(T * inStride, T);
      const out = emptyF32(ctx, T * C);
      await run(ctx, (b) => conv.record(b, { x: upload(ctx, x), w: upload(ctx, w), state, out, T, C, inStride }));
      const xs = new Float32Array(T * C);
      for (let t = 0; t < T; t++) xs.set(x.subarray(t * inStride, t * inStride + C), t * C);
      const expected = ref.causalConv1dSilu(xs, w, refState, T, C, K);
      assert.ok(maxAbsDiff(await readF32(ctx.device, out), expected) < 1e-5, `C=${C} K=${K} T=${T}`);
      assert.equal(maxAbsDiff(await readF32(ctx.device, state), refState), 0, 'state');
    }
  }
  ctx.pool.destroyAll();
});

test('gated delta rule: recurrent and chunked kernels equal the reference recurrence (output and state)', async () => {
  const ctx = await testContext();
  for (const [T, nk, nv, dk, dv] of [[1, 2, 4, 16, 24], [37, 2, 4, 16, 24], [130, 1, 3, 32, 20], [70, 2, 2, 128, 128]]) {
    const convDim = 2 * nk * dk + nv * dv;
    const conv = seededValues(T * convDim, dk + T);
    const P = 2 * nv + 3;
    const proj = seededValues(T * P, 5, 3);
    const aLog = Float32Array.from({ length: nv }, (_, h) => Math.log(0.05 + h / nv));
    const dtBias = seededValues(nv, 9);
    const state0 = seededValues(nv * dk * dv, 4, 0.1);
    // Reference: split q|k|v, l2-normalise, gates from a/b, then the recurrence.
    const q = new Float32Array(T * nk * dk);
    const k = new Float32Array(T * nk * dk);
    const v = new Float32Array(T * nv * dv);
    const a = new Float32Array(T * nv);
    const bGate = new Float32Array(T * nv);
    for (let t = 0; t < T; t++) {
      q.set(conv.subarray(t * convDim, t * convDim + nk * dk), t * nk * dk);
      k.set(conv.subarray(t * convDim + nk * dk, t * convDim + 2 * nk * dk), t * nk * dk);
      v.set(conv.subarray(t * convDim + 2 * nk * dk, (t + 1) * convDim), t * nv * dv);
      bGate.set(proj.subarray(t * P + 1, t * P + 1 + nv), t * nv);
      a.set(proj.subarray(t * P + 1 + nv, t * P + 1 + 2 * nv), t * nv);
    }
    const qn = ref.l2NormalizeHeads(q, T, nk, dk, 1 / Math.sqrt(dk));
    const kn = ref.l2NormalizeHeads(k, T, nk, dk, 1);
    const { g, beta } = ref.gdnGatesAndBeta(a, bGate, aLog, dtBias, T, nv);
    const refState = Float32Array.from(state0);
    const expected = ref.gatedDeltaRuleRecurrent(qn, kn, v, g, beta, refState, T, nk, nv, dk, dv);
    const rule = await GatedDeltaRule.create(ctx, { nk, nv, dk, dv });
    for (const form of ['recurrent', 'chunked'] as const) {
      const state = upload(ctx, state0);
      const out = emptyF32(ctx, T * nv * dv);
      await run(ctx, (b) => rule.record(b, {
        conv: upload(ctx, conv), proj: upload(ctx, proj), projStride: P, bOffset: 1, aOffset: 1 + nv,
        aLog: upload(ctx, aLog), dtBias: upload(ctx, dtBias), state, out, T,
      }, form));
      const label = `${form} T=${T} nk=${nk} nv=${nv} dk=${dk} dv=${dv} (chunk ${rule.chunkSize})`;
      assert.ok(relDiff(await readF32(ctx.device, out), expected) < 1e-5, `${label}: output`);
      assert.ok(relDiff(await readF32(ctx.device, state), refState) < 1e-5, `${label}: state`);
    }
  }
  ctx.pool.destroyAll();
});

test('gated rmsnorm and swiglu', async () => {
  const ctx = await testContext();
  const gatedNorm = await GatedRmsNorm.create(ctx);
  const swiglu = await SwiGlu.create(ctx);
  for (const [T, nv, dv] of [[1, 4, 24], [7, 16, 128], [3, 3, 5]]) {
    const o = seededValues(T * nv * dv, 1, 0.01);
    const zStride = nv * dv + 9;
    const zAll = seededValues(T * zStride, 2, 3);
    const w = seededValues(dv, 3);
    const y = emptyF32(ctx, T * nv * dv);
    await run(ctx, (b) => gatedNorm.record(b, { o: upload(ctx, o), z: upload(ctx, zAll), zStride, zOffset: 4, weight: upload(ctx, w), y, T, nv, dv, eps: 1e-6 }));
    const z = new Float32Array(T * nv * dv);
    for (let t = 0; t < T; t++) z.set(zAll.subarray(t * zStride + 4, t * zStride + 4 + nv * dv), t * nv * dv);
    assert.ok(relDiff(await readF32(ctx.device, y), ref.gatedRmsNorm(o, z, w, T, nv, dv, 1e-6)) < 1e-5, `gated norm T=${T} nv=${nv} dv=${dv}`);
  }
  for (const [T, I] of [[1, 1], [3, 37], [130, 512]]) {
    const gu = seededValues(T * 2 * I, I, 4);
    const out = emptyF32(ctx, T * I);
    await run(ctx, (b) => swiglu.record(b, { gateUp: upload(ctx, gu), out, T, I }));
    assert.ok(relDiff(await readF32(ctx.device, out), ref.swiglu(gu, T, I)) < 1e-6, `swiglu T=${T} I=${I}`);
  }
  ctx.pool.destroyAll();
});

test('sampler: greedy, penalties, top-k, top-p and the inverse-CDF draw match the reference', async () => {
  const ctx = await testContext();
  const V = 1000;
  const sampler = await Sampler.create(ctx, V);
  const logits = seededValues(V, 77, 6);
  logits[123] = logits[456] = 9; // a tie at the top: the lowest id wins
  const cases: SamplingParams[] = [
    { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, presencePenalty: 0, frequencyPenalty: 0 },
    { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1.3, presencePenalty: 0.5, frequencyPenalty: 0.2 },
    { temperature: 1, topK: 1, topP: 1, repetitionPenalty: 1, presencePenalty: 0, frequencyPenalty: 0 },
    { temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.1, presencePenalty: 0, frequencyPenalty: 0 },
    { temperature: 1, topK: 0, topP: 0.95, repetitionPenalty: 1, presencePenalty: 1.5, frequencyPenalty: 0 },
    { temperature: 1.5, topK: 0, topP: 1, repetitionPenalty: 1, presencePenalty: 0, frequencyPenalty: 0 },
  ];
  const seen = new Uint32Array(V);
  seen[123] = 2;
  seen[7] = 1;
  seen[999] = 3;
  for (const [ci, params] of cases.entries()) {
    sampler.configure(params);
    for (let seed = 1; seed <= 6; seed++) {
      const counts = upload(ctx, seen);
      const token = emptyF32(ctx, 1);
      await run(ctx, (b) => sampler.record(b, { logits: upload(ctx, logits), counts, token }), 0, seed * 7919);
      const got = new Uint32Array((await readF32(ctx.device, token)).buffer)[0];
      const expected = ref.sampleToken(logits, params, seen, samplerUniform(seed * 7919));
      assert.equal(got, expected, `case ${ci} seed ${seed}`);
      const after = new Uint32Array((await readF32(ctx.device, counts)).buffer);
      assert.equal(after[got], seen[got] + 1, 'the sampled token is counted');
    }
  }
  ctx.pool.destroyAll();
});

test('scatter rows: visual rows replace or add at listed rows, by a sorted map, from an offset, in a chunk', async () => {
  const ctx = await testContext();
  const scatter = await ScatterRows.create(ctx);
  for (const [H, T, rowBase] of [[37, 11, 0], [64, 8, 5], [130, 3, 9]]) {
    const srcRows = 7;
    const src = seededValues(2 * srcRows * H, H); // two "levels"; the second is used
    // Prompt rows rowBase.. of this chunk, listed out of source order.
    const pairs = [[rowBase + 1, 4], [rowBase + 0, 6], [rowBase + T - 1, 0]].sort((a, b) => a[0] - b[0]);
    const map = upload(ctx, new Uint32Array([[rowBase + T + 3, 1], ...pairs].flat()));
    const x0 = seededValues(T * H, 9);
    for (const accumulate of [false, true]) {
      const out = upload(ctx, x0);
      await run(ctx, (b) => scatter.record(b, { map, mapOffset: 1, count: pairs.length, src: upload(ctx, src), srcOffset: srcRows * H, out, rowBase, H, accumulate }));
      const expected = x0.slice();
      for (const [row, s] of pairs) {
        for (let j = 0; j < H; j++) {
          const v = src[(srcRows + s) * H + j];
          expected[(row - rowBase) * H + j] = accumulate ? Math.fround(expected[(row - rowBase) * H + j] + v) : v;
        }
      }
      assert.equal(maxAbsDiff(await readF32(ctx.device, out), expected), 0, `H=${H} T=${T} accumulate=${accumulate}`);
    }
  }
  ctx.pool.destroyAll();
});
