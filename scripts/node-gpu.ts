// A WebGPU device in Node through Dawn (the `webgpu` package), for the CLIs and tests.
import { create, globals } from 'webgpu';
import { requestEngineDevice } from '../src/gpu/device.ts';

Object.assign(globalThis, globals);

// Dawn's GPU object must outlive every device made from it: V8 may collect a local that is no
// longer used even while the device is, and Dawn then crashes the process. Held here for good.
let dawn: GPU | null = null;

export async function nodeDevice(): Promise<GPUDevice> {
  dawn ??= create([]);
  return requestEngineDevice(await dawn.requestAdapter());
}
