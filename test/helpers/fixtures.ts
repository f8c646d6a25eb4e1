// Fixture directories read straight from disk: the reference model's weights and golden tensors.
import { readFileSync } from 'node:fs';
import { parseQwen35Config } from '../../src/loader/config.ts';
import { toF32 } from '../../src/loader/dtype.ts';
import { MemorySource } from '../../src/loader/file-source.ts';
import { readSafetensorsHeader, type SafetensorsHeader } from '../../src/loader/safetensors.ts';
import { dequantFp8 } from '../../src/reference/fp8.ts';
import { ReferenceQwen35 } from '../../src/reference/model.ts';

export const FIXTURES = new URL('../../../shared/fixtures/', import.meta.url);

/** A safetensors file read whole, its header parsed by the engine's loader. */
export async function openSafetensors(dir: URL, file: string) {
  // A plain Uint8Array, whose slice() copies (Buffer's slice is a view into the whole file).
  const bytes = new Uint8Array(readFileSync(new URL(file, dir)));
  const header: SafetensorsHeader = await readSafetensorsHeader(new MemorySource(new Map([[file, bytes]])), file);
  const raw = (name: string) => {
    const info = header.tensors.get(name);
    if (!info) throw new Error(`${file}: no tensor ${name}`);
    return { info, bytes: bytes.slice(info.begin, info.end) };
  };
  return {
    has: (name: string) => header.tensors.has(name),
    raw,
    /** Float tensors widened; block-scaled FP8 weights dequantized with `fp8Block` (the config's weight_block_size). */
    f32(name: string, fp8Block?: readonly [number, number]): Float32Array {
      const { info, bytes: b } = raw(name);
      if (info.dtype === 'F8_E4M3' && fp8Block) {
        const scale = raw(`${name}_scale_inv`);
        return dequantFp8(b, toF32(scale.bytes, scale.info.dtype as 'BF16'), info.shape[0], info.shape[1], fp8Block);
      }
      if (info.dtype !== 'F32' && info.dtype !== 'BF16') throw new Error(`${name}: dtype ${info.dtype}`);
      return toF32(b, info.dtype);
    },
    i32(name: string): Int32Array {
      const { info, bytes: b } = raw(name);
      if (info.dtype !== 'I32') throw new Error(`${name}: dtype ${info.dtype}`);
      return new Int32Array(b.buffer);
    },
  };
}

export async function loadFixture(name: string) {
  const dir = new URL(`${name}/`, FIXTURES);
  const config = parseQwen35Config(JSON.parse(readFileSync(new URL('config.json', dir), 'utf8')));
  const weights = await openSafetensors(dir, 'model.safetensors');
  const reference = await openSafetensors(dir, 'reference.safetensors');
  const block = config.quantization?.blockSize;
  return { config, reference, create: () => new ReferenceQwen35(config, (n) => weights.f32(n, block)) };
}

