// The matmul and embedding kernels in every weight format, against the CPU reference multiplying
// the very values the format stores (decoded by src/reference/quant.ts), on odd and round sizes,
// with weights split across parts, and in every fused variant (accumulate, RMSNorm, gate/up GLU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Embed } from '../src/kernels/embed.ts';
import { Matmul, type PrefillKernel } from '../src/kernels/matmul.ts';
import type { WeightFormat } from '../src/gpu/weights.ts';
import { encodeRows } from '../src/gpu/weight-formats.ts';
import { matrixLayout } from '../src/gpu/weights.ts';
import * as ref from '../src/reference/ops.ts';
import { decodeRows } from '../src/reference/quant.ts';
import { emptyF32, maxAbsDiff, readF32, run, seededValues, testContext, upload, uploadFormatted } from './helpers/gpu.ts';

const FORMATS: [WeightFormat, number | undefined][] = [['f32', undefined], ['f16', undefined], ['q8', 32], ['q8', 64], ['q4', 32], ['q4', 128]];
// [T, N, K]: odd and round; 300 x 1023 splits into 8 parts; T = 37 and 130 cross the prefill tiles.
const SHAPES = [[1, 7, 5], [1, 300, 1023], [1, 64, 64], [5, 13, 33], [37, 70, 129], [130, 96, 256]];
const SHAPES_FEW = [[1, 7, 5], [1, 300, 1023], [5, 13, 33], [37, 70, 129]];

function reference(x: Float32Array, w: Float32Array, T: number, N: number, K: number, o: { norm?: Float32Array; glu?: boolean }): Float32Array {
  const xn = o.norm ? ref.rmsNorm(x, o.norm, T, K, 1e-6, false) : x;
  const y = ref.matmul(xn, w, T, N, K);
  if (!o.glu) return y;
  const out = new Float32Array(T * (N / 2));
  for (let t = 0; t < T; t++) for (let i = 0; i < N / 2; i++) out[t * (N / 2) + i] = ref.silu(y[t * N + 2 * i]) * y[t * N + 2 * i + 1];
  return out;
}

async function checkFormats(prefill: PrefillKernel, subgroups: boolean, formats: typeof FORMATS, shapes: number[][]): Promise<void> {
  for (const [format, groupSize] of formats) {
    for (const [T, N0, K] of shapes) {
      const N = N0 + (N0 % 2); // even, so the same matrix serves the GLU variant
      // A binding cap of ~40 rows forces most matrices into several parts.
      const layout = matrixLayout(N, K, format, groupSize);
      // A GPU-style context (no barrierFree) also gets the GPU GEMV shape (2 rows per lane group, not 16).
      const ctx = await testContext('f16', 40 * (layout.rowWords + layout.scaleWords) * 4, { subgroups, barrierFree: prefill === 'direct' });
      const matmul = await Matmul.create(ctx, { formats: [{ format, groupSize: layout.groupSize }] });
      const x = seededValues(T * K, T + K, 2);
      const { m, stored } = uploadFormatted(ctx, seededValues(N * K, N, 0.5), N, K, format, groupSize);
      const norm = seededValues(K, 3, 0.5).map((v) => 1 + v);
      const y0 = seededValues(T * N, 7);
      const xBuf = upload(ctx, x);
      const normBuf = upload(ctx, norm);
      const outs = { acc: upload(ctx, y0), plain: emptyF32(ctx, T * N), norm: emptyF32(ctx, T * N), glu: emptyF32(ctx, T * N / 2) };
      await run(ctx, (b) => {
        matmul.record(b, { x: xBuf, w: m, y: outs.acc, T, accumulate: true });
        matmul.record(b, { x: xBuf, w: m, y: outs.plain, T });
        matmul.record(b, { x: xBuf, w: m, y: outs.norm, T, norm: { weight: normBuf, eps: 1e-6 } });
        matmul.record(b, { x: xBuf, w: m, y: outs.glu, T, norm: { weight: normBuf, eps: 1e-6 }, glu: true });
      });
      const label = `${format}${groupSize ?? ''} ${T === 1 ? 'gemv' : prefill} sg=${subgroups} T=${T} N=${N} K=${K} (${m.parts.length} parts)`;
      const tol = 2e-5 * Math.sqrt(K) * 4;
      const plain = reference(x, stored, T, N, K, {});
      assert.ok(maxAbsDiff(await readF32(ctx.device, outs.plain), plain) < tol, `${label}: plain ${maxAbsDiff(await readF32(ctx.device, outs.plain), plain)}`);
      assert.ok(maxAbsDiff(await readF32(ctx.device, outs.acc), plain.map((v, i) => v + y0[i])) < tol, `${label}: accumulate`);
      const normed = reference(x, stored, T, N, K, { norm });
      assert.ok(maxAbsDiff(await readF32(ctx.device, outs.norm), normed) < tol, `${label}: norm ${maxAbsDiff(await readF32(ctx.device, outs.norm), normed)}`);
      const glu = reference(x, stored, T, N, K, { norm, glu: true });
      assert.ok(maxAbsDiff(await readF32(ctx.device, outs.glu), glu) < tol, `${label}: norm + glu ${maxAbsDiff(await readF32(ctx.device, outs.glu), glu)}`);
      ctx.pool.destroyAll();
    }
  }
}

// SwiftShader compiles each matmul pipeline in ~0.3-0.5 s and runs the barrier-heavy tiled kernel
// slowly, so every format gets the odd shapes and the f16/q4 defaults the round ones too.
test('matmul, every format: GEMV (subgroups) and barrier-free prefill kernel', async () => {
  await checkFormats('direct', true, FORMATS.filter(([f, g]) => f !== 'f16' && !(f === 'q4' && g === 32)), SHAPES_FEW);
  await checkFormats('direct', true, [['f16', undefined], ['q4', 32]], SHAPES);
});
test('matmul, every format, as on a GPU: 2-row GEMV and workgroup-memory tiled prefill kernel', () => checkFormats('tiled', true, FORMATS, [[1, 7, 5], [5, 13, 33], [37, 70, 129]]));
test('matmul GEMV without subgroups (workgroup-memory lane sums)', async () => {
  await checkFormats('direct', false, [['f16', undefined], ['q4', 32]], [[1, 7, 5], [1, 300, 1023]]);
  await checkFormats('tiled', false, [['q8', 32]], [[1, 300, 1023]]);
});

test('embedding gather, every format, across split parts', async () => {
  for (const [format, groupSize] of FORMATS) {
    const [V, H, T] = [37, 45, 9];
    const layout = matrixLayout(V, H, format, groupSize);
    const ctx = await testContext('f16', 5 * (layout.rowWords + layout.scaleWords) * 4);
    const table = seededValues(V * H, 3);
    const { m, stored } = uploadFormatted(ctx, table, V, H, format, groupSize);
    assert.ok(m.parts.length > 1, 'the table is split');
    const ids = Uint32Array.from({ length: T }, (_, i) => (i * 17 + 3) % V);
    const out = emptyF32(ctx, T * H);
    const embed = await Embed.create(ctx, [{ format, groupSize: layout.groupSize }]);
    await run(ctx, (b) => embed.record(b, { ids: upload(ctx, ids), table: m, out, T }));
    const expected = new Float32Array(T * H);
    ids.forEach((id, t) => expected.set(stored.subarray(id * H, (id + 1) * H), t * H));
    assert.equal(maxAbsDiff(await readF32(ctx.device, out), expected), 0, `${format}${groupSize ?? ''}`);
    ctx.pool.destroyAll();
  }
});

test('quantized formats stay close to the values they encode', () => {
  const [rows, cols] = [16, 200];
  const values = seededValues(rows * cols, 11, 0.3);
  for (const [format, bound] of [['q8', 0.5 * 0.3 / 127], ['q4', 0.3 / 8]] as const) {
    const layout = matrixLayout(rows, cols, format, 32);
    const { words, scales } = encodeRows(values, rows, layout);
    const decoded = decodeRows(words, scales, rows, layout);
    // Half a step for q8; q4 (Q4_0) clips the side opposite the extreme by up to one step.
    assert.ok(maxAbsDiff(decoded, values) <= bound * 1.01 + 1e-6, `${format}: ${maxAbsDiff(decoded, values)}`);
  }
});
