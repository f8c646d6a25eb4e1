import type { Qwen35Config } from '../loader/config.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { ProgramBuilder } from '../gpu/program.ts';
import type { GpuMatrix } from '../gpu/weights.ts';
import type { Scratch } from './scratch.ts';
import type { KernelSet } from './kernel-set.ts';

export interface FullAttentionWeights {
  /** [nq*D·(1 + gate) + 2*nkv*D, H]: q_proj (per head q, then its gate rows in Qwen3.5), k_proj, v_proj fused by rows. */
  qkv: GpuMatrix;
  qNorm: GPUBuffer;      // [D] the scale applied (1 + w for Qwen3.5)
  kNorm: GPUBuffer;      // [D] the scale applied (1 + w for Qwen3.5)
  oProj: GpuMatrix;      // [H, nq*D]
}

/** Softmax attention (gated in Qwen3.5): its weights plus its KV cache (k after norm and rope). */
export class FullAttentionLayer {
  readonly kCache: GPUBuffer;  // [maxContext, nkv, D]
  readonly vCache: GPUBuffer;  // [maxContext, nkv, D]

  constructor(
    ctx: GpuContext,
    c: Qwen35Config,
    readonly weights: FullAttentionWeights,
    index: number,
    maxContext: number,
  ) {
    const bytes = maxContext * c.numKeyValueHeads * c.headDim * 4;
    this.kCache = ctx.pool.storage(`layer${index}.k_cache`, bytes);
    this.vCache = ctx.pool.storage(`layer${index}.v_cache`, bytes);
  }

  /** xn (normed input, [T, H]) → x += o_proj(attention). Tokens go to cache rows step.cache_pos.. */
  record(b: ProgramBuilder, k: KernelSet, s: Scratch, T: number): void {
    const w = this.weights;
    k.matmul.record(b, { x: s.xn, w: w.qkv, y: s.proj, T });
    k.attention.record(b, { qkv: s.proj, qNorm: w.qNorm, kNorm: w.kNorm, rope: s.rope, q: s.q, kCache: this.kCache, vCache: this.vCache, out: s.mix, T });
    k.matmul.record(b, { x: s.mix, w: w.oProj, y: s.x, T, accumulate: true });
  }
}
