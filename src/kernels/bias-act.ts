import source from '../../shaders/bias_act.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', { rows: 'u32', n: 'u32' });
const WG = 256;

export type Activation = 'none' | 'gelu_tanh' | 'gelu_erf';
const ACT: Record<Activation, number> = { none: 0, gelu_tanh: 1, gelu_erf: 2 };

/** y = act(y + bias), in place: the bias (and activation) of a linear layer after its matmul. */
export class BiasAct {
  private constructor(private readonly kernels: Record<Activation, CompiledKernel>) {}

  static async create(ctx: GpuContext): Promise<BiasAct> {
    const entries = await Promise.all(
      (Object.keys(ACT) as Activation[]).map(async (act) => [act, await ctx.kernel({ name: 'bias_act', source, params: PARAMS, consts: { WG, ACT: ACT[act] } })] as const),
    );
    return new BiasAct(Object.fromEntries(entries) as Record<Activation, CompiledKernel>);
  }

  /** y: [rows, n]; bias: [n]. */
  record(b: ProgramBuilder, a: { y: Resource; bias: GPUBuffer; rows: number; n: number; act: Activation }): void {
    b.dispatch(this.kernels[a.act], { rows: a.rows, n: a.n }, [a.bias, a.y], grid(Math.ceil((a.rows * a.n) / WG)));
  }
}
