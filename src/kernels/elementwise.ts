import gatedNormSource from '../../shaders/gated_rmsnorm.wgsl?raw';
import swigluSource from '../../shaders/swiglu.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';

const GATED_NORM_PARAMS = new ParamLayout('Params', { rows: 'u32', nv: 'u32', dv: 'u32', z_stride: 'u32', z_offset: 'u32', eps: 'f32' });
const SWIGLU_PARAMS = new ParamLayout('Params', { T: 'u32', I: 'u32' });
const NORM_WG = 64;
const SWIGLU_WG = 256;

/** The Gated DeltaNet's output norm: per value head RMSNorm × weight × silu(z). */
export class GatedRmsNorm {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext): Promise<GatedRmsNorm> {
    return new GatedRmsNorm(await ctx.kernel({ name: 'gated_rmsnorm', source: gatedNormSource, params: GATED_NORM_PARAMS, consts: { WG: NORM_WG } }));
  }

  record(b: ProgramBuilder, a: { o: Resource; z: Resource; zStride: number; zOffset: number; weight: GPUBuffer; y: Resource; T: number; nv: number; dv: number; eps: number }): void {
    const rows = a.T * a.nv;
    const [ry, rz] = grid(rows);
    b.dispatch(this.kernel, { rows, nv: a.nv, dv: a.dv, z_stride: a.zStride, z_offset: a.zOffset, eps: a.eps }, [a.o, a.z, a.weight, a.y], [Math.ceil(a.dv / NORM_WG), ry, rz]);
  }
}

/** silu(gate) * up over the fused [T, 2I] gate_up projection. */
export class SwiGlu {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext): Promise<SwiGlu> {
    return new SwiGlu(await ctx.kernel({ name: 'swiglu', source: swigluSource, params: SWIGLU_PARAMS, consts: { WG: SWIGLU_WG } }));
  }

  record(b: ProgramBuilder, a: { gateUp: Resource; out: Resource; T: number; I: number }): void {
    b.dispatch(this.kernel, { T: a.T, I: a.I }, [a.gateUp, a.out], grid(Math.ceil((a.T * a.I) / SWIGLU_WG)));
  }
}
