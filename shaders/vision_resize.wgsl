// One separable pass of antialiased 8-bit resampling, the integer arithmetic of Pillow's
// ImagingResample and PyTorch's uint8 antialias kernel: out = clamp((2^(p-1) + sum_j in_j * w_j) >> p,
// 0, 255) with integer weights of p fractional bits, in i32 as those libraries do (the sums stay
// below 2^31). The image is `lines` lines of `out_size` steps (`in_size` before) of `inner`
// contiguous bytes: a horizontal pass has one line per row and 3-byte steps, a vertical pass one
// line per frame and row-sized steps. Taps (first input step, count, weights) come from the CPU.
// Reference: src/vision/resize.ts resizeRgb (the CPU path, checked against Pillow).
// Dispatch: grid(ceil(out_bytes / 4 / WG)), one lane per output word (4 bytes), so lanes never
// share a word.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;          // [lines, in_size, inner] bytes, 4 per word
@group(0) @binding(2) var<storage, read> tap_start: array<u32>;    // [out_size]
@group(0) @binding(3) var<storage, read> tap_count: array<u32>;    // [out_size]
@group(0) @binding(4) var<storage, read> weights: array<i32>;      // [out_size, ksize]
@group(0) @binding(5) var<storage, read_write> dst: array<u32>;    // [lines, out_size, inner] bytes, 4 per word

fn src_byte(i: u32) -> i32 {
  return i32((src[i / 4u] >> (8u * (i % 4u))) & 0xffu);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let word = gid.x + gid.y * nwg.x * WG;
  let out_line = params.out_size * params.inner;
  let total = params.lines * out_line;
  if (word * 4u >= total) { return; }
  var packed = 0u;
  for (var k = 0u; k < 4u; k++) {
    let b = word * 4u + k;
    if (b >= total) { break; }
    let line = b / out_line;
    let o = (b % out_line) / params.inner;
    let e = b % params.inner;
    let first = line * params.in_size * params.inner + tap_start[o] * params.inner + e;
    var acc = params.round;
    for (var j = 0u; j < tap_count[o]; j++) {
      acc += src_byte(first + j * params.inner) * weights[o * params.ksize + j];
    }
    packed |= u32(clamp(acc >> params.frac_bits, 0, 255)) << (8u * k);
  }
  dst[word] = packed;
}
