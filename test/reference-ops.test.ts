// The reference ops against independent naive formulas and against each other (chunked vs
// recurrent delta rule), and the sampler's documented rule on hand-computable cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ref from '../src/reference/ops.ts';

/** Deterministic uniform values in [lo, hi) (mulberry32), so failures reproduce. */
function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

function relDiff(got: Float32Array, want: Float32Array): number {
  assert.equal(got.length, want.length);
  let d = 0;
  for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i] - want[i]));
  return d / Math.max(1e-30, maxAbs(want));
}

test('matmul and rmsNorm match hand-computed values', () => {
  // x [2, 3], w [2, 3]
  const y = ref.matmul(Float32Array.of(1, 2, 3, 4, 5, 6), Float32Array.of(1, 0, -1, 0.5, 0.5, 0.5), 2, 2, 3);
  assert.deepEqual(Array.from(y), [-2, 3, -2, 7.5]);
  const x = Float32Array.of(3, 4);
  const rms = Math.sqrt(12.5 + 1e-6);
  const plain = ref.rmsNorm(x, Float32Array.of(2, 0.5), 1, 2, 1e-6, false);
  const centred = ref.rmsNorm(x, Float32Array.of(1, -0.5), 1, 2, 1e-6, true);
  for (const out of [plain, centred]) {
    assert.ok(Math.abs(out[0] - (3 / rms) * 2) < 1e-6 && Math.abs(out[1] - (4 / rms) * 0.5) < 1e-6);
  }
});

test('gated delta rule: chunked equals recurrent (outputs and final state) for every chunk size', () => {
  const [nk, nv, dk, dv] = [2, 6, 13, 11];
  for (const T of [1, 5, 64, 130]) {
    const q = ref.l2NormalizeHeads(uniform(T * nk * dk, 1 + T), T, nk, dk, 1 / Math.sqrt(dk));
    const k = ref.l2NormalizeHeads(uniform(T * nk * dk, 2 + T), T, nk, dk, 1);
    const v = uniform(T * nv * dv, 3 + T, -2, 2);
    // Realistic gates: mostly mild decay, every 17th a near-reset (g = -20); beta in [0, 1].
    const g = uniform(T * nv, 4 + T, -3, -1e-4).map((x, i) => (i % 17 === 3 ? -20 : x));
    const beta = uniform(T * nv, 5 + T, 0, 1);
    const initial = uniform(nv * dk * dv, 6 + T, -0.5, 0.5);
    const recurrentState = initial.slice();
    const want = ref.gatedDeltaRuleRecurrent(q, k, v, g, beta, recurrentState, T, nk, nv, dk, dv);
    for (const chunk of [1, 7, 16, 64]) {
      const state = initial.slice();
      const got = ref.gatedDeltaRuleChunked(q, k, v, g, beta, state, T, nk, nv, dk, dv, chunk);
      assert.ok(relDiff(got, want) < 1e-5, `T=${T} chunk=${chunk} output differs by ${relDiff(got, want)}`);
      assert.ok(relDiff(state, recurrentState) < 1e-5, `T=${T} chunk=${chunk} state differs by ${relDiff(state, recurrentState)}`);
    }
  }
});

test('gated delta rule: one recurrent step matches the formula written out', () => {
  // nk = nv = 1, dk = 2, dv = 1: S' = S·e^g + k (β (v − e^g Sᵀk)); o = S'ᵀq.
  const S = Float32Array.of(0.5, -1);
  const [k0, k1, v, g, b, q0, q1] = [0.6, 0.8, 2, -0.5, 0.25, 1, -1];
  const d = Math.exp(g);
  const delta = b * (v - d * (0.5 * k0 - 1 * k1));
  const S2 = [0.5 * d + k0 * delta, -1 * d + k1 * delta];
  const o = ref.gatedDeltaRuleRecurrent(Float32Array.of(q0, q1), Float32Array.of(k0, k1), Float32Array.of(v),
    Float32Array.of(g), Float32Array.of(b), S, 1, 1, 1, 2, 1);
  assert.ok(Math.abs(o[0] - (S2[0] * q0 + S2[1] * q1)) < 1e-6);
  assert.ok(Math.abs(S[0] - S2[0]) < 1e-6 && Math.abs(S[1] - S2[1]) < 1e-6);
});

test('gdnGatesAndBeta: softplus is linear above 20 and stable far below', () => {
  const { g, beta } = ref.gdnGatesAndBeta(Float32Array.of(30, -100, 0), Float32Array.of(0, 50, -50), Float32Array.of(Math.log(2)),
    Float32Array.of(1), 3, 1);
  assert.ok(Math.abs(g[0] - -2 * 31) < 1e-4);
  assert.ok(g[1] <= 0 && g[1] > -1e-30);
  assert.ok(Math.abs(g[2] - -2 * Math.log1p(Math.E)) < 1e-6);
  assert.deepEqual(Array.from(beta, (x) => Math.round(x * 1e6) / 1e6), [0.5, 1, 0]);
});

test('rope: equal positions on all three axes is plain 1-D rotary embedding, tail dims untouched', () => {
  const [T, heads, D, R, theta] = [5, 3, 20, 12, 1e4];
  const x = uniform(T * heads * D, 11);
  const positions = new Int32Array(3 * T);
  for (let a = 0; a < 3; a++) for (let t = 0; t < T; t++) positions[a * T + t] = 3 + 7 * t;
  const got = x.slice();
  ref.ropeInPlace(got, positions, T, heads, D, { theta, rotaryDim: R, mropeSection: [2, 2, 2] });
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < heads; h++) {
      const o = (t * heads + h) * D;
      for (let i = 0; i < R; i++) {
        // rotate_half pairs dim i with i ± R/2 and rotates by pos · θ^(-2(i mod R/2)/R).
        const j = i % (R / 2);
        const angle = (3 + 7 * t) * Math.pow(theta, (-2 * j) / R);
        const partner = i < R / 2 ? -x[o + i + R / 2] : x[o + i - R / 2];
        assert.ok(Math.abs(got[o + i] - (x[o + i] * Math.cos(angle) + partner * Math.sin(angle))) < 1e-5);
      }
      for (let i = R; i < D; i++) assert.equal(got[o + i], x[o + i]);
    }
  }
});

test('rope: interleaved M-RoPE assigns frequencies THWTHW… within the sections', () => {
  const axes = (section: [number, number, number], n: number) =>
    Array.from({ length: n }, (_, j) => 'THW'[ref.mropeAxis(j, section)]).join('');
  assert.equal(axes([11, 11, 10], 32), 'THWTHWTHWTHWTHWTHWTHWTHWTHWTHWTH');
  assert.equal(axes([2, 1, 1], 4), 'THWT');
  assert.equal(axes([24, 20, 20], 64), 'THW'.repeat(20) + 'TTTT');
  // Moving only the height position rotates exactly the height frequencies.
  const [D, R] = [8, 8];
  const x = uniform(D, 5);
  const a = x.slice();
  const b = x.slice();
  const rope = { theta: 100, rotaryDim: R, mropeSection: [2, 1, 1] as [number, number, number] };
  ref.ropeInPlace(a, Int32Array.of(4, 4, 4), 1, 1, D, rope);
  ref.ropeInPlace(b, Int32Array.of(4, 9, 4), 1, 1, D, rope);
  const changed = Array.from({ length: R }, (_, i) => a[i] !== b[i]);
  assert.deepEqual(changed, [false, true, false, false, false, true, false, false]);
});

/** Softmax attention written the long way: kv heads repeated, a full masked score matrix. */
function naiveAttention(q: Float32Array, k: Float32Array, v: Float32Array, gate: Float32Array, T: number, S: number, start: number, nq: number, nkv: number, D: number) {
  const out = new Float32Array(T * nq * D);
  for (let h = 0; h < nq; h++) {
    const kvh = Math.floor((h * nkv) / nq);
    for (let t = 0; t < T; t++) {
      const scores = Array.from({ length: S }, (_, s) => {
        if (s > start + t) return -Infinity;
        let dot = 0;
        for (let i = 0; i < D; i++) dot += q[(t * nq + h) * D + i] * k[(s * nkv + kvh) * D + i];
        return dot / Math.sqrt(D);
      });
      const m = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let i = 0; i < D; i++) {
        let o = 0;
        for (let s = 0; s < S; s++) o += (e[s] / z) * v[(s * nkv + kvh) * D + i];
        out[(t * nq + h) * D + i] = o / (1 + Math.exp(-gate[(t * nq + h) * D + i]));
      }
    }
  }
  return out;
}

test('attention matches the naive masked formula on odd sizes, GQA and a cache offset', () => {
  for (const [T, start, extra, nq, nkv, D] of [[1, 0, 0, 1, 1, 3], [5, 0, 0, 6, 2, 7], [3, 9, 4, 4, 1, 5], [1, 12, 0, 8, 2, 33]]) {
    const S = start + T + extra; // rows past start + T must be ignored
    const q = uniform(T * nq * D, T + 1, -2, 2);
    const k = uniform(S * nkv * D, S + 2, -2, 2);
    const v = uniform(S * nkv * D, S + 3);
    const gate = uniform(T * nq * D, T + 4, -3, 3);
    const got = ref.gatedAttention(q, k, v, gate, T, S, start, nq, nkv, D);
    assert.ok(relDiff(got, naiveAttention(q, k, v, gate, T, S, start, nq, nkv, D)) < 1e-6, `T=${T} start=${start} nq=${nq} nkv=${nkv} D=${D}`);
  }
});

test('causal conv1d: zero state is zero padding, and a split sequence continues through the state', () => {
  const [T, C, K] = [9, 5, 4];
  const x = uniform(T * C, 21);
  const w = uniform(C * K, 22);
  const whole = ref.causalConv1dSilu(x, w, new Float32Array(C * (K - 1)), T, C, K);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const i = t - (K - 1) + k;
        if (i >= 0) s += w[c * K + k] * x[i * C + c];
      }
      assert.ok(Math.abs(whole[t * C + c] - s / (1 + Math.exp(-s))) < 1e-6);
    }
  }
  const state = new Float32Array(C * (K - 1));
  const parts = [2, 1, 6].map((n, i, all) => {
    const t0 = all.slice(0, i).reduce((a, b) => a + b, 0);
    return ref.causalConv1dSilu(x.subarray(t0 * C, (t0 + n) * C), w, state, n, C, K);
  });
  const joined = new Float32Array(T * C);
  parts.reduce((at, part) => (joined.set(part, at), at + part.length), 0);
  assert.deepEqual(joined, whole);
  for (let c = 0; c < C; c++) for (let i = 0; i < K - 1; i++) assert.equal(state[c * (K - 1) + i], x[(T - (K - 1) + i) * C + c]);
});

test('gatedRmsNorm and swiglu match their formulas', () => {
  const silu = (z: number) => z / (1 + Math.exp(-z));
  const o = Float32Array.of(1, 2, 3, -1, 0, 1);
  const z = Float32Array.of(0.5, -1, 2, 1, 1, -3);
  const w = Float32Array.of(2, 1, 0.5);
  const got = ref.gatedRmsNorm(o, z, w, 1, 2, 3, 1e-6);
  for (let h = 0; h < 2; h++) {
    const rms = Math.sqrt((o[3 * h] ** 2 + o[3 * h + 1] ** 2 + o[3 * h + 2] ** 2) / 3 + 1e-6);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(got[3 * h + i] - (o[3 * h + i] / rms) * w[i] * silu(z[3 * h + i])) < 1e-6);
  }
  const sw = ref.swiglu(Float32Array.of(1, -2, 3, 4), 1, 2);
  assert.ok(Math.abs(sw[0] - silu(1) * 3) < 1e-6 && Math.abs(sw[1] - silu(-2) * 4) < 1e-6);
});

const plain = { temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, presencePenalty: 0, frequencyPenalty: 0 };
const none = (V: number) => new Uint32Array(V);

test('sampler: greedy, top-k 1 and a tiny top-p always give the argmax (lowest id on ties)', () => {
  const logits = uniform(500, 31, -5, 5);
  let argmax = 0;
  for (let i = 0; i < logits.length; i++) if (logits[i] > logits[argmax]) argmax = i;
  logits[argmax + 1] = logits[argmax]; // a tie just after it
  for (const u of [0, 0.3, 0.5, 0.999999]) {
    assert.equal(ref.sampleToken(logits, { ...plain, temperature: 0 }, none(500), u), argmax);
    assert.equal(ref.sampleToken(logits, { ...plain, topK: 1 }, none(500), u), argmax);
    assert.equal(ref.sampleToken(logits, { ...plain, topP: 1e-9 }, none(500), u), argmax);
  }
});

test('sampler: penalties follow HF repetition, then presence and frequency', () => {
  // Greedy reads off the adjusted logits: make the token that should win depend on each rule.
  const logits = Float32Array.of(4, 3.5, -1, -1.5);
  const counts = Uint32Array.of(1, 0, 0, 0);
  const greedy = { ...plain, temperature: 0 };
  // 4 / 1.2 = 3.33 < 3.5: the seen positive logit drops below token 1.
  assert.equal(ref.sampleToken(logits, { ...greedy, repetitionPenalty: 1.2 }, counts, 0), 1);
  assert.equal(ref.sampleToken(logits, { ...greedy, repetitionPenalty: 1.1 }, counts, 0), 0);
  // Negative seen logits are multiplied: -1 · 2 = -2 < -1.5.
  const negative = Float32Array.of(-1, -1.5);
  assert.equal(ref.sampleToken(negative, { ...greedy, repetitionPenalty: 2 }, Uint32Array.of(1, 0), 0), 1);
  // Presence subtracts once; frequency per occurrence: 4 − 0.2·3 = 3.4 < 3.5, 4 − 0.1·3 = 3.7.
  assert.equal(ref.sampleToken(logits, { ...greedy, presencePenalty: 0.6 }, counts, 0), 1);
  assert.equal(ref.sampleToken(logits, { ...greedy, frequencyPenalty: 0.2 }, Uint32Array.of(3, 0, 0, 0), 0), 1);
  assert.equal(ref.sampleToken(logits, { ...greedy, frequencyPenalty: 0.1 }, Uint32Array.of(3, 0, 0, 0), 0), 0);
  // Unseen tokens are never penalised.
  assert.equal(ref.sampleToken(logits, { ...greedy, repetitionPenalty: 10, presencePenalty: 10, frequencyPenalty: 10 }, Uint32Array.of(0, 0, 0, 0), 0), 0);
});

test('sampler: a sweep of uniform01 reproduces softmax(l / temperature), top-k and top-p', () => {
  const logits = Float32Array.of(0.5, 2, -1, 1);
  const frequencies = (params: typeof plain) => {
    const n = 100000;
    const hits = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) hits[ref.sampleToken(logits, params, none(4), (i + 0.5) / n)]++;
    return hits.map((h) => h / n);
  };
  const softmax = (ids: number[], temperature: number) => {
    const e = ids.map((i) => Math.exp(logits[i] / temperature));
    const z = e.reduce((a, b) => a + b, 0);
    const p = [0, 0, 0, 0];
    ids.forEach((id, r) => (p[id] = e[r] / z));
    return p;
  };
  const close = (got: number[], want: number[]) => got.every((g, i) => Math.abs(g - want[i]) < 1e-4);
  assert.ok(close(frequencies(plain), softmax([0, 1, 2, 3], 1)));
  assert.ok(close(frequencies({ ...plain, temperature: 0.5 }), softmax([0, 1, 2, 3], 0.5)));
  assert.ok(close(frequencies({ ...plain, topK: 2 }), softmax([1, 3], 1)));
  // Probabilities (T = 1): 0.610, 0.224, 0.136, 0.030 for ids 1, 3, 0, 2.
  assert.ok(close(frequencies({ ...plain, topP: 0.8 }), softmax([1, 3], 1)));
  assert.ok(close(frequencies({ ...plain, topP: 0.84 }), softmax([1, 3, 0], 1)));
  // Inverse CDF in descending order: the smallest draws give the top token.
  assert.equal(ref.sampleToken(logits, plain, none(4), 0), 1);
  assert.equal(ref.sampleToken(logits, plain, none(4), 0.9999), 2);
});

test('sampler: ties at the top-k boundary are kept, and tied tokens draw as their lowest id', () => {
  const logits = Float32Array.of(1, 3, 1, 0);
  const hits = new Set<number>();
  for (let i = 0; i < 1000; i++) hits.add(ref.sampleToken(logits, { ...plain, topK: 2 }, none(4), i / 1000));
  assert.deepEqual([...hits].sort(), [0, 1]);
});
