import * as Comlink from 'comlink';
import type { ChatChunk, ChatMessage, ChatOptions, ChatResult, EngineApi, EngineStats, LoadOptions, LoadProgress, ModelFit, ModelInfo } from '../api.ts';
import { keepErrorCodes } from './errors.ts';
import workerUrl from './engine.worker.ts?worker&url';

/** A chat in progress: iterate it for chunks as they are sampled; `result` resolves at the end. */
export interface ChatStream extends AsyncIterable<ChatChunk> {
  result: Promise<ChatResult>;
}

/** The engine as the page uses it, whichever side of the worker boundary it runs on. */
export interface EngineClient {
  checkFit(model: string, options?: LoadOptions): Promise<ModelFit>;
  load(model: string, options?: LoadOptions & { onProgress?: (p: LoadProgress) => void }): Promise<ModelInfo>;
  /** `transfer`: buffers in the messages (video frames) to move to the worker instead of copying; they become unusable here. */
  chat(messages: ChatMessage[], options?: ChatOptions, transfer?: Transferable[]): ChatStream;
  abort(): Promise<void>;
  unload(): Promise<void>;
  stats(): Promise<EngineStats>;
  /** Ends the worker (and the GPU device in it). */
  terminate(): void;
}

/** Starts the engine in a module worker; the main thread only passes messages. */
export function createWorkerEngine(): EngineClient {
  keepErrorCodes();
  const worker = startWorker(new URL(workerUrl, import.meta.url), 'qwen-engine');
  return wrapEngine(Comlink.wrap<EngineApi>(worker), () => worker.terminate());
}

/**
 * Browsers start workers only from the page's own origin. When this library is served from
 * elsewhere (a CDN, the embed script), a same-origin blob module imports the real worker script,
 * which then runs with the page's origin (and its Cache Storage).
 */
export function startWorker(url: URL, name: string): Worker {
  const options: WorkerOptions = { type: 'module', name };
  if (typeof location === 'undefined' || url.origin === location.origin || url.protocol === 'blob:' || url.protocol === 'data:') return new Worker(url, options);
  const trampoline = new Blob([`import ${JSON.stringify(url.href)};`], { type: 'text/javascript' });
  return new Worker(URL.createObjectURL(trampoline), options);
}

/** Adapts an EngineApi (remote or local) to the streaming client interface. */
export function wrapEngine(api: EngineApi | Comlink.Remote<EngineApi>, terminate: () => void = () => {}): EngineClient {
  // Marking callbacks for comlink is harmless when the engine is local, so always mark them.
  const callback = Comlink.proxy;
  return {
    checkFit: (model, options) => api.checkFit(model, options),
    load: (model, options = {}) => {
      const { onProgress, ...rest } = options;
      return api.load(model, rest, onProgress && callback(onProgress));
    },
    chat(messages, options = {}, transfer = []) {
      const queue: ChatChunk[] = [];
      let wake: (() => void) | null = null;
      let done = false;
      const result = api.chat(transfer.length ? Comlink.transfer(messages, transfer) : messages, options, callback((chunk: ChatChunk) => {
        queue.push(chunk);
        wake?.();
      }));
      const settle = () => {
        done = true;
        wake?.();
      };
      result.then(settle, settle);
      return {
        result,
        async *[Symbol.asyncIterator]() {
          for (;;) {
            if (queue.length) {
              yield queue.shift()!;
              continue;
            }
            if (done) {
              await result; // rethrows a failed chat to the iterating caller
              return;
            }
            await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
          }
        },
      };
    },
    abort: () => api.abort(),
    unload: () => api.unload(),
    stats: () => api.stats(),
    terminate,
  };
}
