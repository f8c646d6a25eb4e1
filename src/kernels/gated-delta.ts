import recurrentSource from '../../shaders/gated_delta_rule.wgsl?raw';
import chunkedSource from '../../shaders/gated_delta_chunked.wgsl?raw';
import { UnsupportedModelError } from '../loader/errors.ts';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import type { ProgramBuilder, Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', { T: 'u32', nk: 'u32', nv: 'u32', dv: 'u32', proj_stride: 'u32', a_offset: 'u32', b_offset: 'u32' });
const MAX_LANES = 256;
/** Invocations per workgroup of the recurrent kernel, whose state columns are independent. */
const RECURRENT_WG = 32;

export interface DeltaShape {
  nk: number;
  nv: number;
  dk: number;
  dv: number;
}

export interface DeltaArgs {
  /** [T, 2*nk*dk + nv*dv] conv output (q | k | v). */
  conv: Resource;
  /** [T, projStride] holding a at aOffset + h and b at bOffset + h. */
  proj: Resource;
  projStride: number;
  aOffset: number;
  bOffset: number;
  aLog: GPUBuffer;
  dtBias: GPUBuffer;
  /** [nv, dk, dv] float32 recurrent state, updated in place. */
  state: GPUBuffer;
  /** [T, nv, dv]. */
  out: Resource;
  T: number;
}

/** Largest chunk whose q/k staging and A/P matrices fit the workgroup memory. */
export function chunkSizeFor(dk: number, lanes: number, workgroupBytes: number): number {
  for (const chunk of [64, 32, 16, 8]) {
    const bytes = 4 * (2 * chunk * dk + 2 * chunk * chunk + 4 * chunk);
    if (bytes + 4 * lanes <= workgroupBytes) return chunk;
  }
  throw new UnsupportedModelError(`Delta-rule key head dim ${dk} does not fit this GPU's workgroup memory (${workgroupBytes} bytes)`);
}

/**
 * The Gated DeltaNet delta rule: the recurrent kernel for decode, the chunked kernel for prefill.
 * Both fold in the l2 norms of q and k and the decay/beta gates, and keep the state in float32.
 */
export class GatedDeltaRule {
  private constructor(
    private readonly shape: DeltaShape,
    private readonly recurrent: CompiledKernel,
    private readonly chunked: CompiledKernel,
    readonly chunkSize: number,
  ) {}

  static async create(ctx: GpuContext, shape: DeltaShape): Promise<GatedDeltaRule> {
    if (shape.dv > MAX_LANES) throw new UnsupportedModelError(`Delta-rule value head dim ${shape.dv} exceeds ${MAX_LANES}`);
    const lanes = Math.max(32, 2 ** Math.ceil(Math.log2(shape.dv)));
    const chunk = chunkSizeFor(shape.dk, lanes, ctx.limits.maxComputeWorkgroupStorageSize);
    const recurrent = await ctx.kernel({ name: 'gated_delta_rule', source: recurrentSource, params: PARAMS, consts: { WG: RECURRENT_WG, DK: shape.dk } });
    const chunked = await ctx.kernel({ name: 'gated_delta_chunked', source: chunkedSource, params: PARAMS, consts: { WG: lanes, DK: shape.dk, CHUNK: chunk } });
    return new GatedDeltaRule(shape, recurrent, chunked, chunk);
  }

  record(b: ProgramBuilder, a: DeltaArgs, form: 'recurrent' | 'chunked' = a.T > 1 ? 'chunked' : 'recurrent'): void {
    const { nk, nv, dv } = this.shape;
    const params = { T: a.T, nk, nv, dv, proj_stride: a.projStride, a_offset: a.aOffset, b_offset: a.bOffset };
    const resources = [a.conv, a.proj, a.aLog, a.dtBias, a.state, a.out];
    if (form === 'chunked') b.dispatch(this.chunked, params, resources, nv);
    else b.dispatch(this.recurrent, params, resources, [Math.ceil(dv / RECURRENT_WG), nv, 1]);
  }
}
