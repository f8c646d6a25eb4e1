import { QwenError } from '../loader/errors.ts';

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
