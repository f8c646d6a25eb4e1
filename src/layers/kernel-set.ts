import type { Qwen35Config } from '../loader/config.ts';
import type { GpuContext } from '../gpu/context.ts';
import { Attention } from '../kernels/attention.ts';
import { CausalConv1d } from '../kernels/conv1d.ts';
import { GatedRmsNorm, SwiGlu } from '../kernels/elementwise.ts';
import { Embed } from '../kernels/embed.ts';
import { GatedDeltaRule } from '../kernels/gated-delta.ts';
import { Matmul, type MatrixFormat } from '../kernels/matmul.ts';
import { RmsNorm } from '../kernels/rmsnorm.ts';
import { Sampler } from '../kernels/sample.ts';
import { ScatterRows } from '../kernels/scatter-rows.ts';
import { createMoeKernels, type MoeKernels } from './moe.ts';

/** Every compiled kernel a Qwen3.5 text model uses, specialised on its config once at load. */
export interface KernelSet {
  embed: Embed;
  rmsNorm: RmsNorm;
  matmul: Matmul;
  attention: Attention;
  /** Delta-rule kernels; null for models without linear_attention layers (Qwen3-VL). */
  conv: CausalConv1d | null;
  delta: GatedDeltaRule | null;
  gatedNorm: GatedRmsNorm;
  swiglu: SwiGlu;
  sampler: Sampler;
  moe: MoeKernels | null;
  /** Visual embeddings and DeepStack features into the residual stream. */
  scatterRows: ScatterRows;
}

/**
 * `formats`: the weight layouts of the matrices Matmul and Embed read, `expertFormats` those of an
 * MoE block's routed experts (both default to the context's f16/f32 storage).
 */
export async function createKernelSet(ctx: GpuContext, c: Qwen35Config, formats?: MatrixFormat[], expertFormats?: MatrixFormat[]): Promise<KernelSet> {
  const linear = c.layerTypes.includes('linear_attention');
  const [embed, rmsNorm, matmul, attention, conv, delta, gatedNorm, swiglu, sampler, scatterRows] = await Promise.all([
    Embed.create(ctx, formats),
    RmsNorm.create(ctx),
    Matmul.create(ctx, { formats }),
    Attention.create(ctx, {
      nq: c.numAttentionHeads, nkv: c.numKeyValueHeads, headDim: c.headDim, rotHalf: c.rope.rotaryDim / 2, eps: c.rmsNormEps, outputGate: c.attentionOutputGate,
    }),
    linear ? CausalConv1d.create(ctx, c.linearConvKernelDim) : null,
    linear ? GatedDeltaRule.create(ctx, { nk: c.linearNumKeyHeads, nv: c.linearNumValueHeads, dk: c.linearKeyHeadDim, dv: c.linearValueHeadDim }) : null,
    GatedRmsNorm.create(ctx),
    SwiGlu.create(ctx),
    Sampler.create(ctx, c.vocabSize),
    ScatterRows.create(ctx),
  ]);
  const moe = c.moe ? await createMoeKernels(ctx, c.moe, c.hiddenSize, expertFormats) : null;
  return { embed, rmsNorm, matmul, attention, conv, delta, gatedNorm, swiglu, sampler, scatterRows, moe };
}
