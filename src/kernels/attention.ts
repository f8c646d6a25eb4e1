import prepSource from '../../shaders/attention_prep.wgsl?raw';
import attentionSource from '../../shaders/attention.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import type { ProgramBuilder, Resource } from '../gpu/program.ts';

const PREP_PARAMS = new ParamLayout('Params', {
  nq: 'u32', nkv: 'u32', qkv_stride: 'u32', k_offset: 'u32', v_offset: 'u32', rot_half: 'u32', eps: 'f32',
});
const ATTENTION_PARAMS = new ParamLayout('Params', { nq: 'u32', nkv: 'u32', qkv_stride: 'u32', scale: 'f32' });
const WG = 64;

export interface AttentionShape {
  nq: number;
  nkv: number;
  headDim: number;
  /** Rotated dims per head / 2 (the rope table's row width). */
  rotHalf: number;
  eps: number;
  /** Qwen3.5's sigmoid output gate, its rows interleaved per head into q_proj. */
  outputGate: boolean;
}

export interface AttentionArgs {
  /** [T, nq*D·(1 + gate) + 2*nkv*D] fused q(|gate), k, v projection. */
  qkv: Resource;
  qNorm: GPUBuffer;
  kNorm: GPUBuffer;
  /** [T, rotHalf, 2] cos/sin. */
  rope: Resource;
  /** [T, nq, D] scratch for the prepared queries. */
  q: Resource;
  kCache: GPUBuffer;
  vCache: GPUBuffer;
  /** [T, nq*D] attention output (gated with outputGate). */
  out: Resource;
  T: number;
}

/** Full attention over the KV cache: q/k norm + rope + cache write, then (gated) attention. */
export class Attention {
  private constructor(
    private readonly shape: AttentionShape,
    private readonly prep: CompiledKernel,
    private readonly attend: CompiledKernel,
  ) {}

  static async create(ctx: GpuContext, shape: AttentionShape): Promise<Attention> {
    const consts = { WG, HEAD_DIM: shape.headDim, OUTPUT_GATE: shape.outputGate ? 1 : 0 };
    const prep = await ctx.kernel({ name: 'attention_prep', source: prepSource, params: PREP_PARAMS, consts });
    const attend = await ctx.kernel({ name: 'attention', source: attentionSource, params: ATTENTION_PARAMS, consts });
    return new Attention(shape, prep, attend);
  }

  record(b: ProgramBuilder, a: AttentionArgs): void {
    const { nq, nkv, headDim: D, rotHalf, eps, outputGate } = this.shape;
    const qRows = nq * (outputGate ? 2 : 1) * D;
    const qkvStride = qRows + 2 * nkv * D;
    b.dispatch(
      this.prep,
      { nq, nkv, qkv_stride: qkvStride, k_offset: qRows, v_offset: qRows + nkv * D, rot_half: rotHalf, eps },
      [a.qkv, a.qNorm, a.kNorm, a.rope, a.q, a.kCache, a.vCache],
      [nq + nkv, a.T, 1],
    );
    b.dispatch(this.attend, { nq, nkv, qkv_stride: qkvStride, scale: 1 / Math.sqrt(D) }, [a.q, a.kCache, a.vCache, a.qkv, a.out], [nq, a.T, 1]);
  }
}
