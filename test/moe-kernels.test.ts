// The MoE kernels against their plain-TS references (odd and round sizes, every weight format,
// experts split across buffers), the grouping kernel on skewed routings, and the whole block on a
// hand-built layer whose output is a closed form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContextOptions, GpuContext } from '../src/gpu/context.ts';
import { matrixLayout, type WeightFormat } from '../src/gpu/weights.ts';
import { Matmul } from '../src/kernels/matmul.ts';
import { EXPERT_TILE, MoeCombine, MoeGroup, maxExpertTiles } from '../src/kernels/moe-group.ts';
import { MoeExperts } from '../src/kernels/moe-matmul.ts';
import { MoeRoute } from '../src/kernels/moe-route.ts';
import type { KernelSet } from '../src/layers/kernel-set.ts';
import { allocateMoeScratch, createMoeKernels, recordMoe, type MoeWeights } from '../src/layers/moe.ts';
import type { Scratch } from '../src/layers/scratch.ts';
import { readBuffer } from '../src/gpu/buffers.ts';
import { sigmoid, silu } from '../src/reference/activations.ts';
import * as ref from '../src/reference/moe.ts';
import { emptyF32, maxAbsDiff, readF32, run, seededValues, testContext, upload, uploadFormatted, uploadMatrix } from './helpers/gpu.ts';

/** One context for the routing, grouping and block tests (SwiftShader compiles slowly, pipelines are cached per device). */
let shared: Promise<GpuContext> | null = null;
const context = () => (shared ??= testContext('f16', 16384));

const readU32 = async (ctx: GpuContext, buffer: GPUBuffer, count: number) => new Uint32Array(await readBuffer(ctx.device, buffer, 0, count * 4));
const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

test('moe_route: softmax, top-k and renormalised weights, and the gated shared activation', async () => {
  const ctx = await context();
  for (const [T, E, k, Is] of [[1, 8, 2, 64], [7, 5, 3, 13], [33, 256, 8, 512], [3, 130, 10, 7], [2, 4, 4, 1]]) {
    const P = E + 1 + 2 * Is;
    const proj = seededValues(T * P, E + T, 4);
    // Token 0 has a row of equal logits: every probability ties, so the first k experts win.
    proj.fill(0.5, 0, E);
    const ids = emptyF32(ctx, T * k);
    const weights = emptyF32(ctx, T * k);
    const shared = emptyF32(ctx, T * Is);
    const route = await MoeRoute.create(ctx, E, k);
    await run(ctx, (b) => route.record(b, { proj: upload(ctx, proj), P, Is, ids, weights, sharedAct: shared, T }));
    const logits = new Float32Array(T * E);
    for (let t = 0; t < T; t++) logits.set(proj.subarray(t * P, t * P + E), t * E);
    const want = ref.moeRoute(logits, T, E, k);
    assert.deepEqual(await readU32(ctx, ids, T * k), want.ids, `ids T=${T} E=${E} k=${k}`);
    assert.deepEqual(Array.from(want.ids.subarray(0, k)), Array.from({ length: k }, (_, i) => i), 'a full tie goes to the lowest indices');
    assert.ok(maxAbsDiff(await readF32(ctx.device, weights), want.weights) < 1e-6, `weights T=${T} E=${E}`);
    const sharedWant = ref.moeSharedActivation(proj, T, P, E, Is);
    assert.ok(maxAbsDiff(await readF32(ctx.device, shared), sharedWant) < 1e-6 * Math.max(1, maxAbs(sharedWant)), `shared T=${T}`);
    ctx.pool.destroyAll();
  }
});

test('moe_group: counting sort and tile list on skewed routings (one expert takes all, empty experts)', async () => {
  const ctx = await context();
  const random = (n: number, E: number) => Uint32Array.from(seededValues(n, n + E), (v) => Math.min(E - 1, Math.floor(((v + 1) / 2) * E)));
  const cases: [string, number, Uint32Array][] = [
    ['every assignment to expert 4', 6, new Uint32Array(100).fill(4)],
    ['one expert, exactly two tiles', 3, new Uint32Array(2 * EXPERT_TILE).fill(1)],
    ['only experts 0 and 8 of 9', 9, Uint32Array.from({ length: 77 }, (_, a) => (a % 3 ? 0 : 8))],
    ['one assignment', 1, Uint32Array.of(0)],
    ['random over 300 experts', 300, random(1000, 300)],
    ['random over 5 experts', 5, random(257, 5)],
  ];
  for (const [what, E, ids] of cases) {
    const n = ids.length;
    const group = await MoeGroup.create(ctx, E);
    const perm = emptyF32(ctx, n);
    const tiles = emptyF32(ctx, 1 + 3 * maxExpertTiles(n, E));
    await run(ctx, (b) => group.record(b, { ids: upload(ctx, ids), perm, tiles, n }));
    const want = ref.moeGroup(ids, E, EXPERT_TILE);
    assert.ok(want.tiles.length <= maxExpertTiles(n, E), `${what}: the tile bound holds`);
    const gotTiles = await readU32(ctx, tiles, 1 + 3 * want.tiles.length);
    assert.equal(gotTiles[0], want.tiles.length, `${what}: tile count`);
    assert.deepEqual(Array.from(gotTiles.subarray(1)), want.tiles.flatMap((t) => [t.expert, t.start, t.end]), `${what}: tiles`);
    // Within an expert the GPU's order is free; as sets, each expert's run must match.
    const gotPerm = await readU32(ctx, perm, n);
    for (let e = 0; e < E; e++) {
      const [from, to] = [want.offsets[e], want.offsets[e + 1]];
      assert.deepEqual(Array.from(gotPerm.subarray(from, to)).sort((a, b) => a - b), Array.from(want.perm.subarray(from, to)), `${what}: expert ${e}'s assignments`);
    }
    ctx.pool.destroyAll();
  }
});

type Format = [WeightFormat, number | undefined];
type ExpertCase = [T: number, E: number, k: number, H: number, Im: number];
const FORMATS: Format[] = [['f32', undefined], ['f16', undefined], ['q8', 32], ['q8', 64], ['q4', 32], ['q4', 128]];
// [T, E, k, H, Im]: round and odd hidden sizes and widths, one to 70 tokens.
const CASES: ExpertCase[] = [[1, 8, 2, 64, 48], [1, 11, 3, 33, 37], [3, 12, 2, 40, 21], [37, 16, 4, 64, 64], [70, 9, 3, 35, 100]];

/**
 * Decode GEMVs and grouped tiled products against the reference multiplying the values the format
 * stores (src/reference/quant.ts), with a binding cap so small that each matrix is split into
 * parts of whole experts.
 */
async function checkExperts([format, groupSize]: Format, cases: ExpertCase[], options: ContextOptions = {}): Promise<void> {
  for (const [T, E, k, H, Im] of cases) {
    // The engine runs the GEMVs for one token; a few more check their token indexing. SwiftShader
    // runs every workgroup, even one that returns at once, so the long cases take the tiled path only.
    const gemv = T <= 3;
    const [gateUpLayout, downLayout] = [matrixLayout(2 * Im, H, format, groupSize), matrixLayout(H, Im, format, groupSize)];
    // The smallest cap that holds one gate/up expert and one block of down rows (two experts when H is odd: parts start at even rows).
    const cap = Math.max(2 * Im * gateUpLayout.rowWords, (H % 2 ? 2 : 1) * H * downLayout.rowWords) * 4;
    const ctx = await testContext('f16', cap, options);
    const wGateUp = uploadFormatted(ctx, seededValues(E * 2 * Im * H, E + H, 0.5), E * 2 * Im, H, format, groupSize, 'gate_up', 2 * Im);
    const wDown = uploadFormatted(ctx, seededValues(E * H * Im, Im, 0.5), E * H, Im, format, groupSize, 'down', H);
    assert.ok(wGateUp.m.parts.length > 1 && wDown.m.parts.length > 1, `${format}${groupSize ?? ''} T=${T} E=${E} H=${H} Im=${Im}: the experts are split across buffers (${wGateUp.m.parts.length} + ${wDown.m.parts.length})`);
    const x = seededValues(T * H, T);
    const routing = ref.moeRoute(seededValues(T * E, T + 3, 4), T, E, k);
    const y0 = seededValues(T * H, 9);
    const wantAct = ref.moeExpertGateUp(x, routing, wGateUp.stored, T, k, H, Im);
    const wantY = ref.moeExpertDown(wantAct, routing.ids, wDown.stored, T, k, H, Im).map((v, i) => v + y0[i]);

    const experts = await MoeExperts.create(ctx, { experts: E, topK: k, hidden: H, width: Im }, [{ format, groupSize: gateUpLayout.groupSize }]);
    const group = await MoeGroup.create(ctx, E);
    const combine = await MoeCombine.create(ctx);
    const [xb, ids, weights] = [upload(ctx, x), upload(ctx, routing.ids), upload(ctx, routing.weights)];
    const actRouted = emptyF32(ctx, T * k * Im);
    const actGrouped = emptyF32(ctx, T * k * Im);
    const yRouted = upload(ctx, y0);
    const yGrouped = upload(ctx, y0);
    const perm = emptyF32(ctx, T * k);
    const tiles = emptyF32(ctx, 1 + 3 * maxExpertTiles(T * k, E));
    const expertOut = emptyF32(ctx, T * k * H);
    await run(ctx, (b) => {
      if (gemv) {
        experts.gateUpRouted(b, { x: xb, ids, weights, T, w: wGateUp.m, act: actRouted });
        experts.downRouted(b, { ids, T, act: actRouted, w: wDown.m, y: yRouted });
      }
      group.record(b, { ids, perm, tiles, n: T * k });
      experts.gateUpGrouped(b, { x: xb, weights, perm, tiles, T, w: wGateUp.m, act: actGrouped });
      experts.downGrouped(b, { perm, tiles, T, act: actGrouped, w: wDown.m, expertOut });
      combine.record(b, { expertOut, x: yGrouped, T, H, topK: k });
    });
    const what = `${format}${groupSize ?? ''} T=${T} E=${E} k=${k} H=${H} Im=${Im} (${wGateUp.m.parts.length} + ${wDown.m.parts.length} parts)`;
    // float32 sums in another order: a few ulps per term.
    const tol = (K: number, scale: number) => 2e-6 * Math.sqrt(K) * Math.max(1, scale);
    const check = async (name: string, buffer: GPUBuffer, want: Float32Array, K: number) => {
      const d = maxAbsDiff(await readF32(ctx.device, buffer), want);
      assert.ok(d < tol(K, maxAbs(want)), `${name} ${what}: ${d}`);
    };
    if (gemv) {
      await check('gate/up GEMV', actRouted, wantAct, H);
      await check('down GEMV', yRouted, wantY, k * Im);
    }
    await check('gate/up tiled', actGrouped, wantAct, H);
    await check('down tiled + combine', yGrouped, wantY, k * Im);
    ctx.pool.destroyAll();
  }
}

// SwiftShader compiles each pipeline in ~0.3-0.5 s and runs barrier workgroups slowly: f16 and q4
// (the default and the smallest) get every case, the other formats the short odd ones (which take
// the tiled path too).
test('moe expert matmuls, every format: decode GEMVs and grouped tiled products, experts split across buffers', async () => {
  for (const format of FORMATS) {
    const every = (format[0] === 'f16' || format[0] === 'q4') && format[1] !== 128;
    await checkExperts(format, every ? CASES : CASES.filter(([T, , , H, Im]) => T <= 3 && (H % 32 !== 0 || Im % 32 !== 0)));
  }
});
test('moe expert kernels as on a GPU (2-row GEMVs, workgroup-memory tiled products) and GEMVs without subgroups', async () => {
  const short = CASES.filter(([T]) => T <= 3);
  for (const format of [['f16', undefined], ['q4', 32]] as Format[]) await checkExperts(format, [...short, CASES[4]], { barrierFree: false });
  await checkExperts(['q8', 32], short, { barrierFree: false });
  await checkExperts(['q8', 32], short, { subgroups: false });
});

/**
 * H = Im = Is = 4, E = 4, k = 2. Expert e is silu(s_e·x) ⊙ x (gate s_e·I, up I, down I) with
 * s = [1, 2, 3, -1]; the shared expert is silu(x) ⊙ x, gated by sigmoid(0.25·Σx). The router rows
 * are constant, 0.75 / -0.5 / 0.5 / -0.75, so x = 1 (all four inputs) gives logits 3, -2, 2, -3 and
 * picks experts 0 and 2 with weights sigmoid(1) and 1 - sigmoid(1); x = -1 picks 3 and 1 alike.
 */
test('MoE block, hand-computable: identity-like experts and a router that prefers known experts', async () => {
  const ctx = await context();
  const H = 4;
  const moe = { numExperts: 4, numExpertsPerTok: 2, moeIntermediateSize: H, sharedExpertIntermediateSize: H };
  const identity = (scale = 1) => Float32Array.from({ length: H * H }, (_, i) => (i % (H + 1) === 0 ? scale : 0));
  const rows = (...blocks: Float32Array[]) => {
    const out = new Float32Array(blocks.reduce((n, b) => n + b.length, 0));
    blocks.reduce((at, b) => (out.set(b, at), at + b.length), 0);
    return out;
  };
  const router = rows(...[0.75, -0.5, 0.5, -0.75].map((v) => new Float32Array(H).fill(v)));
  const routerShared = rows(router, new Float32Array(H).fill(0.25), identity(), identity());
  const scales = [1, 2, 3, -1];
  const weights: MoeWeights = {
    routerShared: uploadMatrix(ctx, routerShared, 4 + 1 + 2 * H, H),
    sharedDown: uploadMatrix(ctx, identity(), H, H),
    expertsGateUp: uploadMatrix(ctx, rows(...scales.flatMap((s) => [identity(s), identity()])), 4 * 2 * H, H, 'gate_up', 2 * H),
    expertsDown: uploadMatrix(ctx, rows(...scales.map(() => identity())), 4 * H, H, 'down', H),
  };
  const w1 = sigmoid(1);
  const expectA = w1 * silu(1) + (1 - w1) * silu(3) + sigmoid(1) * silu(1);
  const expectB = w1 * -silu(1) + (1 - w1) * -silu(-2) + sigmoid(-1) * -silu(-1);

  const kernels = { matmul: await Matmul.create(ctx), moe: await createMoeKernels(ctx, moe, H) } as unknown as KernelSet;
  const blockOn = async (tokens: number[]) => {
    const T = tokens.length;
    const xn = upload(ctx, Float32Array.from(tokens.flatMap((v) => new Array(H).fill(v))));
    const scratch = { xn, x: emptyF32(ctx, T * H), moe: allocateMoeScratch(ctx, moe, H, T) } as unknown as Scratch;
    await run(ctx, (b) => recordMoe(b, kernels, scratch, weights, T));
    return { out: await readF32(ctx.device, scratch.x), ids: await readU32(ctx, scratch.moe!.ids, T * 2) };
  };
  // T = 1 takes the decode GEMVs, T > 1 the grouped tiled path.
  for (const tokens of [[1], [-1], [1, -1], [-1, 1, 1, -1, 1]]) {
    const { out, ids } = await blockOn(tokens);
    assert.deepEqual(Array.from(ids), tokens.flatMap((v) => (v > 0 ? [0, 2] : [3, 1])), `routing of ${tokens}`);
    const expected = Float32Array.from(tokens.flatMap((v) => new Array(H).fill(v > 0 ? expectA : expectB)));
    assert.ok(maxAbsDiff(out, expected) < 1e-6, `block output for ${tokens}: ${Array.from(out)} vs ${Array.from(expected)}`);
  }
  // The CPU reference of the block, in transformers' form, agrees with the closed form too.
  const cpu = ref.sparseMoeBlock(Float32Array.of(1, 1, 1, 1, -1, -1, -1, -1), {
    router, gateUp: rows(...scales.flatMap((s) => [identity(s), identity()])), down: rows(...scales.map(() => identity())),
    sharedGateUp: rows(identity(), identity()), sharedDown: identity(), sharedExpertGate: new Float32Array(H).fill(0.25),
  }, 2, { H, E: 4, k: 2, Im: H, Is: H });
  assert.ok(maxAbsDiff(cpu, Float32Array.of(...new Array(H).fill(expectA), ...new Array(H).fill(expectB))) < 1e-6);
  ctx.pool.destroyAll();
});
