import { readJsonFile, type FileSource } from '../loader/file-source.ts';

export interface SamplingDefaults {
  /** 0 means greedy (what `do_sample: false` asks for). */
  temperature: number;
  top_p: number;
  top_k: number;
  repetition_penalty: number;
  presence_penalty: number;
  do_sample: boolean;
}

export interface GenerationConfig {
  /** Generation stops at any of these. */
  eosTokenIds: number[];
  defaults: SamplingDefaults;
}

/** Without generation_config.json: the Qwen model cards' non-thinking recommendation. */
const CARD_DEFAULTS: SamplingDefaults = { temperature: 0.7, top_p: 0.8, top_k: 20, repetition_penalty: 1, presence_penalty: 0, do_sample: true };

/**
 * A field the file leaves out takes transformers' GenerationConfig default, as it would there:
 * in particular no `do_sample` means greedy.
 */
const TRANSFORMERS_DEFAULTS: SamplingDefaults = { temperature: 1, top_p: 1, top_k: 50, repetition_penalty: 1, presence_penalty: 0, do_sample: false };

/**
 * Stop tokens and sampling defaults from generation_config.json, with config.json's eos_token_id
 * (top level or text_config) and `extraEosIds` (the tokenizer's eos, `<|im_end|>`) added, so a chat
 * still ends at the end of its turn when a repo lists only `<|endoftext|>`.
 */
export async function loadGenerationConfig(source: FileSource, extraEosIds: readonly (number | undefined)[] = []): Promise<GenerationConfig> {
  const generation = await readOptionalObject(source, 'generation_config.json');
  const config = await readOptionalObject(source, 'config.json');
  const textConfig = asObject(config?.text_config);

  const eos = new Set<number>();
  for (const value of [generation?.eos_token_id, config?.eos_token_id, textConfig?.eos_token_id, ...extraEosIds]) {
    for (const id of Array.isArray(value) ? value : [value]) if (Number.isInteger(id)) eos.add(id as number);
  }

  const base = generation ? TRANSFORMERS_DEFAULTS : CARD_DEFAULTS;
  const num = (key: keyof SamplingDefaults): number => {
    const value = generation?.[key];
    return typeof value === 'number' && Number.isFinite(value) ? value : (base[key] as number);
  };
  const doSample = typeof generation?.do_sample === 'boolean' ? generation.do_sample : base.do_sample;
  return {
    eosTokenIds: [...eos],
    defaults: {
      temperature: doSample ? num('temperature') : 0,
      top_p: num('top_p'),
      top_k: num('top_k'),
      repetition_penalty: num('repetition_penalty'),
      presence_penalty: num('presence_penalty'),
      do_sample: doSample,
    },
  };
}

async function readOptionalObject(source: FileSource, path: string): Promise<Record<string, unknown> | undefined> {
  if ((await source.size(path)) === null) return undefined;
  return asObject(await readJsonFile(source, path));
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
