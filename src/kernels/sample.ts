import source from '../../shaders/sample.wgsl?raw';
import countSource from '../../shaders/count_tokens.wgsl?raw';
import type { SamplingParams } from '../api.ts';
import type { CompiledKernel, GpuContext } from '../gpu/context.ts';
import { ParamLayout } from '../gpu/params.ts';
import type { ProgramBuilder, Resource } from '../gpu/program.ts';

const PARAMS = new ParamLayout('Params', {
  V: 'u32', temperature: 'f32', top_k: 'u32', top_p: 'f32',
  repetition_penalty: 'f32', presence_penalty: 'f32', frequency_penalty: 'f32',
});
const COUNT_PARAMS = new ParamLayout('Params', { T: 'u32', V: 'u32' });
const WG = 256;

export const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, presencePenalty: 0, frequencyPenalty: 0 };

/**
 * The sampler keeps its settings in a uniform buffer of its own, so a decode program built once
 * serves every request: changing temperature or top-p is one small buffer write.
 */
export class Sampler {
  private readonly settings: GPUBuffer;
  private readonly staging = new DataView(new ArrayBuffer(PARAMS.byteSize));

  private constructor(
    private readonly ctx: GpuContext,
    private readonly kernel: CompiledKernel,
    private readonly countKernel: CompiledKernel,
    readonly vocabSize: number,
  ) {
    this.settings = ctx.pool.create('sampler.settings', PARAMS.byteSize, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.configure(GREEDY);
  }

  static async create(ctx: GpuContext, vocabSize: number): Promise<Sampler> {
    const kernel = await ctx.kernel({ name: 'sample', source, params: PARAMS, consts: { WG } });
    const countKernel = await ctx.kernel({ name: 'count_tokens', source: countSource, params: COUNT_PARAMS, consts: { WG } });
    return new Sampler(ctx, kernel, countKernel, vocabSize);
  }

  configure(p: SamplingParams): void {
    if (!(p.temperature >= 0) || !(p.topP > 0 && p.topP <= 1) || !(p.repetitionPenalty > 0) || !(p.topK >= 0)) {
      throw new RangeError(`Invalid sampling parameters ${JSON.stringify(p)}: need temperature >= 0, 0 < top_p <= 1, repetition_penalty > 0, top_k >= 0`);
    }
    PARAMS.pack({
      V: this.vocabSize, temperature: p.temperature, top_k: Math.floor(p.topK), top_p: p.topP,
      repetition_penalty: p.repetitionPenalty, presence_penalty: p.presencePenalty, frequency_penalty: p.frequencyPenalty,
    }, this.staging);
    this.ctx.device.queue.writeBuffer(this.settings, 0, this.staging.buffer);
  }

  /** Samples from logits [V], writes token[0], bumps counts[token]. */
  record(b: ProgramBuilder, a: { logits: Resource; counts: GPUBuffer; token: Resource }): void {
    b.dispatch(this.kernel, this.settings, [a.logits, a.counts, a.token], 1);
  }

  /** Adds T prompt tokens to counts, so penalties see the prompt as well as the output. */
  recordCount(b: ProgramBuilder, a: { ids: Resource; counts: GPUBuffer; T: number }): void {
    b.dispatch(this.countKernel, { T: a.T, V: this.vocabSize }, [a.ids, a.counts], Math.ceil(a.T / WG));
  }
}

/** The uniform draw sample.wgsl derives from a step seed (same PCG hash), for tests that replay it. */
export function samplerUniform(seed: number): number {
  let s = (Math.imul(seed >>> 0, 747796405) + 2891336453) >>> 0;
  s = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  s = ((s >>> 22) ^ s) >>> 0;
  return (s >>> 8) / 16777216;
}
