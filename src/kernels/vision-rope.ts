import source from '../../shaders/vision_rope.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', { N: 'u32', heads: 'u32' });
const WG = 256;

/** Rotates q and k of the fused [N, 3, heads, hd] projection by per-patch (cos, sin) [N, hd/2]. */
export class VisionRope {
  private constructor(
    private readonly kernel: CompiledKernel,
    private readonly headDim: number,
  ) {}

  static async create(ctx: GpuContext, headDim: number): Promise<VisionRope> {
    return new VisionRope(await ctx.kernel({ name: 'vision_rope', source, params: PARAMS, consts: { WG, HEAD_DIM: headDim } }), headDim);
  }

  record(b: ProgramBuilder, a: { rope: Resource; qkv: Resource; N: number; heads: number }): void {
    b.dispatch(this.kernel, { N: a.N, heads: a.heads }, [a.rope, a.qkv], grid(Math.ceil((a.N * a.heads * this.headDim) / WG)));
  }
}
