import source from '../../shaders/fp8_dequant.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', {
  rows: 'u32', cols: 'u32', K2: 'u32', row_pairs: 'u32', src_row: 'u32', tensor_row: 'u32', dst_row: 'u32', dst_step: 'u32', bn: 'u32', bk: 'u32', scale_cols: 'u32',
});
const WG = 256;

export interface Fp8DequantArgs {
  /** [chunk rows, cols] raw e4m3 bytes, padded to a whole number of u32 words. */
  fp8: Resource;
  /** [ceil(tensor rows / bn), ceil(cols / bk)] f32 scales of the whole tensor. */
  scale: Resource;
  /** One matrix part in the context's pair storage. */
  out: GPUBuffer;
  /** Rows to dequantize, starting at chunk row srcRow, into part rows dstRow, dstRow + dstStep, ... */
  rows: number;
  cols: number;
  /** Pairs per stored row of the matrix (its padded width over 2). */
  rowPairs: number;
  srcRow: number;
  dstRow: number;
  dstStep: number;
  /** Tensor row of chunk row 0: where the scale blocks are counted from. */
  tensorRow: number;
  block: readonly [number, number];
}

/** Dequantizes block-wise FP8 weight rows on the GPU straight into the engine's weight storage. */
export class Fp8Dequant {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext): Promise<Fp8Dequant> {
    const consts = { WG, PAIR_WORDS: ctx.storage === 'f16' ? 1 : 2 };
    return new Fp8Dequant(await ctx.kernel({ name: 'fp8_dequant', source, params: PARAMS, consts }));
  }

  record(b: ProgramBuilder, a: Fp8DequantArgs): void {
    const [bn, bk] = a.block;
    const K2 = Math.ceil(a.cols / 2);
    const params = {
      rows: a.rows, cols: a.cols, K2, row_pairs: a.rowPairs, src_row: a.srcRow, tensor_row: a.tensorRow, dst_row: a.dstRow, dst_step: a.dstStep, bn, bk, scale_cols: Math.ceil(a.cols / bk),
    };
    b.dispatch(this.kernel, params, [a.fp8, a.scale, a.out], grid(Math.ceil((a.rows * K2) / WG)));
  }
}
