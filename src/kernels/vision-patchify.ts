import source from '../../shaders/vision_patchify.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';
import type { PixelNormalization } from '../loader/vision-config.ts';

const PARAMS = new ParamLayout('Params', {
  width: 'u32', height: 'u32', frames: 'u32', grid_h: 'u32', grid_w: 'u32', groups: 'u32', row_offset: 'u32',
  scale: 'f32', mean0: 'f32', mean1: 'f32', mean2: 'f32', std0: 'f32', std1: 'f32', std2: 'f32',
});
const WG = 256;


export interface PatchifyItem {
  /** [frames, height, width, 3] bytes, packed four per u32. */
  frames: Resource;
  frameCount: number;
  width: number;
  height: number;
  /** Temporal groups (ceil(frames / temporal patch)). */
  groups: number;
  /** First output row of this item. */
  rowOffset: number;
}

/** Resized 8-bit frames → normalised patch rows in the processor's order (vision_patchify.wgsl). */
export class VisionPatchify {
  private constructor(
    private readonly kernel: CompiledKernel,
    readonly patchSize: number,
    readonly patchDim: number,
  ) {}

  static async create(ctx: GpuContext, patchSize: number, temporalPatchSize: number, mergeSize: number): Promise<VisionPatchify> {
    const kernel = await ctx.kernel({ name: 'vision_patchify', source, params: PARAMS, consts: { WG, PATCH: patchSize, TEMPORAL: temporalPatchSize, MERGE: mergeSize } });
    return new VisionPatchify(kernel, patchSize, 3 * temporalPatchSize * patchSize * patchSize);
  }

  record(b: ProgramBuilder, item: PatchifyItem, norm: PixelNormalization, out: Resource): void {
    const gh = item.height / this.patchSize;
    const gw = item.width / this.patchSize;
    const params = {
      width: item.width, height: item.height, frames: item.frameCount, grid_h: gh, grid_w: gw, groups: item.groups, row_offset: item.rowOffset,
      scale: norm.scale, mean0: norm.mean[0], mean1: norm.mean[1], mean2: norm.mean[2], std0: norm.std[0], std1: norm.std[1], std2: norm.std[2],
    };
    b.dispatch(this.kernel, params, [item.frames, out], grid(Math.ceil((item.groups * gh * gw * this.patchDim) / WG)));
  }
}
