import gemvSource from '../../shaders/matmul_gemv.wgsl?raw';
import tiledSource from '../../shaders/matmul_tiled.wgsl?raw';
import directSource from '../../shaders/matmul_tiled_direct.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';
import { matrixUnits, type GpuMatrix, type WeightFormat } from '../gpu/weights.ts';

const PARAMS = new ParamLayout('Params', {
  T: 'u32', N: 'u32', K: 'u32', units: 'u32', row_vecs: 'u32', scale_words: 'u32',
  x_offset: 'u32', x_stride: 'u32', y_stride: 'u32', y_offset: 'u32', eps: 'f32',
});
const GEMV_WG = 64;
/** Lanes per output row in the GEMV: the smallest subgroup WebGPU allows, so shuffles always reach. */
const GEMV_LANES = 4;
/** Rows per GEMV lane group, sharing each x unit: CPU adapters are bound by the x loads (matmul_gemv.wgsl). */
const GEMV_ROWS_CPU = 16;
const GEMV_ROWS_GPU = 2;
const DIRECT_WG = 64;
/** Up to this many tokens the GEMV (one weight pass per token) beats the tiled kernels' setup. */
const GEMV_MAX_TOKENS = 1;

/** A weight layout a kernel is specialised on. */
export interface MatrixFormat {
  format: WeightFormat;
  groupSize: number;
}

export type PrefillKernel = 'tiled' | 'direct';

export interface MatmulArgs {
  /** [T, K] activations, starting xOffset floats in. */
  x: Resource;
  xOffset?: number;
  w: GpuMatrix;
  /** [T, yStride] output; columns yOffset + (0..w.rows) are written (w.rows / 2 with glu). */
  y: Resource;
  T: number;
  yStride?: number;
  yOffset?: number;
  /** Add into y (fused residual add) instead of overwriting it. */
  accumulate?: boolean;
  /** RMSNorm x on the fly (x is then the raw residual stream; weight stored as 1 + w). */
  norm?: { weight: GPUBuffer; eps: number };
  /** w's rows are (gate, up) pairs (interleaved at load): y = silu(gate · x) * (up · x). */
  glu?: boolean;
}

export interface MatmulVariant {
  accumulate?: boolean;
  norm?: boolean;
  glu?: boolean;
}

/**
 * The fused variants compiled by default: the ones a decoder layer uses (norm + projection, the
 * residual-adding output projections, norm + gate/up + SwiGLU) and the plain product. Each variant
 * is its own pipeline, and SwiftShader spends ~0.3-0.5 s compiling one, so no unused ones.
 */
export const DEFAULT_VARIANTS: MatmulVariant[] = [{}, { accumulate: true }, { norm: true }, { norm: true, glu: true }];

function variantConsts(v: MatmulVariant) {
  return { ACCUMULATE: v.accumulate ? 1 : 0, NORM: v.norm ? 1 : 0, GLU: v.glu ? 1 : 0 };
}

/**
 * y = x W^T in every weight format, choosing the decode GEMV or a prefill kernel by token count;
 * the prefill kernel is the workgroup-memory tiled one on GPUs and the barrier-free one on CPU
 * adapters (GpuContext.barrierFree). The single entry point every layer uses.
 */
export class Matmul {
  private constructor(
    private readonly kernels: Map<string, CompiledKernel>,
    private readonly prefill: PrefillKernel,
    private readonly gemvRows: number,
  ) {}

  static async create(ctx: GpuContext, options: { formats?: MatrixFormat[]; prefill?: PrefillKernel; variants?: MatmulVariant[] } = {}): Promise<Matmul> {
    const formats = options.formats ?? [{ format: ctx.storage, groupSize: 0 }];
    const prefill = options.prefill ?? (ctx.barrierFree ? 'direct' : 'tiled');
    const gemvRows = ctx.barrierFree ? GEMV_ROWS_CPU : GEMV_ROWS_GPU;
    const kernels = new Map<string, CompiledKernel>();
    const jobs: Promise<void>[] = [];
    for (const weights of formats) {
      for (const variant of options.variants ?? DEFAULT_VARIANTS) {
        const v = variantConsts(variant);
        const add = async (kind: string, spec: Parameters<GpuContext['kernel']>[0]) => {
          kernels.set(variantKey(kind, weights, v), await ctx.kernel(spec));
        };
        jobs.push(add('gemv', { name: 'matmul_gemv', source: gemvSource, params: PARAMS, weights, consts: { WG: GEMV_WG, LANES: GEMV_LANES, ROWS: gemvRows, ...v } }));
        jobs.push(prefill === 'direct'
          ? add('prefill', { name: 'matmul_tiled_direct', source: directSource, params: PARAMS, weights, consts: { WG: DIRECT_WG, ...v } })
          : add('prefill', { name: 'matmul_tiled', source: tiledSource, params: PARAMS, weights, consts: v }));
      }
    }
    await Promise.all(jobs);
    return new Matmul(kernels, prefill, gemvRows);
  }

  record(b: ProgramBuilder, a: MatmulArgs): void {
    const gemv = a.T <= GEMV_MAX_TOKENS;
    const v = variantConsts({ accumulate: a.accumulate, norm: Boolean(a.norm), glu: a.glu });
    const key = variantKey(gemv ? 'gemv' : 'prefill', a.w, v);
    const kernel = this.kernels.get(key);
    if (!kernel) throw new Error(`matmul: no kernel for ${a.w.label} (${key}); create Matmul with its format`);
    if (a.glu && a.w.rows % 2 !== 0) throw new Error(`matmul: ${a.w.label} has ${a.w.rows} rows, not (gate, up) pairs`);
    for (const part of a.w.parts) {
      const params = {
        T: a.T, N: part.rows, K: a.w.cols, units: matrixUnits(a.w), row_vecs: a.w.rowWords / 4,
        scale_words: a.w.scaleWords, x_offset: a.xOffset ?? 0, x_stride: a.w.cols,
        y_stride: a.yStride ?? (a.glu ? a.w.rows / 2 : a.w.rows), y_offset: (a.yOffset ?? 0) + (a.glu ? part.rowStart / 2 : part.rowStart),
        eps: a.norm?.eps ?? 0,
      };
      let groups: [number, number, number];
      if (gemv) {
        const [gx, gy] = grid(Math.ceil(part.rows / this.gemvRows / (GEMV_WG / GEMV_LANES)));
        groups = [gx, gy, a.T];
      } else if (this.prefill === 'direct') {
        groups = [Math.ceil(Math.ceil(part.rows / 4) / DIRECT_WG), Math.ceil(a.T / 4), 1];
      } else {
        groups = [Math.ceil(part.rows / 64), Math.ceil(a.T / 32), 1];
      }
      b.dispatch(kernel, params, [a.x, part.buffer, part.scales ?? part.buffer, a.norm?.weight ?? part.buffer, a.y], groups);
    }
  }
}

function variantKey(kind: string, w: MatrixFormat, v: { ACCUMULATE: number; NORM: number; GLU: number }): string {
  return `${kind}:${w.format}:${w.groupSize}:${v.ACCUMULATE}${v.NORM}${v.GLU}`;
}
