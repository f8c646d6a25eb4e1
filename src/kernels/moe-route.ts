import source from '../../shaders/moe_route.wgsl?raw';
import { UnsupportedModelError } from '../loader/errors.ts';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', { T: 'u32', P: 'u32', Is: 'u32' });
const WG = 64;

export interface MoeRouteArgs {
  /** [T, P]: router logits (E) | shared_expert_gate (1) | shared gate_proj (Is) | shared up_proj (Is). */
  proj: Resource;
  P: number;
  Is: number;
  ids: Resource;        // [T, k] u32 out
  weights: Resource;    // [T, k] out
  sharedAct: Resource;  // [T, Is] out
  T: number;
}

/** Per token: softmax → top-k → renormalised routing weights, and the shared expert's gated activation. */
export class MoeRoute {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext, experts: number, topK: number): Promise<MoeRoute> {
    // probabilities, the argmax pairs and the reduction scratch, the chosen ids and probabilities
    const bytes = 4 * experts + 12 * WG + 8 * topK;
    if (bytes > ctx.limits.maxComputeWorkgroupStorageSize) {
      throw new UnsupportedModelError(`Routing over ${experts} experts needs ${bytes} bytes of workgroup memory; this GPU has ${ctx.limits.maxComputeWorkgroupStorageSize}`);
    }
    return new MoeRoute(await ctx.kernel({ name: 'moe_route', source, params: PARAMS, consts: { E: experts, TOPK: topK, WG } }));
  }

  record(b: ProgramBuilder, a: MoeRouteArgs): void {
    b.dispatch(this.kernel, { T: a.T, P: a.P, Is: a.Is }, [a.proj, a.ids, a.weights, a.sharedAct], grid(a.T));
  }
}
