import gemvGateUpSource from '../../shaders/moe_gemv_gate_up.wgsl?raw';
import gemvDownSource from '../../shaders/moe_gemv_down.wgsl?raw';
import tiledGateUpSource from '../../shaders/moe_matmul_gate_up.wgsl?raw';
import tiledDownSource from '../../shaders/moe_matmul_down.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import type { ProgramBuilder, Resource } from '../gpu/program.ts';
import { matrixRowPairs, type GpuMatrix, type MatrixPart } from '../gpu/weights.ts';
import { EXPERT_TILE, maxExpertTiles } from './moe-group.ts';

const GATE_UP_PARAMS = new ParamLayout('Params', { K: 'u32', K2: 'u32', row_pairs: 'u32', Im: 'u32', topk: 'u32', expert_start: 'u32', expert_count: 'u32' });
const DOWN_PARAMS = new ParamLayout('Params', { N: 'u32', K: 'u32', K2: 'u32', row_pairs: 'u32', topk: 'u32', expert_start: 'u32', expert_count: 'u32' });
const GEMV_WG = 256;
const GEMV_ROWS = GEMV_WG / 32;
const TILE_OUTPUTS = 64;

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
 * [E·2Im, H], down [E·H, Im]), each part of them holding whole experts. Decode GEMVs read the
 * chosen ids on the GPU; prefill runs tiled products over the grouped assignments only.
 */
export class MoeExperts {
  private constructor(
    private readonly shape: ExpertShape,
    private readonly kernels: Record<'gemvGateUp' | 'gemvDown' | 'tiledGateUp' | 'tiledDown', CompiledKernel>,
  ) {}

  static async create(ctx: GpuContext, shape: ExpertShape): Promise<MoeExperts> {
    const [gemvGateUp, gemvDown, tiledGateUp, tiledDown] = await Promise.all([
      ctx.kernel({ name: 'moe_gemv_gate_up', source: gemvGateUpSource, params: GATE_UP_PARAMS, consts: { WG: GEMV_WG } }),
      ctx.kernel({ name: 'moe_gemv_down', source: gemvDownSource, params: DOWN_PARAMS, consts: { WG: GEMV_WG } }),
      ctx.kernel({ name: 'moe_matmul_gate_up', source: tiledGateUpSource, params: GATE_UP_PARAMS, consts: { TM: EXPERT_TILE } }),
      ctx.kernel({ name: 'moe_matmul_down', source: tiledDownSource, params: DOWN_PARAMS, consts: { TM: EXPERT_TILE } }),
    ]);
    return new MoeExperts(shape, { gemvGateUp, gemvDown, tiledGateUp, tiledDown });
  }

  private gateUpParams(w: GpuMatrix, part: MatrixPart) {
    const { hidden, width, topK } = this.shape;
    return { K: hidden, K2: w.pairs, row_pairs: matrixRowPairs(w), Im: width, topk: topK, ...expertRange(part, 2 * width) };
  }

  private downParams(w: GpuMatrix, part: MatrixPart) {
    const { hidden, width, topK } = this.shape;
    return { N: hidden, K: width, K2: w.pairs, row_pairs: matrixRowPairs(w), topk: topK, ...expertRange(part, hidden) };
  }

  /** act [T·k, Im] = weight · silu(gate_e x) · (up_e x) for each token's chosen experts; x [T, H]. */
  gateUpRouted(b: ProgramBuilder, a: RoutedArgs & { x: Resource; w: GpuMatrix; act: Resource }): void {
    for (const part of a.w.parts) {
      b.dispatch(this.kernels.gemvGateUp, this.gateUpParams(a.w, part), [a.x, a.ids, a.weights, part.buffer, a.act], [Math.ceil(this.shape.width / GEMV_ROWS), a.T * this.shape.topK, 1]);
    }
  }

  /** y [T, H] += Σ_slot down_e act[t·k + slot]. */
  downRouted(b: ProgramBuilder, a: { ids: Resource; T: number; act: Resource; w: GpuMatrix; y: Resource }): void {
    for (const part of a.w.parts) {
      b.dispatch(this.kernels.gemvDown, this.downParams(a.w, part), [a.act, a.ids, part.buffer, a.y], [Math.ceil(this.shape.hidden / GEMV_ROWS), a.T, 1]);
    }
  }

  /** As gateUpRouted, over the grouped assignments with one tiled product per expert tile. */
  gateUpGrouped(b: ProgramBuilder, a: GroupedArgs & { x: Resource; w: GpuMatrix; act: Resource }): void {
    const tiles = maxExpertTiles(a.T * this.shape.topK, this.shape.experts);
    for (const part of a.w.parts) {
      b.dispatch(this.kernels.tiledGateUp, this.gateUpParams(a.w, part), [a.x, a.weights, a.perm, a.tiles, part.buffer, a.act], [Math.ceil(this.shape.width / TILE_OUTPUTS), tiles, 1]);
    }
  }

  /** expertOut [T·k, H] = down_e act[a] per assignment (summed per token by MoeCombine). */
  downGrouped(b: ProgramBuilder, a: { perm: Resource; tiles: Resource; T: number; act: Resource; w: GpuMatrix; expertOut: Resource }): void {
    const tiles = maxExpertTiles(a.T * this.shape.topK, this.shape.experts);
    for (const part of a.w.parts) {
      b.dispatch(this.kernels.tiledDown, this.downParams(a.w, part), [a.act, a.perm, a.tiles, part.buffer, a.expertOut], [Math.ceil(this.shape.hidden / TILE_OUTPUTS), tiles, 1]);
    }
  }
}
