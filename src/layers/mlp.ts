import type { ProgramBuilder } from '../gpu/program.ts';
import type { GpuMatrix } from '../gpu/weights.ts';
import type { Scratch } from './scratch.ts';
import type { KernelSet } from './kernel-set.ts';

export interface MlpWeights {
  gateUp: GpuMatrix;  // [2I, H]: rows interleaved gate_0, up_0, gate_1, up_1, ... (one fused GLU matmul)
  down: GpuMatrix;    // [H, I]
}

/** The RMSNorm a layer applies to the residual stream before a mixer or MLP, fused into its first matmul. */
export interface InputNorm {
  weight: GPUBuffer;  // [H] stored as 1 + w
  eps: number;
}

/** SwiGLU MLP: x += down(silu(gate(norm(x))) * up(norm(x))), the norm and SwiGLU fused into one matmul. */
export function recordMlp(b: ProgramBuilder, k: KernelSet, s: Scratch, w: MlpWeights, T: number, norm: InputNorm): void {
  k.matmul.record(b, { x: s.x, w: w.gateUp, y: s.act, T, norm, glu: true });
  k.matmul.record(b, { x: s.act, w: w.down, y: s.x, T, accumulate: true });
}
