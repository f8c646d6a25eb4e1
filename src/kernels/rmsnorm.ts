import source from '../../shaders/rmsnorm.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import type { ProgramBuilder, Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', {
  rows: 'u32', n: 'u32', in_stride: 'u32', in_offset: 'u32', out_stride: 'u32', out_offset: 'u32', eps: 'f32',
});

export interface RmsNormArgs {
  x: Resource;
  weight: GPUBuffer;
  y: Resource;
  rows: number;
  n: number;
  eps: number;
  inStride?: number;
  inOffset?: number;
  outStride?: number;
  outOffset?: number;
}

export class RmsNorm {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext): Promise<RmsNorm> {
    return new RmsNorm(await ctx.kernel({ name: 'rmsnorm', source, params: PARAMS, consts: { WG: 256 } }));
  }

  record(b: ProgramBuilder, a: RmsNormArgs): void {
    const params = {
      rows: a.rows, n: a.n, eps: a.eps,
      in_stride: a.inStride ?? a.n, in_offset: a.inOffset ?? 0,
      out_stride: a.outStride ?? a.n, out_offset: a.outOffset ?? 0,
    };
    b.dispatch(this.kernel, params, [a.x, a.weight, a.y], a.rows);
  }
}
