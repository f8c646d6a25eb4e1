// Block-wise FP8 → the engine's weight storage, at load: w[i, j] = e4m3(fp8[i, j]) ×
// scale[⌊i/bn⌋, ⌊j/bk⌋] (transformers' Fp8Dequantize; reference: src/reference dequantFp8). The
// product of a 4-bit e4m3 significand and a bf16 scale is exact in f32; f16 storage then rounds it
// to nearest-even here, in integer arithmetic, so the GPU stores exactly what toHalfPacked would.
// Input: a chunk of whole rows of raw e4m3 bytes, four per u32 word, little-endian.
// Specialised on PAIR_WORDS: 1 = an f16 pair packed in one u32 (low half = even column),
// 2 = an f32 pair as two u32 bit patterns. An odd row's last pair is padded with +0; the pairs
// past K2 up to row_pairs (the stored row's zero padding) are left as they are.
// Dispatch: grid(ceil(rows * K2 / WG)); one lane per output pair.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> fp8: array<u32>;        // [chunk rows, cols] bytes, padded to whole words
@group(0) @binding(2) var<storage, read> scale: array<f32>;      // [ceil(tensor rows / bn), scale_cols]
@group(0) @binding(3) var<storage, read_write> out: array<u32>;  // [part rows, row_pairs * PAIR_WORDS] one matrix part

// float8_e4m3fn (bias 7): exponent 0 is subnormal, m · 2^-9; otherwise the f32 with exponent
// e - 7 and the 3 mantissa bits on top, built bit by bit (exact). NaN (S.1111.111) is rejected on
// the CPU before upload; there are no infinities.
fn e4m3(byte: u32) -> f32 {
  let e = (byte >> 3u) & 15u;
  let m = byte & 7u;
  let normal = bitcast<f32>(((e + 120u) << 23u) | (m << 20u));
  let magnitude = select(normal, f32(m) * 0.001953125, e == 0u);
  return select(magnitude, -magnitude, (byte & 0x80u) != 0u);
}

// value >> s rounded to nearest, ties to even.
fn round_shift(value: u32, s: u32) -> u32 {
  let kept = value >> s;
  let dropped = value & ((1u << s) - 1u);
  let halfway = 1u << (s - 1u);
  return select(kept, kept + 1u, dropped > halfway || (dropped == halfway && (kept & 1u) == 1u));
}

// Nearest binary16 of a finite f32 as its bit pattern (overflow → ±Inf), as src/loader/dtype.ts.
fn f16_bits(x: f32) -> u32 {
  let u = bitcast<u32>(x);
  let sign = (u >> 16u) & 0x8000u;
  let e = i32((u >> 23u) & 0xffu) - 112;
  let mantissa = u & 0x7fffffu;
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    return sign | round_shift(mantissa | 0x800000u, u32(14 - e));
  }
  // A carry out of the mantissa correctly bumps the exponent.
  return sign | round_shift((u32(e) << 23u) | mantissa, 13u);
}

fn weight(r: u32, c: u32) -> f32 {
  if (c >= params.cols) { return 0.0; }
  let index = (params.src_row + r) * params.cols + c;
  let byte = (fp8[index >> 2u] >> ((index & 3u) * 8u)) & 0xffu;
  let tensor_row = params.tensor_row + params.src_row + r;
  return e4m3(byte) * scale[(tensor_row / params.bn) * params.scale_cols + c / params.bk];
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = gid.x + gid.y * nwg.x * WG;
  if (g >= params.rows * params.K2) { return; }
  let r = g / params.K2;
  let p = g % params.K2;
  let lo = weight(r, 2u * p);
  let hi = weight(r, 2u * p + 1u);
  let dst = ((params.dst_row + r * params.dst_step) * params.row_pairs + p) * PAIR_WORDS;
  if (PAIR_WORDS == 1u) {
    out[dst] = f16_bits(lo) | (f16_bits(hi) << 16u);
  } else {
    out[dst] = bitcast<u32>(lo);
    out[dst + 1u] = bitcast<u32>(hi);
  }
}
