import source from '../../shaders/copy.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', { n: 'u32' });
const WG = 256;

/** The plain copy kernel: the bandwidth yardstick of `npm run bench`. */
export class Copy {
  private constructor(private readonly kernel: CompiledKernel) {}

  static async create(ctx: GpuContext): Promise<Copy> {
    return new Copy(await ctx.kernel({ name: 'copy', source, params: PARAMS, consts: { WG } }));
  }

  /** dst[0..bytes) = src[0..bytes); bytes a multiple of 16. */
  record(b: ProgramBuilder, src: GPUBuffer, dst: GPUBuffer, bytes: number): void {
    const n = bytes / 16;
    if (!Number.isInteger(n)) throw new Error(`copy: ${bytes} bytes is not a whole number of 16-byte vectors`);
    b.dispatch(this.kernel, { n }, [src, dst], grid(Math.ceil(n / WG)));
  }
}
