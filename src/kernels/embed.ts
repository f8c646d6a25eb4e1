import source from '../../shaders/embed.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import type { ProgramBuilder, Resource } from '../gpu/program.ts';
import type { GpuMatrix } from '../gpu/weights.ts';

const PARAMS = new ParamLayout('Params', { H: 'u32', K2: 'u32', row_start: 'u32', rows: 'u32', ids_offset: 'u32' });
const WG = 64;

export class Embed {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext): Promise<Embed> {
    return new Embed(await ctx.kernel({ name: 'embed', source, params: PARAMS, consts: { WG } }));
  }

  /** out[t] = table[ids[idsOffset + t]] for t < T. */
  record(b: ProgramBuilder, a: { ids: Resource; idsOffset?: number; table: GpuMatrix; out: Resource; T: number }): void {
    for (const part of a.table.parts) {
      const params = { H: a.table.cols, K2: a.table.pairs, row_start: part.rowStart, rows: part.rows, ids_offset: a.idsOffset ?? 0 };
      b.dispatch(this.kernel, params, [a.ids, part.buffer, a.out], [Math.ceil(a.table.pairs / WG), a.T, 1]);
    }
  }
}
