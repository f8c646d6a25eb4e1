import source from '../../shaders/vision_pos_embed.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';
import { matrixRowPairs, type GpuMatrix } from '../gpu/weights.ts';

const PARAMS = new ParamLayout('Params', { N: 'u32', H: 'u32', K2: 'u32', row_pairs: 'u32', row_start: 'u32', rows: 'u32' });
const WG = 256;

/** x[n] += Σ_k weight[n, k] · table[index[n, k]]: the learned position table resampled per patch. */
export class VisionPosEmbed {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext): Promise<VisionPosEmbed> {
    return new VisionPosEmbed(await ctx.kernel({ name: 'vision_pos_embed', source, params: PARAMS, consts: { WG } }));
  }

  /** index: [N, 4] u32; weight: [N, 4] f32; x: [N, table.cols]. */
  record(b: ProgramBuilder, a: { index: Resource; weight: Resource; table: GpuMatrix; x: Resource; N: number }): void {
    for (const part of a.table.parts) {
      const params = { N: a.N, H: a.table.cols, K2: a.table.pairs, row_pairs: matrixRowPairs(a.table), row_start: part.rowStart, rows: part.rows };
      b.dispatch(this.kernel, params, [a.index, a.weight, part.buffer, a.x], grid(Math.ceil((a.N * a.table.pairs) / WG)));
    }
  }
}
