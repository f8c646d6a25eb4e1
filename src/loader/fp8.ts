import type { Checkpoint } from './checkpoint.ts';
import { CheckpointError, ConfigError } from './errors.ts';
import type { Fp8Quantization } from './quantization.ts';
import { formatShape, type TensorInfo } from './safetensors.ts';

/**
 * Which checkpoint tensors are block-wise FP8, decided from the header as the official -FP8
 * releases lay them out: `<module>.weight` is F8_E4M3 [out, in] and `<module>.weight_scale_inv`
 * beside it holds one scale per [bn, bk] block, [⌈out/bn⌉, ⌈in/bk⌉] (BF16 in Qwen's releases, F32
 * in DeepSeek-style ones). Everything else is a plain float tensor.
 */
export interface Fp8Tensor {
  weight: TensorInfo;
  scale: TensorInfo;
  block: [number, number];
}

export const FP8_DTYPE = 'F8_E4M3';
const SCALE_DTYPES = ['BF16', 'F16', 'F32'];

export function scaleNameOf(weightName: string): string {
  return `${weightName}_scale_inv`;
}

/** The FP8 view of a tensor, or null for a plain one; any inconsistency is a typed error. */
export function fp8TensorOf(checkpoint: Checkpoint, name: string, quantization: Fp8Quantization | null): Fp8Tensor | null {
  const weight = checkpoint.get(name);
  if (weight.dtype !== FP8_DTYPE) return null;
  const scaleName = scaleNameOf(name);
  if (!checkpoint.has(scaleName)) {
    throw new CheckpointError(weight.file, `${name} is ${FP8_DTYPE} but has no ${scaleName} beside it; only block-scaled FP8 checkpoints are supported`);
  }
  if (!quantization) throw new ConfigError('config.json', `the checkpoint holds FP8 weights (${name}) but config.json has no quantization_config to say their block size`);
  const module = name.replace(/\.weight$/, '');
  const excluded = quantization.modulesToNotConvert.find((m) => module === m || module.startsWith(`${m}.`));
  if (excluded) throw new ConfigError('config.json', `quantization_config.modules_to_not_convert lists ${excluded}, but ${name} is stored as ${FP8_DTYPE}`);

  const scale = checkpoint.get(scaleName);
  const [bn, bk] = quantization.blockSize;
  if (weight.shape.length !== 2) throw new CheckpointError(weight.file, `${name} is FP8 with shape ${formatShape(weight.shape)}; block scales need a 2-D [out, in] weight`);
  const expected = [Math.ceil(weight.shape[0] / bn), Math.ceil(weight.shape[1] / bk)];
  if (scale.shape.length !== 2 || scale.shape[0] !== expected[0] || scale.shape[1] !== expected[1]) {
    throw new CheckpointError(scale.file, `shape/size mismatch: ${scaleName} is ${formatShape(scale.shape)} but ${formatShape(weight.shape)} in ${bn}×${bk} blocks needs ${formatShape(expected)}`);
  }
  if (!SCALE_DTYPES.includes(scale.dtype)) throw new CheckpointError(scale.file, `${scaleName} has dtype ${scale.dtype}; expected ${SCALE_DTYPES.join(', ')}`);
  return { weight, scale, block: [bn, bk] };
}

/** e4m3 NaN (S.1111.111) never occurs in a valid checkpoint; the GPU decoder does not handle it. */
export function checkNoFp8NaN(name: string, file: string, bytes: Uint8Array, firstRow: number, cols: number): void {
  for (const nan of [0x7f, 0xff]) {
    const at = bytes.indexOf(nan);
    if (at >= 0) throw new CheckpointError(file, `${name} holds an FP8 NaN at row ${firstRow + Math.floor(at / cols)}, column ${at % cols}`);
  }
}

/** Every e4m3 byte's value (NaN codes read as NaN; callers reject them first). */
const E4M3 = Float32Array.from({ length: 256 }, (_, byte) => {
  const e = (byte >> 3) & 15;
  const m = byte & 7;
  if (e === 15 && m === 7) return NaN;
  const magnitude = e === 0 ? m / 512 : (1 + m / 8) * 2 ** (e - 7);
  return byte & 0x80 ? -magnitude : magnitude;
});

/**
 * Rows rowStart.. of an FP8 tensor as float32: value × its block's scale (the product of a 4-bit
 * significand and a bf16/f16 scale is exact in f32). `scale` is the tensor's whole scale grid.
 */
export function fp8RowsToF32(t: Fp8Tensor, scale: Float32Array, bytes: Uint8Array, rowStart: number, rows: number): Float32Array {
  const cols = t.weight.shape[1];
  const [bn, bk] = t.block;
  const scaleCols = Math.ceil(cols / bk);
  if (bytes.length !== rows * cols) throw new Error(`${t.weight.name}: ${bytes.length} bytes are not ${rows} rows of ${cols}`);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const scaleRow = Math.floor((rowStart + r) / bn) * scaleCols;
    for (let j = 0; j < cols; j++) out[r * cols + j] = E4M3[bytes[r * cols + j]] * scale[scaleRow + Math.floor(j / bk)];
  }
  return out;
}
