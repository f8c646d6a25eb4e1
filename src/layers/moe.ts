import type { MoeConfig } from '../loader/config.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { ProgramBuilder } from '../gpu/program.ts';
import type { MatrixFormat } from '../kernels/matmul.ts';
import { matrixBytes, type GpuMatrix } from '../gpu/weights.ts';
import { MoeCombine, MoeGroup, maxExpertTiles } from '../kernels/moe-group.ts';
import { MoeExperts } from '../kernels/moe-matmul.ts';
import { MoeRoute } from '../kernels/moe-route.ts';
import type { KernelSet } from './kernel-set.ts';
import type { MlpWeights } from './mlp.ts';
import type { Scratch } from './scratch.ts';

/** A sparse MoE block's weights. E experts, Im their width, Is the shared expert's, H hidden. */
export interface MoeWeights {
  /** [E + 1 + 2Is, H]: router (gate.weight), shared_expert_gate, shared gate_proj, shared up_proj. */
  routerShared: GpuMatrix;
  sharedDown: GpuMatrix;     // [H, Is]
  /** [E·2Im, H]: per expert its gate rows then its up rows; every buffer part holds whole experts. */
  expertsGateUp: GpuMatrix;
  expertsDown: GpuMatrix;    // [E·H, Im], experts whole per part
}

export function isMoeWeights(w: MlpWeights | MoeWeights): w is MoeWeights {
  return 'expertsGateUp' in w;
}

/** Bytes a decode step reads of one MoE block: router and shared expert whole, top-k of E experts. */
export function moeDecodeBytes(w: MoeWeights, moe: MoeConfig): number {
  const experts = matrixBytes(w.expertsGateUp) + matrixBytes(w.expertsDown);
  return matrixBytes(w.routerShared) + matrixBytes(w.sharedDown) + (experts * moe.numExpertsPerTok) / moe.numExperts;
}

export interface MoeKernels {
  moe: MoeConfig;
  route: MoeRoute;
  group: MoeGroup;
  combine: MoeCombine;
  experts: MoeExperts;
}

/** `expertFormats`: the routed expert matrices' weight layouts (default: the context's f16/f32 storage). */
export async function createMoeKernels(ctx: GpuContext, moe: MoeConfig, hidden: number, expertFormats?: MatrixFormat[]): Promise<MoeKernels> {
  const { numExperts: E, numExpertsPerTok: k, moeIntermediateSize: Im } = moe;
  const [route, group, combine, experts] = await Promise.all([
    MoeRoute.create(ctx, E, k),
    MoeGroup.create(ctx, E),
    MoeCombine.create(ctx),
    MoeExperts.create(ctx, { experts: E, topK: k, hidden, width: Im }, expertFormats),
  ]);
  return { moe, route, group, combine, experts };
}

/** Activations of the MoE blocks, shared by every layer like the rest of Scratch. */
export interface MoeScratch {
  proj: GPUBuffer;       // [maxT, E + 1 + 2Is] router logits | shared gate | shared gate_proj | up_proj
  ids: GPUBuffer;        // [maxT, k] u32 chosen experts
  weights: GPUBuffer;    // [maxT, k] their routing weights
  sharedAct: GPUBuffer;  // [maxT, Is] shared expert activation × sigmoid(gate)
  act: GPUBuffer;        // [maxT·k, Im] routed experts' activations × routing weight
  expertOut: GPUBuffer;  // [maxT·k, H] prefill: each assignment's down projection
  perm: GPUBuffer;       // [maxT·k] u32 prefill: assignments grouped by expert
  tiles: GPUBuffer;      // [1 + 3·max tiles] u32 prefill: the expert matmuls' work list
}

export function allocateMoeScratch(ctx: GpuContext, moe: MoeConfig, hidden: number, maxTokens: number): MoeScratch {
  const { numExperts: E, numExpertsPerTok: k, moeIntermediateSize: Im, sharedExpertIntermediateSize: Is } = moe;
  const words = (label: string, count: number) => ctx.pool.storage(`scratch.moe.${label}`, count * 4);
  const n = maxTokens * k;
  return {
    proj: words('proj', maxTokens * (E + 1 + 2 * Is)),
    ids: words('ids', n),
    weights: words('weights', n),
    sharedAct: words('sharedAct', maxTokens * Is),
    act: words('act', n * Im),
    expertOut: words('expertOut', n * hidden),
    perm: words('perm', n),
    tiles: words('tiles', 1 + 3 * maxExpertTiles(n, E)),
  };
}

/**
 * The sparse MoE block on xn (normed, [T, H]), added into the residual x:
 * x += Σ_k w_e · expert_e(xn) + sigmoid(shared_expert_gate · xn) · shared_expert(xn).
 * One matmul computes the router logits and the shared expert's gate and gate/up projections;
 * the route kernel picks experts on the GPU. A decode step's GEMVs read the chosen ids; a prefill
 * groups its assignments by expert and runs tiled products per expert over its tokens only.
 */
export function recordMoe(b: ProgramBuilder, k: KernelSet, s: Scratch, w: MoeWeights, T: number): void {
  const kernels = k.moe!;
  const ms = s.moe!;
  const { numExperts: E, numExpertsPerTok: topK, sharedExpertIntermediateSize: Is } = kernels.moe;
  const H = w.sharedDown.rows;
  k.matmul.record(b, { x: s.xn, w: w.routerShared, y: ms.proj, T });
  kernels.route.record(b, { proj: ms.proj, P: E + 1 + 2 * Is, Is, ids: ms.ids, weights: ms.weights, sharedAct: ms.sharedAct, T });
  if (T === 1) {
    kernels.experts.gateUpRouted(b, { x: s.xn, ids: ms.ids, weights: ms.weights, T, w: w.expertsGateUp, act: ms.act });
    kernels.experts.downRouted(b, { ids: ms.ids, T, act: ms.act, w: w.expertsDown, y: s.x });
  } else {
    kernels.group.record(b, { ids: ms.ids, perm: ms.perm, tiles: ms.tiles, n: T * topK });
    kernels.experts.gateUpGrouped(b, { x: s.xn, weights: ms.weights, perm: ms.perm, tiles: ms.tiles, T, w: w.expertsGateUp, act: ms.act });
    kernels.experts.downGrouped(b, { perm: ms.perm, tiles: ms.tiles, T, act: ms.act, w: w.expertsDown, expertOut: ms.expertOut });
    kernels.combine.record(b, { expertOut: ms.expertOut, x: s.x, T, H, topK });
  }
  k.matmul.record(b, { x: ms.sharedAct, w: w.sharedDown, y: s.x, T, accumulate: true });
}
