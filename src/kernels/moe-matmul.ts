import gemvGateUpSource from '../../shaders/moe_gemv_gate_up.wgsl?raw';
import gemvDownSource from '../../shaders/moe_gemv_down.wgsl?raw';
import tiledGateUpSource from '../../shaders/moe_matmul_gate_up.wgsl?raw';
import tiledDownSource from '../../shaders/moe_matmul_down.wgsl?raw';
import directGateUpSource from '../../shaders/moe_matmul_gate_up_direct.wgsl?raw';
import directDownSource from '../../shaders/moe_matmul_down_direct.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import type { ProgramBuilder, Resource } from '../gpu/program.ts';
import { matrixUnits, type GpuMatrix, type MatrixPart } from '../gpu/weights.ts';
import type { MatrixFormat } from './matmul.ts';
import { EXPERT_TILE, maxExpertTiles } from './moe-group.ts';

const ROW_PARAMS = { units: 'u32', row_vecs: 'u32', scale_words: 'u32', topk: 'u32', expert_start: 'u32', expert_count: 'u32' } as const;
const GATE_UP_PARAMS = new ParamLayout('Params', { K: 'u32', Im: 'u32', ...ROW_PARAMS });
const DOWN_PARAMS = new ParamLayout('Params', { N: 'u32', K: 'u32', ...ROW_PARAMS });
const GEMV_WG = 64;
/** Lanes per GEMV output, and rows per lane group sharing each x unit: as Matmul's GEMV (matmul.ts). */
const GEMV_LANES = 4;
const GEMV_ROWS_CPU = 16;
const GEMV_ROWS_GPU = 2;
const GATE_UP_TILE = 32;
const DOWN_TILE = 64;
/** The barrier-free prefill kernels (CPU adapters): 4 assignments x 4 outputs per invocation. */
const DIRECT_WG = 64;

type ExpertKernels = Record<'gemvGateUp' | 'gemvDown' | 'tiledGateUp' | 'tiledDown', CompiledKernel>;

export interface ExpertShape {
  experts: number;
  topK: number;
  hidden: number;
  /** moe_intermediate_size. */
  width: number;
}

/** Decode: expert ids and weights straight from the router's output buffers. */
export interface RoutedArgs {
  ids: Resource;      // [T, k] u32
  weights: Resource;  // [T, k]
  T: number;
}

/** Prefill: the grouping kernel's output. */
export interface GroupedArgs {
  weights: Resource;  // [T, k]
  perm: Resource;     // [T·k]
  tiles: Resource;    // [1 + 3 · maxExpertTiles]
  T: number;
}

/** The experts held whole by one part of an expert matrix of `rowsPerExpert` rows each. */
function expertRange(part: MatrixPart, rowsPerExpert: number): { expert_start: number; expert_count: number } {
  if (part.rowStart % rowsPerExpert || part.rows % rowsPerExpert) throw new Error(`expert matrix part at row ${part.rowStart} splits an expert of ${rowsPerExpert} rows`);
  return { expert_start: part.rowStart / rowsPerExpert, expert_count: part.rows / rowsPerExpert };
}

/**
 * The routed experts' matrix products over matrices that stack E experts by rows (gate/up
 * [E·2Im, H], down [E·H, Im]) in any weight format, each part of them holding whole experts.
 * Decode GEMVs read the chosen ids on the GPU; prefill runs tiled products over the grouped
 * assignments only (barrier-free ones on CPU adapters).
 */
export class MoeExperts {
  private constructor(
    private readonly shape: ExpertShape,
    private readonly kernels: Map<string, ExpertKernels>,
    private readonly gemvRows: number,
    /** Prefill through the barrier-free kernels (GpuContext.barrierFree) rather than the workgroup-memory ones. */
    private readonly direct: boolean,
  ) {}

  /** `formats`: the expert matrices' weight layouts (default: the context's f16/f32 storage). */
  static async create(ctx: GpuContext, shape: ExpertShape, formats: MatrixFormat[] = [{ format: ctx.storage, groupSize: 0 }]): Promise<MoeExperts> {
    const gemvRows = ctx.barrierFree ? GEMV_ROWS_CPU : GEMV_ROWS_GPU;
    const gemv = { WG: GEMV_WG, LANES: GEMV_LANES };
    const direct = ctx.barrierFree;
    const tiled: { consts: Record<string, number>; suffix: string } = direct ? { consts: { WG: DIRECT_WG }, suffix: '_direct' } : { consts: { TM: EXPERT_TILE }, suffix: '' };
    const kernels = new Map<string, ExpertKernels>();
    await Promise.all(formats.map(async (weights) => {
      const [gemvGateUp, gemvDown, tiledGateUp, tiledDown] = await Promise.all([
        ctx.kernel({ name: 'moe_gemv_gate_up', source: gemvGateUpSource, params: GATE_UP_PARAMS, weights, consts: { ...gemv, OUTS: gemvRows / 2 } }),
        ctx.kernel({ name: 'moe_gemv_down', source: gemvDownSource, params: DOWN_PARAMS, weights, consts: { ...gemv, ROWS: gemvRows } }),
        ctx.kernel({ name: `moe_matmul_gate_up${tiled.suffix}`, source: direct ? directGateUpSource : tiledGateUpSource, params: GATE_UP_PARAMS, weights, consts: tiled.consts }),
        ctx.kernel({ name: `moe_matmul_down${tiled.suffix}`, source: direct ? directDownSource : tiledDownSource, params: DOWN_PARAMS, weights, consts: tiled.consts }),
      ]);
      kernels.set(formatKey(weights), { gemvGateUp, gemvDown, tiledGateUp, tiledDown });
    }));
    return new MoeExperts(shape, kernels, gemvRows, direct);
  }

  private kernelsFor(w: GpuMatrix): ExpertKernels {
    const kernels = this.kernels.get(formatKey(w));
    if (!kernels) throw new Error(`moe experts: no kernels for ${w.label} (${formatKey(w)}); create MoeExperts with its format`);
    return kernels;
  }

  private rowParams(w: GpuMatrix, part: MatrixPart, rowsPerExpert: number) {
    return { units: matrixUnits(w), row_vecs: w.rowWords / 4, scale_words: w.scaleWords, topk: this.shape.topK, ...expertRange(part, rowsPerExpert) };
  }

  /** Workgroups of a grouped product over `outputs` per assignment. */
  private groupedGrid(outputs: number, tileOutputs: number, tiles: number): [number, number, number] {
    return this.direct ? [Math.ceil(Math.ceil(outputs / 4) / DIRECT_WG), tiles, EXPERT_TILE / 4] : [Math.ceil(outputs / tileOutputs), tiles, 1];
  }

  private gateUpParams(w: GpuMatrix, part: MatrixPart) {
    return { K: this.shape.hidden, Im: this.shape.width, ...this.rowParams(w, part, 2 * this.shape.width) };
  }

  private downParams(w: GpuMatrix, part: MatrixPart) {
    return { N: this.shape.hidden, K: this.shape.width, ...this.rowParams(w, part, this.shape.hidden) };
  }

  /** act [T·k, Im] = weight · silu(gate_e x) · (up_e x) for each token's chosen experts; x [T, H]. */
  gateUpRouted(b: ProgramBuilder, a: RoutedArgs & { x: Resource; w: GpuMatrix; act: Resource }): void {
    const kernel = this.kernelsFor(a.w).gemvGateUp;
    const groups = Math.ceil(this.shape.width / (this.gemvRows / 2) / (GEMV_WG / GEMV_LANES));
    for (const part of a.w.parts) {
      b.dispatch(kernel, this.gateUpParams(a.w, part), [a.x, a.ids, a.weights, part.buffer, part.scales ?? part.buffer, a.act], [groups, a.T * this.shape.topK, 1]);
    }
  }

  /** y [T, H] += Σ_slot down_e act[t·k + slot]. */
  downRouted(b: ProgramBuilder, a: { ids: Resource; T: number; act: Resource; w: GpuMatrix; y: Resource }): void {
    const kernel = this.kernelsFor(a.w).gemvDown;
    const groups = Math.ceil(this.shape.hidden / this.gemvRows / (GEMV_WG / GEMV_LANES));
    for (const part of a.w.parts) {
      b.dispatch(kernel, this.downParams(a.w, part), [a.act, a.ids, part.buffer, part.scales ?? part.buffer, a.y], [groups, a.T, 1]);
    }
  }

  /** As gateUpRouted, over the grouped assignments with one tiled product per expert tile. */
  gateUpGrouped(b: ProgramBuilder, a: GroupedArgs & { x: Resource; w: GpuMatrix; act: Resource }): void {
    const tiles = maxExpertTiles(a.T * this.shape.topK, this.shape.experts);
    const kernel = this.kernelsFor(a.w).tiledGateUp;
    for (const part of a.w.parts) {
      b.dispatch(kernel, this.gateUpParams(a.w, part), [a.x, a.weights, a.perm, a.tiles, part.buffer, part.scales ?? part.buffer, a.act], this.groupedGrid(this.shape.width, GATE_UP_TILE, tiles));
    }
  }

  /** expertOut [T·k, H] = down_e act[a] per assignment (summed per token by MoeCombine). */
  downGrouped(b: ProgramBuilder, a: { perm: Resource; tiles: Resource; T: number; act: Resource; w: GpuMatrix; expertOut: Resource }): void {
    const tiles = maxExpertTiles(a.T * this.shape.topK, this.shape.experts);
    const kernel = this.kernelsFor(a.w).tiledDown;
    for (const part of a.w.parts) {
      b.dispatch(kernel, this.downParams(a.w, part), [a.act, a.perm, a.tiles, part.buffer, part.scales ?? part.buffer, a.expertOut], this.groupedGrid(this.shape.hidden, DOWN_TILE, tiles));
    }
  }
}

function formatKey(w: MatrixFormat): string {
  return `${w.format}:${w.groupSize}`;
}
