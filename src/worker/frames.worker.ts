// Video frames resized to the processor's size off the page's main thread: the page seeks its
// <video> and hands each frame over as an ImageBitmap (transferred); the RGB comes back transferred.
import * as Comlink from 'comlink';
import type { Resample } from '../vision/processor-config.ts';
import { fitFrame } from '../vision/browser-capture.ts';

const api = {
  async fit(frame: ImageBitmap, width: number, height: number, resample: Resample) {
    const rgb = await fitFrame(frame, width, height, resample);
    const data = rgb.data.byteOffset === 0 && rgb.data.byteLength === rgb.data.buffer.byteLength ? rgb.data : rgb.data.slice();
    return Comlink.transfer({ width: rgb.width, height: rgb.height, data }, [data.buffer]);
  },
};

export type FramesApi = typeof api;

Comlink.expose(api);
