// The vision tower's kernels against their plain-TS references, on odd and round sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GridThw } from '../src/loader/vision-config.ts';
import { BiasAct } from '../src/kernels/bias-act.ts';
import { LayerNorm } from '../src/kernels/layernorm.ts';
import { VisionAttention } from '../src/kernels/vision-attention.ts';
import { VisionPatchify } from '../src/kernels/vision-patchify.ts';
import { VisionPosEmbed } from '../src/kernels/vision-pos-embed.ts';
import { VisionResize } from '../src/kernels/vision-resize.ts';
import { VisionRope } from '../src/kernels/vision-rope.ts';
import { resampleTaps, resizeRgb } from '../src/vision/resize.ts';
import { attentionSegments, axialRopeTable, patchCount, positionTaps } from '../src/model/vision-tables.ts';
import * as ref from '../src/reference/vision-ops.ts';
import { emptyF32, maxAbsDiff, readF32, run, seededValues, testContext, upload, uploadMatrix } from './helpers/gpu.ts';

const relDiff = (a: Float32Array, b: Float32Array) => maxAbsDiff(a, b) / Math.max(1e-12, ...Array.from(b, Math.abs));
/** An image of 60 patches, a 2-group video of 8×6, and a lone 2×2 image: segment boundaries inside workgroups. */
const GRIDS: GridThw[][] = [[{ t: 1, h: 2, w: 2 }], [{ t: 1, h: 6, w: 10 }, { t: 2, h: 8, w: 6 }, { t: 1, h: 2, w: 2 }], [{ t: 1, h: 20, w: 18 }]];

test('layernorm with bias on odd and round rows', async () => {
  const ctx = await testContext();
  const norm = await LayerNorm.create(ctx);
  for (const [rows, n] of [[1, 1], [3, 37], [4, 256], [2, 1152], [5, 1000]]) {
    const x = seededValues(rows * n, n, 3).map((v, i) => v + (i % 7) * 0.5);
    const w = seededValues(n, 5).map((v) => 1 + v);
    const bias = seededValues(n, 6);
    const y = emptyF32(ctx, rows * n);
    await run(ctx, (b) => norm.record(b, { x: upload(ctx, x), weight: upload(ctx, w), bias: upload(ctx, bias), y, rows, n, eps: 1e-6 }));
    const expected = ref.layerNorm(x, w, bias, rows, n, 1e-6);
    assert.ok(maxAbsDiff(await readF32(ctx.device, y), expected) < 2e-5, `rows=${rows} n=${n}`);
  }
  ctx.pool.destroyAll();
});

test('bias + activation in place: none, gelu_pytorch_tanh, exact gelu', async () => {
  const ctx = await testContext();
  const biasAct = await BiasAct.create(ctx);
  const acts = { none: (x: number) => x, gelu_tanh: ref.geluTanh, gelu_erf: ref.geluErf } as const;
  for (const [rows, n] of [[1, 1], [7, 13], [64, 96], [3, 1537]]) {
    for (const [act, fn] of Object.entries(acts) as [keyof typeof acts, (x: number) => number][]) {
      const y0 = seededValues(rows * n, rows + n, 6);
      const bias = seededValues(n, n, 2);
      const y = upload(ctx, y0);
      await run(ctx, (b) => biasAct.record(b, { y, bias: upload(ctx, bias), rows, n, act }));
      const expected = y0.map((v, i) => fn(Math.fround(v + bias[i % n])));
      assert.ok(maxAbsDiff(await readF32(ctx.device, y), expected) < 2e-6, `${act} rows=${rows} n=${n}`);
    }
  }
  ctx.pool.destroyAll();
});

test('patchify: temporal pairing (odd frame counts repeat the last), merge-block order, fused normalisation', async () => {
  const ctx = await testContext();
  const norm = { scale: 1, mean: [127.5, 100, 3] as const, std: [127.5, 50.25, 64] as const };
  for (const [F, H, W, p, Tp, m] of [[1, 32, 32, 16, 2, 2], [3, 32, 64, 16, 2, 2], [2, 24, 40, 8, 1, 1], [5, 16, 48, 8, 2, 2]]) {
    const frames = Uint8Array.from({ length: F * H * W * 3 }, (_, i) => (i * 2654435761) >>> 24);
    const patchify = await VisionPatchify.create(ctx, p, Tp, m);
    const expected = ref.patchify(frames, F, H, W, p, Tp, m, norm);
    const out = emptyF32(ctx, expected.pixels.length + 7 * patchify.patchDim);
    const words = new Uint32Array(Math.ceil(frames.length / 4));
    new Uint8Array(words.buffer).set(frames);
    // Rows from 7 on, as a second item of a request would be written.
    await run(ctx, (b) => patchify.record(b, { frames: upload(ctx, words), frameCount: F, width: W, height: H, groups: expected.grid.t, rowOffset: 7 }, norm, out));
    const got = (await readF32(ctx.device, out)).subarray(7 * patchify.patchDim);
    assert.equal(maxAbsDiff(got, expected.pixels), 0, `F=${F} ${H}x${W} p=${p} Tp=${Tp} m=${m}`);
  }
  ctx.pool.destroyAll();
});

for (const storage of ['f16', 'f32'] as const) {
  test(`position table resampled per patch (${storage}), table split across parts`, async () => {
    for (const [side, Hv] of [[8, 13], [4, 48]]) {
      // A binding cap of 5 rows splits the table into several parts.
      const ctx = await testContext(storage, 5 * Math.ceil(Hv / 2) * 8);
      const posEmbed = await VisionPosEmbed.create(ctx);
      const table = seededValues(side * side * Hv, side + Hv);
      const m = uploadMatrix(ctx, table, side * side, Hv);
      assert.ok(m.parts.length > 1, 'the table is split');
      for (const grids of GRIDS) {
        const N = patchCount(grids);
        const x0 = seededValues(N * Hv, N);
        const x = upload(ctx, x0);
        const taps = positionTaps(grids, side, 2);
        await run(ctx, (b) => posEmbed.record(b, { index: upload(ctx, taps.index), weight: upload(ctx, taps.weight), table: m, x, N }));
        const expected = ref.interpolatePosEmbed(table, side, Hv, grids, 2).map((v, i) => v + x0[i]);
        assert.ok(maxAbsDiff(await readF32(ctx.device, x), expected) < 2e-6, `side=${side} Hv=${Hv} N=${N}`);
      }
      ctx.pool.destroyAll();
    }
  });
}

test('axial rotary on q and k of the fused qkv rows; v untouched', async () => {
  const ctx = await testContext();
  for (const [heads, hd] of [[3, 12], [2, 16], [1, 72]]) {
    const rope = await VisionRope.create(ctx, hd);
    for (const grids of GRIDS) {
      const N = patchCount(grids);
      const Hv = heads * hd;
      const qkv0 = seededValues(N * 3 * Hv, N + hd);
      const qkv = upload(ctx, qkv0);
      await run(ctx, (b) => rope.record(b, { rope: upload(ctx, axialRopeTable(grids, 2, hd, 10000)), qkv, N, heads }));
      const expected = qkv0.slice();
      for (const s of [0, 1]) {
        const part = new Float32Array(N * Hv);
        for (let n = 0; n < N; n++) part.set(qkv0.subarray((n * 3 + s) * Hv, (n * 3 + s + 1) * Hv), n * Hv);
        ref.axialRopeInPlace(part, grids, 2, heads, hd, 10000);
        for (let n = 0; n < N; n++) expected.set(part.subarray(n * Hv, (n + 1) * Hv), (n * 3 + s) * Hv);
      }
      assert.ok(maxAbsDiff(await readF32(ctx.device, qkv), expected) < 5e-6, `heads=${heads} hd=${hd} N=${N}`);
    }
  }
  ctx.pool.destroyAll();
});

test('segment attention: bidirectional within each image / temporal group, several key tiles and workgroups', async () => {
  const ctx = await testContext();
  // Each head size is its own pipeline, and SwiftShader takes seconds to compile one: a tiny and the real one.
  for (const [heads, hd] of [[2, 12], [1, 72]]) {
    const attention = await VisionAttention.create(ctx, hd);
    for (const grids of GRIDS) {
      const N = patchCount(grids);
      const Hv = heads * hd;
      const qkv = seededValues(N * 3 * Hv, N * hd, 2);
      const out = emptyF32(ctx, N * Hv);
      await run(ctx, (b) => attention.record(b, { seg: upload(ctx, attentionSegments(grids)), qkv: upload(ctx, qkv), out, N, heads }));
      const [q, k, v] = [0, 1, 2].map((s) => {
        const part = new Float32Array(N * Hv);
        for (let n = 0; n < N; n++) part.set(qkv.subarray((n * 3 + s) * Hv, (n * 3 + s + 1) * Hv), n * Hv);
        return part;
      });
      const expected = ref.segmentAttention(q, k, v, ref.attentionSegments(grids), heads, hd);
      assert.ok(relDiff(await readF32(ctx.device, out), expected) < 2e-6, `heads=${heads} hd=${hd} grids=${JSON.stringify(grids)}`);
    }
  }
  ctx.pool.destroyAll();
});

test('resize passes on the GPU equal the CPU resampling byte for byte (Pillow and torch weights, several frames)', async () => {
  const ctx = await testContext();
  const resize = await VisionResize.create(ctx);
  const cases: [number, number, number, number, number, 'bicubic' | 'bilinear', 'pil' | 'torch'][] = [
    [1, 37, 53, 32, 64, 'bicubic', 'pil'], [3, 17, 9, 96, 32, 'bicubic', 'torch'], [2, 100, 30, 64, 48, 'bilinear', 'pil'], [1, 1, 1, 32, 32, 'bicubic', 'pil'], [1, 45, 71, 45, 32, 'bicubic', 'torch'],
  ];
  for (const [F, h, w, H, W, resample, backend] of cases) {
    const frames = Uint8Array.from({ length: F * h * w * 3 }, (_, i) => (i * 2654435761) >>> 24);
    const words = (bytes: number) => Math.ceil(bytes / 4);
    let current = upload(ctx, new Uint32Array(new Uint8Array(words(frames.length) * 4).map((_, i) => frames[i] ?? 0).buffer));
    let [cw, ch] = [w, h];
    const passes: ((b: import('../src/gpu/program.ts').ProgramBuilder) => void)[] = [];
    for (const axis of ['horizontal', 'vertical'] as const) {
      const [inSize, outSize] = axis === 'horizontal' ? [w, W] : [h, H];
      if (inSize === outSize) continue;
      const taps = resampleTaps(inSize, outSize, resample, backend);
      const lines = axis === 'horizontal' ? F * ch : F;
      const inner = axis === 'horizontal' ? 3 : cw * 3;
      const dst = emptyF32(ctx, words(lines * outSize * inner));
      const src = current;
      passes.push((b) => resize.record(b, {
        src, start: upload(ctx, taps.start), count: upload(ctx, taps.count), weights: upload(ctx, taps.weights),
        ksize: taps.ksize, precision: taps.precision, dst, lines, inSize, outSize, inner,
      }));
      current = dst;
      if (axis === 'horizontal') cw = W;
      else ch = H;
    }
    await run(ctx, (b) => passes.forEach((p) => p(b)));
    const got = new Uint8Array((await readF32(ctx.device, current)).buffer).subarray(0, F * H * W * 3);
    const expected = new Uint8Array(F * H * W * 3);
    for (let f = 0; f < F; f++) expected.set(resizeRgb({ width: w, height: h, data: frames.subarray(f * h * w * 3, (f + 1) * h * w * 3) }, W, H, resample, backend).data, f * H * W * 3);
    assert.deepEqual(got, expected, `${F}×${h}×${w} → ${H}×${W} ${resample} ${backend}`);
  }
  ctx.pool.destroyAll();
});
