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

/** Every compiled kernel a Qwen3.5 text model uses, specialised on its config once at load. */
export interface KernelSet {
  embed: Embed;
  rmsNorm: RmsNorm;
  matmul: Matmul;
  attention: Attention;
  conv: CausalConv1d;
  delta: GatedDeltaRule;
  gatedNorm: GatedRmsNorm;
  swiglu: SwiGlu;
  sampler: Sampler;
}

/** `formats`: the weight layouts of the model's matrices (default: the context's f16/f32 storage). */
export async function createKernelSet(ctx: GpuContext, c: Qwen35Config, formats?: MatrixFormat[]): Promise<KernelSet> {
  const [embed, rmsNorm, matmul, attention, conv, delta, gatedNorm, swiglu, sampler] = await Promise.all([
    Embed.create(ctx, formats),
    RmsNorm.create(ctx),
    Matmul.create(ctx, { formats }),
    Attention.create(ctx, { nq: c.numAttentionHeads, nkv: c.numKeyValueHeads, headDim: c.headDim, rotHalf: c.rope.rotaryDim / 2, eps: c.rmsNormEps }),
    CausalConv1d.create(ctx, c.linearConvKernelDim),
    GatedDeltaRule.create(ctx, { nk: c.linearNumKeyHeads, nv: c.linearNumValueHeads, dk: c.linearKeyHeadDim, dv: c.linearValueHeadDim }),
    GatedRmsNorm.create(ctx),
    SwiGlu.create(ctx),
    Sampler.create(ctx, c.vocabSize),
  ]);
  return { embed, rmsNorm, matmul, attention, conv, delta, gatedNorm, swiglu, sampler };
}
