import groupSource from '../../shaders/moe_group.wgsl?raw';
import combineSource from '../../shaders/moe_combine.wgsl?raw';
import { UnsupportedModelError } from '../loader/errors.ts';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';

/** Assignments per tile of the prefill expert matmuls (their workgroups are 16 × EXPERT_TILE lanes). */
export const EXPERT_TILE = 16;
const GROUP_PARAMS = new ParamLayout('Params', { n: 'u32' });
const COMBINE_PARAMS = new ParamLayout('Params', { T: 'u32', H: 'u32', topk: 'u32' });
const GROUP_WG = 256;
const COMBINE_WG = 256;

/** Most tiles the grouping can make for n assignments: every full tile, plus one partial tile per non-empty expert. */
export function maxExpertTiles(n: number, experts: number): number {
  return Math.floor(n / EXPERT_TILE) + Math.min(experts, n);
}

/** Counting sort of a prefill's assignments by expert, and the tile list the expert matmuls walk. */
export class MoeGroup {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext, experts: number): Promise<MoeGroup> {
    // counts, starts and first tiles: three words per expert of workgroup memory.
    const bytes = 12 * experts;
    if (bytes > ctx.limits.maxComputeWorkgroupStorageSize) {
      throw new UnsupportedModelError(`Grouping ${experts} experts needs ${bytes} bytes of workgroup memory; this GPU has ${ctx.limits.maxComputeWorkgroupStorageSize}`);
    }
    return new MoeGroup(await ctx.kernel({ name: 'moe_group', source: groupSource, params: GROUP_PARAMS, consts: { E: experts, TM: EXPERT_TILE, WG: GROUP_WG } }));
  }

  /** ids [n] → perm [n] grouped by expert, tiles [1 + 3 · maxExpertTiles(n, E)]. */
  record(b: ProgramBuilder, a: { ids: Resource; perm: Resource; tiles: Resource; n: number }): void {
    b.dispatch(this.kernel, { n: a.n }, [a.ids, a.perm, a.tiles], 1);
  }
}

/** x[t] += Σ_slot expertOut[t·k + slot]: a prefill token's weighted expert outputs into the residual. */
export class MoeCombine {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext): Promise<MoeCombine> {
    return new MoeCombine(await ctx.kernel({ name: 'moe_combine', source: combineSource, params: COMBINE_PARAMS, consts: { WG: COMBINE_WG } }));
  }

  record(b: ProgramBuilder, a: { expertOut: Resource; x: Resource; T: number; H: number; topK: number }): void {
    b.dispatch(this.kernel, { T: a.T, H: a.H, topk: a.topK }, [a.expertOut, a.x], grid(Math.ceil((a.T * a.H) / COMBINE_WG)));
  }
}
