import source from '../../shaders/scatter_rows.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', { T: 'u32', H: 'u32', offset: 'u32' });
const WG = 256;

/** x[t] = src[rows[offset + t]] (or +=) where rows[offset + t] >= 0: vision tokens onto placeholder rows. */
export class ScatterRows {
  private constructor(private readonly kernels: [CompiledKernel, CompiledKernel]) {}

  static async create(ctx: GpuContext): Promise<ScatterRows> {
    const make = (acc: number) => ctx.kernel({ name: 'scatter_rows', source, params: PARAMS, consts: { WG, ACCUMULATE: acc } });
    return new ScatterRows([await make(0), await make(1)]);
  }

  /** rows: i32 per prompt position; src: [tokens, H]; x: [T, H]. */
  record(b: ProgramBuilder, a: { rows: Resource; offset: number; src: Resource; x: Resource; T: number; H: number; accumulate?: boolean }): void {
    b.dispatch(this.kernels[a.accumulate ? 1 : 0], { T: a.T, H: a.H, offset: a.offset }, [a.rows, a.src, a.x], grid(Math.ceil((a.T * a.H) / WG)));
  }
}
