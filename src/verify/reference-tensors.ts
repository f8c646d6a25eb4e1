import { CheckpointError } from '../loader/errors.ts';
import type { FileSource } from '../loader/file-source.ts';
import { readSafetensorsHeader, type TensorInfo } from '../loader/safetensors.ts';

const REFERENCE = 'reference.safetensors';

/** A fixture's reference.safetensors: inputs and reference outputs, read tensor by tensor. */
export class ReferenceTensors {
  private constructor(
    private readonly source: FileSource,
    private readonly tensors: Map<string, TensorInfo>,
  ) {}

  static async open(source: FileSource): Promise<ReferenceTensors> {
    return new ReferenceTensors(source, (await readSafetensorsHeader(source, REFERENCE)).tensors);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  shape(name: string): number[] {
    const info = this.tensors.get(name);
    if (!info) throw new CheckpointError(REFERENCE, `missing tensor ${name}`);
    return info.shape;
  }

  async f32(name: string): Promise<Float32Array> {
    return new Float32Array(await this.bytes(name, 'F32'));
  }

  async i32(name: string): Promise<Int32Array> {
    return new Int32Array(await this.bytes(name, 'I32'));
  }

  private async bytes(name: string, dtype: string): Promise<ArrayBuffer> {
    const info = this.tensors.get(name);
    if (!info) throw new CheckpointError(REFERENCE, `missing tensor ${name}`);
    if (info.dtype !== dtype) throw new CheckpointError(REFERENCE, `${name} is ${info.dtype}, expected ${dtype}`);
    const bytes = await this.source.read(REFERENCE, info.begin, info.end);
    return bytes.slice().buffer;
  }
}
