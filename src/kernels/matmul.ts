import gemvSource from '../../shaders/matmul_gemv.wgsl?raw';
import tiledSource from '../../shaders/matmul_tiled.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';
import type { GpuMatrix } from '../gpu/weights.ts';

const PARAMS = new ParamLayout('Params', {
  T: 'u32', N: 'u32', K: 'u32', K2: 'u32', x_offset: 'u32', x_stride: 'u32', y_stride: 'u32', y_offset: 'u32',
});
const GEMV_WG = 256;
const GEMV_ROWS = GEMV_WG / 32;
/** Up to this many tokens the GEMV (one weight pass per token) beats the tiled kernel's setup. */
const GEMV_MAX_TOKENS = 1;

export interface MatmulArgs {
  /** [T, K] activations, starting xOffset floats in. */
  x: Resource;
  xOffset?: number;
  w: GpuMatrix;
  /** [T, yStride] output; columns yOffset + (0..w.rows) are written. */
  y: Resource;
  T: number;
  yStride?: number;
  yOffset?: number;
  /** Add into y (fused residual add) instead of overwriting it. */
  accumulate?: boolean;
}

/** y = x W^T, choosing the decode GEMV or the prefill tiled kernel by token count. */
export class Matmul {
  private constructor(private readonly kernels: Record<string, CompiledKernel>) {}

  static async create(ctx: GpuContext): Promise<Matmul> {
    const kernels: Record<string, CompiledKernel> = {};
    for (const acc of [0, 1]) {
      kernels[`gemv${acc}`] = await ctx.kernel({ name: 'matmul_gemv', source: gemvSource, params: PARAMS, consts: { WG: GEMV_WG, ACCUMULATE: acc } });
      kernels[`tiled${acc}`] = await ctx.kernel({ name: 'matmul_tiled', source: tiledSource, params: PARAMS, consts: { ACCUMULATE: acc } });
    }
    return new Matmul(kernels);
  }

  record(b: ProgramBuilder, a: MatmulArgs): void {
    const acc = a.accumulate ? 1 : 0;
    const gemv = a.T <= GEMV_MAX_TOKENS;
    const kernel = this.kernels[`${gemv ? 'gemv' : 'tiled'}${acc}`];
    for (const part of a.w.parts) {
      const params = {
        T: a.T, N: part.rows, K: a.w.cols, K2: a.w.pairs, x_offset: a.xOffset ?? 0, x_stride: a.w.cols,
        y_stride: a.yStride ?? a.w.rows, y_offset: (a.yOffset ?? 0) + part.rowStart,
      };
      const groups = gemv
        ? grid(Math.ceil(part.rows / GEMV_ROWS), a.T)
        : ([Math.ceil(part.rows / 64), Math.ceil(a.T / 32), 1] as [number, number, number]);
      b.dispatch(kernel, params, [a.x, part.buffer, a.y], groups);
    }
  }
}
