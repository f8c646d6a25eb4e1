import source from '../../shaders/vision_resize.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder, type Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', {
  lines: 'u32', in_size: 'u32', out_size: 'u32', inner: 'u32', ksize: 'u32', frac_bits: 'u32', round: 'i32',
});
const WG = 256;

export interface ResizePassArgs {
  /** [lines, inSize, inner] bytes, packed four per u32. */
  src: Resource;
  /** Tap tables of the axis: first input step and count per output step, [outSize, ksize] i32 weights. */
  start: Resource;
  count: Resource;
  weights: Resource;
  ksize: number;
  precision: number;
  /** [lines, outSize, inner] bytes. */
  dst: Resource;
  lines: number;
  inSize: number;
  outSize: number;
  inner: number;
}

/** One axis of Pillow-exact 8-bit resampling (vision_resize.wgsl). */
export class VisionResize {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext): Promise<VisionResize> {
    return new VisionResize(await ctx.kernel({ name: 'vision_resize', source, params: PARAMS, consts: { WG } }));
  }

  record(b: ProgramBuilder, a: ResizePassArgs): void {
    const round = a.precision > 0 ? 2 ** (a.precision - 1) : 0;
    const params = { lines: a.lines, in_size: a.inSize, out_size: a.outSize, inner: a.inner, ksize: a.ksize, frac_bits: a.precision, round };
    const words = Math.ceil((a.lines * a.outSize * a.inner) / 4);
    b.dispatch(this.kernel, params, [a.src, a.start, a.count, a.weights, a.dst], grid(Math.ceil(words / WG)));
  }
}
