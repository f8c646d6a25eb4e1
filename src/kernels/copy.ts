import source from '../../shaders/copy.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', { n: 'u32' });

/** How the copy spreads its 16-byte units over invocations (shaders/copy.wgsl). */
export interface CopyShape {
  wg: number;
  vecs: number;
  contiguous: boolean;
}

/** One unit per invocation, then longer strided and contiguous streams: the bench keeps the fastest. */
export const COPY_SHAPES: readonly CopyShape[] = [
  { wg: 256, vecs: 1, contiguous: false },
  { wg: 64, vecs: 64, contiguous: false },
  { wg: 64, vecs: 64, contiguous: true },
];

/** The plain copy kernel: the bandwidth yardstick of `npm run bench`. */
export class Copy {
  private constructor(
    private readonly kernel: CompiledKernel,
    readonly shape: CopyShape,
  ) {}

  static async create(ctx: GpuContext, shape: CopyShape = COPY_SHAPES[0]): Promise<Copy> {
    const consts = { WG: shape.wg, VECS: shape.vecs, CONTIGUOUS: shape.contiguous ? 1 : 0 };
    return new Copy(await ctx.kernel({ name: 'copy', source, params: PARAMS, consts }), shape);
  }

  /** dst[0..bytes) = src[0..bytes); bytes a multiple of 16. */
  record(b: ProgramBuilder, src: GPUBuffer, dst: GPUBuffer, bytes: number): void {
    const n = bytes / 16;
    if (!Number.isInteger(n)) throw new Error(`copy: ${bytes} bytes is not a whole number of 16-byte vectors`);
    // A grid rounded up to whole workgroups (or rows of them) only adds lanes past n, which do nothing.
    b.dispatch(this.kernel, { n }, [src, dst], grid(Math.ceil(n / this.shape.vecs / this.shape.wg)));
  }
}
