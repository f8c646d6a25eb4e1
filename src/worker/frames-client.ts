import * as Comlink from 'comlink';
import type { FrameFitter } from '../vision/browser-capture.ts';
import { startWorker } from './client.ts';
import type { FramesApi } from './frames.worker.ts';
import workerUrl from './frames.worker.ts?worker&url';

/** A FrameFitter running in its own worker, so decoding a long clip never stalls the page. */
export interface FramesWorker {
  fit: FrameFitter;
  terminate(): void;
}

export function createFramesWorker(): FramesWorker {
  const worker = startWorker(new URL(workerUrl, import.meta.url), 'qwen-frames');
  const api = Comlink.wrap<FramesApi>(worker);
  return {
    fit: (frame, width, height, resample) => api.fit(Comlink.transfer(frame, [frame]), width, height, resample),
    terminate: () => worker.terminate(),
  };
}
