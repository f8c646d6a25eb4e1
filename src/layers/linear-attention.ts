import type { Qwen35Config } from '../loader/config.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { ProgramBuilder } from '../gpu/program.ts';
import { matrixBytes, type GpuMatrix } from '../gpu/weights.ts';
import type { Scratch } from './scratch.ts';
import { derivedSizes } from './scratch.ts';
import type { KernelSet } from './kernel-set.ts';
import type { InputNorm } from './mlp.ts';

export interface LinearAttentionWeights {
  /** [convDim + Vd + 2nv, H]: in_proj_qkv, in_proj_z, in_proj_b, in_proj_a fused by rows. */
  inProj: GpuMatrix;
  conv: GPUBuffer;        // [convDim, K]
  aLog: GPUBuffer;        // [nv]
  dtBias: GPUBuffer;      // [nv]
  norm: GPUBuffer;        // [dv] plain scale
  outProj: GpuMatrix;     // [H, Vd]
}

/** A Gated DeltaNet mixer: its weights plus its two pieces of state (conv window, recurrent S). */
export class LinearAttentionLayer {
  readonly convState: GPUBuffer;       // [convDim, K-1]
  readonly recurrentState: GPUBuffer;  // [nv, dk, dv] float32

  constructor(
    ctx: GpuContext,
    private readonly c: Qwen35Config,
    readonly weights: LinearAttentionWeights,
    index: number,
  ) {
    const { convDim } = derivedSizes(c);
    this.convState = ctx.pool.storage(`layer${index}.conv_state`, convDim * (c.linearConvKernelDim - 1) * 4);
    this.recurrentState = ctx.pool.storage(`layer${index}.recurrent_state`, c.linearNumValueHeads * c.linearKeyHeadDim * c.linearValueHeadDim * 4);
  }

  /** x (residual stream, [T, H]) → x += mixer(norm(x)). */
  record(b: ProgramBuilder, k: KernelSet, s: Scratch, T: number, norm: InputNorm, deltaForm?: 'recurrent' | 'chunked'): void {
    const c = this.c;
    const w = this.weights;
    const { convDim, linearProj: P } = derivedSizes(c);
    const nv = c.linearNumValueHeads;
    const dv = c.linearValueHeadDim;
    if (!k.conv || !k.delta) throw new Error('delta-rule kernels are compiled only for configs with linear_attention layers');
    k.matmul.record(b, { x: s.x, w: w.inProj, y: s.proj, T, norm });
    k.conv.record(b, { x: s.proj, w: w.conv, state: this.convState, out: s.conv, T, C: convDim, inStride: P });
    k.delta.record(b, {
      conv: s.conv, proj: s.proj, projStride: P, bOffset: P - 2 * nv, aOffset: P - nv,
      aLog: w.aLog, dtBias: w.dtBias, state: this.recurrentState, out: s.mix, T,
    }, deltaForm);
    k.gatedNorm.record(b, { o: s.mix, z: s.proj, zStride: P, zOffset: convDim, weight: w.norm, y: s.mixNormed, T, nv, dv, eps: c.rmsNormEps });
    k.matmul.record(b, { x: s.mixNormed, w: w.outProj, y: s.x, T, accumulate: true });
  }

  /** Bytes a decode step reads here: projections, small vectors and the whole state. */
  decodeBytes(): number {
    const w = this.weights;
    return matrixBytes(w.inProj) + matrixBytes(w.outProj) + w.conv.size + w.aLog.size + w.dtBias.size + w.norm.size + this.convState.size + this.recurrentState.size;
  }

  clearState(encoder: GPUCommandEncoder): void {
    encoder.clearBuffer(this.convState);
    encoder.clearBuffer(this.recurrentState);
  }
}
