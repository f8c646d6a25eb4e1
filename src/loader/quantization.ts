import type { Fields } from './config.ts';
import { UnsupportedModelError } from './errors.ts';

/**
 * config.json → quantization_config, as the official `-FP8` releases write it (transformers'
 * FineGrainedFP8 integration): `{"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [bn, bk],
 * "modules_to_not_convert": [...], "activation_scheme": "dynamic"}`. Which tensors are quantized is
 * read from the checkpoint header (src/loader/fp8.ts); this says how to dequantize them.
 */
export interface Fp8Quantization {
  method: 'fp8';
  /** [output features (rows), input features (columns)] covered by one weight_scale_inv entry. */
  blockSize: [number, number];
  /** Module names the checkpoint keeps unquantized; a quantized tensor under one of them is a contradiction. */
  modulesToNotConvert: string[];
}

/** transformers' FineGrainedFP8Config default block. */
const DEFAULT_BLOCK: [number, number] = [128, 128];

export function parseQuantization(top: Fields): Fp8Quantization | null {
  const q = top.object('quantization_config');
  if (!q) return null;
  const method = q.raw('quant_method');
  if (method !== 'fp8') {
    throw new UnsupportedModelError(`quantization_config.quant_method ${JSON.stringify(method)} is not supported (only the fine-grained "fp8" of the official -FP8 releases)`);
  }
  const fmt = q.raw('fmt');
  if (fmt !== undefined && fmt !== 'e4m3') throw new UnsupportedModelError(`quantization_config.fmt ${JSON.stringify(fmt)} is not supported (only "e4m3")`);

  let blockSize = DEFAULT_BLOCK;
  if (q.has('weight_block_size')) {
    const block = q.raw('weight_block_size');
    if (!Array.isArray(block) || block.length !== 2 || !block.every((n) => Number.isSafeInteger(n) && n > 0)) {
      throw q.error('weight_block_size', `is ${JSON.stringify(block)}; expected [rows, columns], two positive integers`);
    }
    blockSize = block as [number, number];
  }

  const modules = q.has('modules_to_not_convert') ? q.raw('modules_to_not_convert') : [];
  if (!Array.isArray(modules) || !modules.every((m) => typeof m === 'string')) {
    throw q.error('modules_to_not_convert', `must be a list of module names (got ${JSON.stringify(modules)})`);
  }
  return { method: 'fp8', blockSize, modulesToNotConvert: modules as string[] };
}
