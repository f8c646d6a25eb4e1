import { AbortError } from '../loader/errors.ts';
import type { SamplingParams } from '../api.ts';
import { GREEDY } from '../kernels/sample.ts';
import type { ForwardOptions, Qwen35Model } from '../model/qwen35.ts';
import { GenerationStats } from './stats.ts';

export interface GenerateOptions {
  /** Tokens to generate at most (default 256). */
  maxTokens?: number;
  sampling?: SamplingParams;
  /** Generation stops after emitting one of these (default: the config's eos ids). */
  stopTokens?: number[];
  seed?: number;
  signal?: AbortSignal;
  /** M-RoPE positions and vision tokens of a multimodal prompt. */
  prefill?: Pick<ForwardOptions, 'positions' | 'visual'>;
}

/**
 * The generation loop in small verbs: prefill a prompt, decode one token at a time, or stream a
 * whole continuation. Each step reads back only the sampled id; everything else stays on the GPU.
 */
export class TextGenerator {
  readonly stats = new GenerationStats();

  constructor(readonly model: Qwen35Model) {}

  /** Runs the prompt (continuing the cached conversation) and returns the first sampled token. */
  async prefill(tokens: ArrayLike<number>, options: GenerateOptions['prefill'] = {}): Promise<number> {
    const started = performance.now();
    const first = await this.model.prefill(Int32Array.from(tokens), options);
    this.stats.recordPrefill(tokens.length, performance.now() - started);
    return first;
  }

  /** Feeds the last sampled token and returns the next one. */
  async decodeOne(): Promise<number> {
    const started = performance.now();
    const token = await this.model.decodeOne();
    this.stats.recordDecode(performance.now() - started);
    return token;
  }

  /** Streams sampled token ids after `prompt`; the stop token, if reached, is yielded last. */
  async *generate(prompt: ArrayLike<number>, options: GenerateOptions = {}): AsyncGenerator<number, void, undefined> {
    const maxTokens = options.maxTokens ?? 256;
    const stop = new Set(options.stopTokens ?? this.model.config.eosTokenIds);
    const check = () => {
      if (options.signal?.aborted) throw new AbortError('Generation');
    };
    this.model.configureSampling(options.sampling ?? GREEDY, options.seed);
    this.stats.reset();
    check();
    let token = await this.prefill(prompt, options.prefill);
    for (let produced = 1; ; produced++) {
      yield token;
      if (stop.has(token) || produced >= maxTokens) return;
      check();
      token = await this.decodeOne();
    }
  }

  reset(): void {
    this.model.reset();
    this.stats.reset();
  }
}
