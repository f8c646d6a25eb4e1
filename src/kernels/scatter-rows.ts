import source from '../../shaders/scatter_rows.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import type { ProgramBuilder, Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', { H: 'u32', count: 'u32', map_offset: 'u32', row_base: 'u32', src_offset: 'u32' });
const WG = 64;

export interface ScatterRowsArgs {
  /** [entries, 2] u32 (prompt row, source row) pairs, sorted by prompt row. */
  map: Resource;
  /** Entries [mapOffset, mapOffset + count) are applied. */
  mapOffset: number;
  count: number;
  /** [.., H] f32 source rows, starting srcOffset floats in. */
  src: Resource;
  srcOffset: number;
  /** [T, H] f32 destination: prompt row r lands at row r - rowBase. */
  out: Resource;
  rowBase: number;
  H: number;
  accumulate: boolean;
}

/** Writes (or adds) source rows at listed rows of the residual stream: visual embeddings and DeepStack. */
export class ScatterRows {
  private constructor(private readonly kernels: [CompiledKernel, CompiledKernel]) {}

  static async create(ctx: GpuContext): Promise<ScatterRows> {
    const make = (acc: number) => ctx.kernel({ name: 'scatter_rows', source, params: PARAMS, consts: { WG, ACCUMULATE: acc } });
    return new ScatterRows(await Promise.all([make(0), make(1)]));
  }

  record(b: ProgramBuilder, a: ScatterRowsArgs): void {
    const params = { H: a.H, count: a.count, map_offset: a.mapOffset, row_base: a.rowBase, src_offset: a.srcOffset };
    b.dispatch(this.kernels[a.accumulate ? 1 : 0], params, [a.map, a.src, a.out], [Math.ceil(a.H / WG), a.count, 1]);
  }
}
