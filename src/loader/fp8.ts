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
