import { QwenError } from '../loader/errors.ts';

// Re-exported so the layers above (worker, embed) can rebuild typed errors without reaching into loader/.
export { QwenError };

/** A request arrived while another was running; requests are never interleaved. */
export class EngineBusyError extends QwenError {
  constructor(running: string) {
    super('busy', `The engine is busy with ${running}. Wait for it to finish, or call abort() first.`);
  }
}

/** chat() before load(), or after unload(). */
export class NoModelError extends QwenError {
  constructor() {
    super('no-model', 'No model is loaded. Call load() with a Hugging Face repo id or a base URL first.');
  }
}

/** Nothing answers for the model: an unknown repo id, a wrong base URL, or a repo that needs a token. */
export class ModelNotFoundError extends QwenError {
  constructor(
    readonly model: string,
    detail: string,
  ) {
    super('model-not-found', `No model found at ${model} (${detail}). Check the repo id (such as "Qwen/Qwen3.5-0.8B") or the base URL; a private or gated Hub repo also needs an access token.`);
  }
}

/** The messages or options are malformed (a programming error in the caller). */
export class InvalidRequestError extends QwenError {
  constructor(problem: string) {
    super('bad-request', `${problem}. Messages are OpenAI-shaped: { role: 'system' | 'user' | 'assistant' | 'tool', content: string | parts[] }.`);
  }
}

/** A message part the loaded model cannot read (an image for a text-only model, say). */
export class UnsupportedContentError extends QwenError {
  constructor(
    readonly partType: string,
    where: string,
    model: string,
  ) {
    const what = partType === 'image_url' ? 'an image' : partType === 'video' ? 'a video' : `a ${partType} part`;
    super('unsupported-content', `${where} is ${what}, but ${model} reads text only. Remove the attachment, or load a vision model.`);
  }
}

/**
 * The browser refused to store the download (quota exceeded, private browsing). Not thrown: the
 * model still loads and runs, and ModelInfo.cacheError carries this so the caller can say so.
 */
export class StorageError extends QwenError {
  constructor(cause: Error) {
    const quota = cause.name === 'QuotaExceededError';
    super(
      quota ? 'storage-quota' : 'storage-failed',
      quota
        ? 'The browser ran out of storage quota for this site, so the model is not fully cached: it runs now, but the next visit downloads it again and it will not work offline. Free space by deleting other cached models or site data.'
        : `The browser could not cache the model (${cause.message}), so the next visit downloads it again and it will not work offline.`,
    );
  }
}
