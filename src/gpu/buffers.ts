import { ModelTooLargeError } from '../loader/errors.ts';

/**
 * Owns every GPU buffer a model makes, so a failed load or an unload frees all of them and the
 * engine can report how much GPU memory it holds.
 */
export class BufferPool {
  private readonly buffers = new Set<GPUBuffer>();
  private bytes = 0;

  constructor(readonly device: GPUDevice) {}

  get allocatedBytes(): number {
    return this.bytes;
  }

  create(label: string, size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const limit = this.device.limits.maxBufferSize;
    if (size > limit) throw new ModelTooLargeError(`Buffer '${label}' needs ${size} bytes but this GPU allows ${limit} per buffer`);
    // Zero-size bindings are invalid; 4 bytes keeps empty tensors bindable.
    const buffer = this.device.createBuffer({ label, size: Math.max(4, Math.ceil(size / 4) * 4), usage });
    this.buffers.add(buffer);
    this.bytes += buffer.size;
    return buffer;
  }

  storage(label: string, size: number, extraUsage: GPUBufferUsageFlags = 0): GPUBuffer {
    return this.create(label, size, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | extraUsage);
  }

  destroy(buffer: GPUBuffer): void {
    if (!this.buffers.delete(buffer)) return;
    this.bytes -= buffer.size;
    buffer.destroy();
  }

  destroyAll(): void {
    for (const b of this.buffers) b.destroy();
    this.buffers.clear();
    this.bytes = 0;
  }
}

/** Reads a buffer region back to the CPU (tests and debugging only: never in the decode loop). */
export async function readBuffer(device: GPUDevice, source: GPUBuffer, offset = 0, size = source.size - offset): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, offset, staging, 0, size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return staging.getMappedRange().slice(0);
  } finally {
    staging.destroy();
  }
}

export async function readF32(device: GPUDevice, source: GPUBuffer, offset = 0, count?: number): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, source, offset, count === undefined ? undefined : count * 4));
}
