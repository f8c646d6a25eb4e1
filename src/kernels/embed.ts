import source from '../../shaders/embed.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import type { ProgramBuilder, Resource } from '../gpu/program.ts';
import { matrixUnits, type GpuMatrix } from '../gpu/weights.ts';
import type { MatrixFormat } from './matmul.ts';

const PARAMS = new ParamLayout('Params', {
  H: 'u32', units: 'u32', row_vecs: 'u32', scale_words: 'u32', row_start: 'u32', rows: 'u32', ids_offset: 'u32',
});
const WG = 64;

export class Embed {
  private constructor(private readonly kernels: Map<string, CompiledKernel>) {}

  static async create(ctx: GpuContext, formats: MatrixFormat[] = [{ format: ctx.storage, groupSize: 0 }]): Promise<Embed> {
    const kernels = new Map<string, CompiledKernel>();
    for (const weights of formats) kernels.set(`${weights.format}:${weights.groupSize}`, await ctx.kernel({ name: 'embed', source, params: PARAMS, weights, consts: { WG } }));
    return new Embed(kernels);
  }

  /** out[t] = table[ids[idsOffset + t]] for t < T, decoded to f32. */
  record(b: ProgramBuilder, a: { ids: Resource; idsOffset?: number; table: GpuMatrix; out: Resource; T: number }): void {
    const kernel = this.kernels.get(`${a.table.format}:${a.table.groupSize}`);
    if (!kernel) throw new Error(`embed: no kernel for ${a.table.format}; create Embed with that format`);
    const units = matrixUnits(a.table);
    for (const part of a.table.parts) {
      const params = {
        H: a.table.cols, units, row_vecs: a.table.rowWords / 4, scale_words: a.table.scaleWords,
        row_start: part.rowStart, rows: part.rows, ids_offset: a.idsOffset ?? 0,
      };
      b.dispatch(kernel, params, [a.ids, part.buffer, part.scales ?? part.buffer, a.out], [Math.ceil(units / WG), a.T, 1]);
    }
  }
}
