import type { Qwen35Config } from '../loader/config.ts';
import type { GpuContext } from '../gpu/context.ts';
import { allocateMoeScratch, type MoeScratch } from './moe.ts';

/**
 * Activation buffers, planned once at load for the largest token count a program runs (the
 * prefill chunk) and shared by every layer, since layers run one after another.
 */
export interface Scratch {
  maxTokens: number;
  ids: GPUBuffer;        // [maxT] u32 prompt ids
  rope: GPUBuffer;       // [maxT, rotHalf, 2]
  x: GPUBuffer;          // [maxT, H] residual stream
  xn: GPUBuffer;         // [maxT, H] normed input of a mixer / MLP
  proj: GPUBuffer;       // [maxT, max(P_linear, P_full)] fused input projections
  conv: GPUBuffer;       // [maxT, convDim] delta-rule q|k|v after conv + SiLU
  mix: GPUBuffer;        // [maxT, max(nv*dv, nq*D)] delta-rule or attention output
  mixNormed: GPUBuffer;  // [maxT, nv*dv] gated-norm output
  q: GPUBuffer;          // [maxT, nq*D] prepared queries
  gateUp: GPUBuffer;     // [maxT, 2I]
  act: GPUBuffer;        // [maxT, I]
  logits: GPUBuffer;     // [V] logits of the last position
  token: GPUBuffer;      // [1] u32 last sampled (or fed) token: the next decode step's input
  counts: GPUBuffer;     // [V] u32 occurrences, for the penalties
  moe: MoeScratch | null; // MoE models only
}

export function derivedSizes(c: Qwen35Config) {
  const convDim = 2 * c.linearNumKeyHeads * c.linearKeyHeadDim + c.linearNumValueHeads * c.linearValueHeadDim;
  const valueDim = c.linearNumValueHeads * c.linearValueHeadDim;
  return {
    convDim,
    valueDim,
    /** Fused delta-rule projection row: q|k|v (convDim), z (valueDim), b (nv), a (nv). */
    linearProj: convDim + valueDim + 2 * c.linearNumValueHeads,
    /** Fused attention projection row: per head q (and gate, 2D with the output gate), then k, v. */
    fullProj: c.numAttentionHeads * (c.attentionOutputGate ? 2 : 1) * c.headDim + 2 * c.numKeyValueHeads * c.headDim,
    attnDim: c.numAttentionHeads * c.headDim,
  };
}

export function allocateScratch(ctx: GpuContext, c: Qwen35Config, maxTokens: number): Scratch {
  const d = derivedSizes(c);
  const f32 = (label: string, count: number) => ctx.pool.storage(`scratch.${label}`, count * 4);
  const T = maxTokens;
  return {
    maxTokens,
    ids: f32('ids', T),
    rope: f32('rope', T * c.rope.rotaryDim),
    x: f32('x', T * c.hiddenSize),
    xn: f32('xn', T * c.hiddenSize),
    proj: f32('proj', T * Math.max(d.linearProj, d.fullProj)),
    conv: f32('conv', T * d.convDim),
    mix: f32('mix', T * Math.max(d.valueDim, d.attnDim)),
    mixNormed: f32('mixNormed', T * d.valueDim),
    q: f32('q', T * d.attnDim),
    gateUp: f32('gateUp', T * 2 * c.intermediateSize),
    act: f32('act', T * c.intermediateSize),
    logits: f32('logits', c.vocabSize),
    token: f32('token', 1),
    counts: f32('counts', c.vocabSize),
    moe: c.moe ? allocateMoeScratch(ctx, c.moe, c.hiddenSize, T) : null,
  };
}
