/**
 * Checkpoint bytes → the engine's upload layouts. Inputs are raw little-endian tensor bytes, read on
 * little-endian hosts (every platform with WebGPU), so typed-array views read them directly.
 *
 * Matrices are stored as pairs: each row holds ceil(cols/2) pairs, an odd row padded with a zero, so
 * a shader reads `unpack2x16float(word)` (low half = even column) or a vec2<f32> per pair.
 */
export type FloatDtype = 'BF16' | 'F16' | 'F32';

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

export function bf16ToF32(bits: number): number {
  u32Scratch[0] = (bits & 0xffff) << 16;
  return f32Scratch[0];
}

export function f16ToF32(bits: number): number {
  u32Scratch[0] = f16BitsToF32Bits(bits & 0xffff);
  return f32Scratch[0];
}

/**
 * Nearest float16 (ties to even; overflow → ±Inf; NaN stays NaN) as its 16-bit pattern. `x` is taken
 * as a float32 (rounded to one first), the precision checkpoints and shaders hold.
 */
export function f32ToF16(x: number): number {
  f32Scratch[0] = x;
  return f32BitsToF16Bits(u32Scratch[0]);
}

function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal half: renormalise so the leading one becomes the implicit bit of a normal float32.
  let shift = 0;
  while ((mantissa << shift & 0x400) === 0) shift++;
  return (sign | ((113 - shift) << 23) | (((mantissa << shift) & 0x3ff) << 13)) >>> 0;
}

function f32BitsToF16Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exponent = (u >>> 23) & 0xff;
  const mantissa = u & 0x7fffff;
  // Keep a NaN a NaN even when its payload lives only in the bits that are dropped.
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
  const halfExponent = exponent - 112;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // below half of the smallest subnormal: rounds to zero
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    return sign | roundShift(significand, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent, up to Inf.
  return sign | roundShift((halfExponent << 23) | mantissa, 13);
}

/** value >> shift, rounded to nearest with ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const dropped = value & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  return dropped > halfway || (dropped === halfway && (kept & 1) === 1) ? kept + 1 : kept;
}

let f16ToF32Table: Uint32Array | null = null;
let bf16ToF16Table: Uint16Array | null = null;

/** Lookup tables make the bulk paths one load per value; each is built once, on first use. */
function f16Table(): Uint32Array {
  if (!f16ToF32Table) {
    f16ToF32Table = new Uint32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) f16ToF32Table[h] = f16BitsToF32Bits(h);
  }
  return f16ToF32Table;
}

function bf16Table(): Uint16Array {
  if (!bf16ToF16Table) {
    bf16ToF16Table = new Uint16Array(0x10000);
    for (let b = 0; b < 0x10000; b++) bf16ToF16Table[b] = f32BitsToF16Bits((b << 16) >>> 0);
  }
  return bf16ToF16Table;
}

/** A view of the bytes as 16- or 32-bit words; copies only when the bytes are misaligned for it. */
function wordView<T extends Uint16Array | Uint32Array>(bytes: Uint8Array, Kind: { new (b: ArrayBufferLike, offset: number, length: number): T; BYTES_PER_ELEMENT: number }): T {
  const size = Kind.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${size}-byte values`);
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return new Kind(aligned.buffer, aligned.byteOffset, aligned.byteLength / size);
}

function dtypeSize(dtype: FloatDtype): number {
  return dtype === 'F32' ? 4 : 2;
}

function checkSize(bytes: Uint8Array, dtype: FloatDtype, count: number): void {
  if (bytes.byteLength !== count * dtypeSize(dtype)) throw new RangeError(`expected ${count} ${dtype} values (${count * dtypeSize(dtype)} bytes), got ${bytes.byteLength} bytes`);
}

/**
 * Converts `rows` runs of `cols` values from `bytes` into 32-bit words of `out` (as bits), row r
 * starting at word r*outStride. Shared by the f32 layouts; works on bits so NaN payloads survive.
 */
function writeF32Rows(bytes: Uint8Array, dtype: FloatDtype, rows: number, cols: number, out: Uint32Array, outStride: number): void {
  checkSize(bytes, dtype, rows * cols);
  if (dtype === 'F32') {
    const src = wordView(bytes, Uint32Array);
    for (let r = 0; r < rows; r++) out.set(src.subarray(r * cols, (r + 1) * cols), r * outStride);
    return;
  }
  const src = wordView(bytes, Uint16Array);
  const table = dtype === 'F16' ? f16Table() : null;
  for (let r = 0; r < rows; r++) {
    const s = r * cols;
    const d = r * outStride;
    if (table) for (let c = 0; c < cols; c++) out[d + c] = table[src[s + c]];
    else for (let c = 0; c < cols; c++) out[d + c] = src[s + c] << 16;
  }
}

export function toF32(bytes: Uint8Array, dtype: FloatDtype): Float32Array {
  const count = Math.floor(bytes.byteLength / dtypeSize(dtype));
  const out = new Uint32Array(count);
  writeF32Rows(bytes, dtype, 1, count, out, count);
  return new Float32Array(out.buffer);
}

/** Row stride 2*ceil(cols/2) floats; the padding float of an odd row is zero. */
export function toF32Padded(bytes: Uint8Array, dtype: FloatDtype, rows: number, cols: number): Float32Array {
  const stride = 2 * Math.ceil(cols / 2);
  const out = new Uint32Array(rows * stride);
  writeF32Rows(bytes, dtype, rows, cols, out, stride);
  return new Float32Array(out.buffer);
}

/** Row stride ceil(cols/2) words, two float16 per word (low = even column); odd rows padded with +0. */
export function toHalfPacked(bytes: Uint8Array, dtype: FloatDtype, rows: number, cols: number): Uint32Array {
  checkSize(bytes, dtype, rows * cols);
  const stride = 2 * Math.ceil(cols / 2);
  const halves = new Uint16Array(rows * stride);
  if (dtype === 'F32') {
    const src = wordView(bytes, Uint32Array);
    for (let r = 0; r < rows; r++) {
      const s = r * cols;
      const d = r * stride;
      for (let c = 0; c < cols; c++) halves[d + c] = f32BitsToF16Bits(src[s + c]);
    }
  } else {
    const src = wordView(bytes, Uint16Array);
    const table = dtype === 'BF16' ? bf16Table() : null;
    for (let r = 0; r < rows; r++) {
      const s = r * cols;
      const d = r * stride;
      if (table) for (let c = 0; c < cols; c++) halves[d + c] = table[src[s + c]];
      else halves.set(src.subarray(s, s + cols), d);
    }
  }
  // Little-endian: half 2k lands in the low 16 bits of word k.
  return new Uint32Array(halves.buffer);
}
