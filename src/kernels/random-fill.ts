import source from '../../shaders/random_fill.wgsl?raw';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import { grid, type ProgramBuilder } from '../gpu/program.ts';
import type { GpuMatrix } from '../gpu/weights.ts';

const PARAMS = new ParamLayout('Params', { words: 'u32', row_words: 'u32', cols: 'u32', seed: 'u32', scale: 'f32' });
const WG = 256;
const MODES = { f32: 0, f16: 1, q8: 2, q4: 3, scales: 4 } as const;

/** Typical |code| of random q8/q4 codes (their standard deviation), to give values a chosen spread. */
const CODE_STD = { q8: 73.9, q4: 4.61 };

/**
 * Fills matrices with deterministic pseudo-random weights on the GPU (shaders/random_fill.wgsl):
 * values, or codes and scales, with standard deviation about `std`.
 */
export class RandomFill {
  private constructor(private readonly kernels: CompiledKernel[]) {}

  static async create(ctx: GpuContext): Promise<RandomFill> {
    const kernels = await Promise.all(Object.values(MODES).map((MODE) => ctx.kernel({ name: 'random_fill', source, params: PARAMS, consts: { WG, MODE } })));
    return new RandomFill(kernels);
  }

  record(b: ProgramBuilder, m: GpuMatrix, seed: number, std: number): void {
    const uniformScale = std * Math.sqrt(3);
    const format = m.format;
    m.parts.forEach((part, i) => {
      const partSeed = (seed + i * 0x9e3779b9) >>> 0;
      const words = part.rows * m.rowWords;
      const dataScale = format === 'q8' || format === 'q4' ? 0 : uniformScale;
      b.dispatch(this.kernels[MODES[format]], { words, row_words: m.rowWords, cols: m.cols, seed: partSeed, scale: dataScale }, [part.buffer], grid(Math.ceil(words / WG)));
      if (part.scales && (format === 'q8' || format === 'q4')) {
        const scaleWords = part.rows * m.scaleWords;
        const params = { words: scaleWords, row_words: m.scaleWords, cols: 2 * m.scaleWords, seed: (partSeed ^ 0x5bd1e995) >>> 0, scale: std / CODE_STD[format] };
        b.dispatch(this.kernels[MODES.scales], params, [part.scales], grid(Math.ceil(scaleWords / WG)));
      }
    });
  }
}
