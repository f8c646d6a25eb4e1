import source from '../../shaders/layernorm.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', { rows: 'u32', n: 'u32', eps: 'f32' });
const WG = 256;

/** LayerNorm with bias over rows of n values (the vision tower's norms). */
export class LayerNorm {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext): Promise<LayerNorm> {
    return new LayerNorm(await ctx.kernel({ name: 'layernorm', source, params: PARAMS, consts: { WG } }));
  }

  /** x, y: [rows, n]; weight, bias: [n]. */
  record(b: ProgramBuilder, a: { x: Resource; weight: GPUBuffer; bias: GPUBuffer; y: Resource; rows: number; n: number; eps: number }): void {
    b.dispatch(this.kernel, { rows: a.rows, n: a.n, eps: a.eps }, [a.x, a.weight, a.bias, a.y], grid(a.rows));
  }
}
