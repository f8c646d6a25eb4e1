import source from '../../shaders/conv1d_causal.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import type { ProgramBuilder, Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', { T: 'u32', C: 'u32', in_stride: 'u32' });
const WG = 64;

/** Depthwise causal conv1d + SiLU with a rolling state of the last kernel-1 inputs. */
export class CausalConv1d {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext, kernelSize: number): Promise<CausalConv1d> {
    return new CausalConv1d(await ctx.kernel({ name: 'conv1d_causal', source, params: PARAMS, consts: { WG, KERNEL: kernelSize } }));
  }

  /** x: [T, inStride] whose first C columns are convolved; w: [C, K]; state: [C, K-1]; out: [T, C]. */
  record(b: ProgramBuilder, a: { x: Resource; w: GPUBuffer; state: GPUBuffer; out: Resource; T: number; C: number; inStride: number }): void {
    b.dispatch(this.kernel, { T: a.T, C: a.C, in_stride: a.inStride }, [a.x, a.w, a.state, a.out], Math.ceil(a.C / WG));
  }
}
