// Block-wise FP8 dequantization (transformers' FineGrainedFP8 / Fp8Dequantize), the reference of
// shaders/fp8_dequant.wgsl. rows/cols = the weight's [out, in]; [bn, bk] = weight_block_size.

/**
 * float8_e4m3fn: 1 sign, 4 exponent (bias 7), 3 mantissa bits; exponent 0 is subnormal (m/8 · 2^-6),
 * no infinities, S.1111.111 is NaN; the largest finite value is 448.
 */
export function decodeE4M3(byte: number): number {
  const sign = byte & 0x80 ? -1 : 1;
  const exponent = (byte >> 3) & 0xf;
  const mantissa = byte & 7;
  if (exponent === 0xf && mantissa === 7) return NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -9;
  return sign * (8 + mantissa) * 2 ** (exponent - 10);
}

/**
 * w[i, j] = fp8[i, j] × scale[⌊i/bn⌋, ⌊j/bk⌋], as float32. scale: [⌈rows/bn⌉, ⌈cols/bk⌉]. Each
 * product has at most 4 × 8 significant bits, so it is exact in float32.
 */
export function dequantFp8(fp8: Uint8Array, scale: Float32Array, rows: number, cols: number, block: readonly [number, number]): Float32Array {
  const [bn, bk] = block;
  const scaleCols = Math.ceil(cols / bk);
  if (fp8.length !== rows * cols) throw new Error(`dequantFp8: ${fp8.length} bytes for a [${rows}, ${cols}] weight`);
  if (scale.length !== Math.ceil(rows / bn) * scaleCols) throw new Error(`dequantFp8: ${scale.length} scales for [${rows}, ${cols}] in ${bn}×${bk} blocks`);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const scaleRow = Math.floor(i / bn) * scaleCols;
    for (let j = 0; j < cols; j++) out[i * cols + j] = decodeE4M3(fp8[i * cols + j]) * scale[scaleRow + Math.floor(j / bk)];
  }
  return out;
}
