import type { Qwen35Config } from '../loader/config.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { ProgramBuilder } from '../gpu/program.ts';
import { matrixBytes, type GpuMatrix } from '../gpu/weights.ts';
import type { Scratch } from './scratch.ts';
import type { KernelSet } from './kernel-set.ts';
import type { InputNorm } from './mlp.ts';

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

  private readonly kvRowBytes: number;

  constructor(
    ctx: GpuContext,
    c: Qwen35Config,
    readonly weights: FullAttentionWeights,
    index: number,
    maxContext: number,
  ) {
    this.kvRowBytes = c.numKeyValueHeads * c.headDim * 4;
    const bytes = maxContext * this.kvRowBytes;
    this.kCache = ctx.pool.storage(`layer${index}.k_cache`, bytes);
    this.vCache = ctx.pool.storage(`layer${index}.v_cache`, bytes);
  }

  /** Bytes a decode step reads here with `kvTokens` cached tokens: projections, norms, K and V rows. */
  decodeBytes(kvTokens: number): number {
    const w = this.weights;
    return matrixBytes(w.qkv) + matrixBytes(w.oProj) + w.qNorm.size + w.kNorm.size + 2 * kvTokens * this.kvRowBytes;
  }

  /** x (residual stream, [T, H]) → x += o_proj(attention(norm(x))). Tokens go to cache rows step.cache_pos.. */
  record(b: ProgramBuilder, k: KernelSet, s: Scratch, T: number, norm: InputNorm): void {
    const w = this.weights;
    k.matmul.record(b, { x: s.x, w: w.qkv, y: s.proj, T, norm });
    k.attention.record(b, { qkv: s.proj, qNorm: w.qNorm, kNorm: w.kNorm, rope: s.rope, q: s.q, kCache: this.kCache, vCache: this.vCache, out: s.mix, T });
    k.matmul.record(b, { x: s.mix, w: w.oProj, y: s.x, T, accumulate: true });
  }
}
