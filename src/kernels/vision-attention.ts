import source from '../../shaders/vision_attention.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { UnsupportedModelError } from '../loader/errors.ts';
import { ParamLayout } from '../gpu/params.ts';
import type { ProgramBuilder, Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', { N: 'u32', heads: 'u32', scale: 'f32' });
const WG = 64;
/** Keys per staged tile: the largest power of two up to 64 whose k and v tiles fit in 16 KiB (WebGPU's minimum). */
function keyTile(headDim: number, workgroupBytes: number): number {
  const budget = Math.min(workgroupBytes, 16384);
  let tile = 64;
  while (tile > 1 && tile * headDim * 8 > budget) tile /= 2;
  if (tile * headDim * 8 > budget) throw new UnsupportedModelError(`Vision head dim ${headDim} does not fit this GPU's workgroup memory`);
  return tile;
}

/** Bidirectional attention within each patch's segment over the rotated fused qkv rows. */
export class VisionAttention {
  private constructor(
    private readonly kernel: CompiledKernel,
    private readonly headDim: number,
  ) {}

  static async create(ctx: GpuContext, headDim: number): Promise<VisionAttention> {
    const consts = { WG, HEAD_DIM: headDim, KEY_TILE: keyTile(headDim, ctx.limits.maxComputeWorkgroupStorageSize) };
    return new VisionAttention(await ctx.kernel({ name: 'vision_attention', source, params: PARAMS, consts }), headDim);
  }

  /** seg: [N] (start, end) u32 pairs; qkv: [N, 3·heads·hd]; out: [N, heads·hd]. */
  record(b: ProgramBuilder, a: { seg: Resource; qkv: Resource; out: Resource; N: number; heads: number }): void {
    b.dispatch(this.kernel, { N: a.N, heads: a.heads, scale: 1 / Math.sqrt(this.headDim) }, [a.seg, a.qkv, a.out], [Math.ceil(a.N / WG), a.heads, 1]);
  }
}
