import type { ChatMessage, ChatOptions, ContentPart, SamplingParams } from '../api.ts';
import type { GenerationConfig } from '../chat/generation-config.ts';
import { InvalidRequestError, UnsupportedContentError } from './errors.ts';

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);
const PART_TYPES = new Set<ContentPart['type']>(['text', 'image_url', 'image', 'video']);

/**
 * Checks a chat request before anything runs: the messages' shape, and that every content part is
 * of a kind the model reads (`accepts`: 'text' for the text models; vision models add theirs).
 */
export function validateMessages(messages: readonly ChatMessage[], accepts: ReadonlySet<string>, model: string): void {
  if (!Array.isArray(messages) || messages.length === 0) throw new InvalidRequestError('chat() needs a non-empty array of messages');
  messages.forEach((m, i) => {
    const where = `Message ${i + 1}`;
    if (typeof m !== 'object' || m === null || !ROLES.has(m.role)) throw new InvalidRequestError(`${where} has role ${JSON.stringify((m as { role?: unknown })?.role)}`);
    if (typeof m.content === 'string') return;
    const parts: unknown = m.content;
    if (!Array.isArray(parts)) throw new InvalidRequestError(`${where} has content that is neither a string nor an array of parts`);
    parts.forEach((part: unknown, j) => {
      const type = (part as { type?: unknown })?.type;
      const at = `${where}, part ${j + 1}`;
      if (typeof type !== 'string' || !PART_TYPES.has(type as ContentPart['type'])) throw new InvalidRequestError(`${at} has type ${JSON.stringify(type)} (expected text, image_url, image or video)`);
      if (type === 'text' && typeof (part as { text?: unknown }).text !== 'string') throw new InvalidRequestError(`${at} is a text part without a text string`);
      if (!accepts.has(type)) throw new UnsupportedContentError(type, at, model);
    });
  });
}

/** The sampler's settings: the caller's options over the repo's generation_config.json, checked. */
export function samplingFor(options: ChatOptions, generation: GenerationConfig): SamplingParams {
  const d = generation.defaults;
  const params: SamplingParams = {
    temperature: options.temperature ?? (d.do_sample ? d.temperature : 0),
    topK: options.top_k ?? d.top_k,
    topP: options.top_p ?? d.top_p,
    repetitionPenalty: options.repetition_penalty ?? d.repetition_penalty,
    presencePenalty: options.presence_penalty ?? d.presence_penalty,
    frequencyPenalty: options.frequency_penalty ?? 0,
  };
  const check = (name: string, value: number, ok: boolean) => {
    if (!Number.isFinite(value) || !ok) throw new InvalidRequestError(`Option ${name} is ${value}, out of range`);
  };
  check('temperature', params.temperature, params.temperature >= 0);
  check('top_k', params.topK, Number.isInteger(params.topK) && params.topK >= 0);
  check('top_p', params.topP, params.topP > 0 && params.topP <= 1);
  check('repetition_penalty', params.repetitionPenalty, params.repetitionPenalty > 0);
  check('presence_penalty', params.presencePenalty, true);
  check('frequency_penalty', params.frequencyPenalty, true);
  if (options.max_tokens !== undefined) check('max_tokens', options.max_tokens, Number.isInteger(options.max_tokens) && options.max_tokens > 0);
  return params;
}
