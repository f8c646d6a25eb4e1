import type { Qwen35Config } from '../loader/config.ts';
import type { ExpertTensors } from '../loader/expert-layout.ts';
import type { MoeMlpNames } from '../loader/names.ts';
import type { GpuMatrix } from '../gpu/weights.ts';
import type { MoeWeights } from '../layers/moe.ts';

export interface MatrixLayoutRequest {
  /** Alternate the rows of the (same-shaped) tensors instead of stacking them. */
  interleaved?: boolean;
  /** Blocks of this many rows never straddle two buffers. */
  rowGroup?: number;
}

/** Uploads checkpoint tensors stacked by rows as one matrix. */
export type MatrixLoader = (label: string, tensors: string[], layout?: MatrixLayoutRequest) => Promise<GpuMatrix>;

/**
 * One MoE layer's weights: the router, the shared expert's gate and its gate/up projections fused
 * into one matrix (all four read the same normed input), the shared down projection, and the
 * routed experts stacked by rows with each expert kept whole within one buffer. All take the load's
 * weight format (FP8 tensors too: load-weights.ts).
 */
export async function loadMoeWeights(matrix: MatrixLoader, c: Qwen35Config, n: MoeMlpNames, experts: ExpertTensors, layer: number): Promise<MoeWeights> {
  const { moeIntermediateSize: Im } = c.moe!;
  return {
    routerShared: await matrix(`layer${layer}.router_shared`, [n.router, n.sharedExpertGate, n.sharedGate, n.sharedUp]),
    sharedDown: await matrix(`layer${layer}.shared_down`, [n.sharedDown]),
    expertsGateUp: await matrix(`layer${layer}.experts.gate_up`, experts.gateUp, { rowGroup: 2 * Im }),
    expertsDown: await matrix(`layer${layer}.experts.down`, experts.down, { rowGroup: c.hiddenSize }),
  };
}
