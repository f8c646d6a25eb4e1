import type { ProgramBuilder } from '../gpu/program.ts';
import type { GpuMatrix } from '../gpu/weights.ts';
import type { Scratch } from './scratch.ts';
import type { KernelSet } from './kernel-set.ts';

export interface MlpWeights {
  gateUp: GpuMatrix;  // [2I, H]: gate_proj rows then up_proj rows
  down: GpuMatrix;    // [H, I]
}

/** SwiGLU MLP: x += down(silu(gate(xn)) * up(xn)). */
export function recordMlp(b: ProgramBuilder, k: KernelSet, s: Scratch, w: MlpWeights, T: number): void {
  const I = w.down.cols;
  k.matmul.record(b, { x: s.xn, w: w.gateUp, y: s.gateUp, T });
  k.swiglu.record(b, { gateUp: s.gateUp, out: s.act, T, I });
  k.matmul.record(b, { x: s.act, w: w.down, y: s.x, T, accumulate: true });
}
