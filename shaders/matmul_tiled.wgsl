// Tiled matrix product for prefill: y[t, y_offset + n] (+)= sum_k x[t, k] * W[n, k]
// Reference: src/reference matmul. Same weight layout as matmul_gemv (K2 pairs per row).
// Dispatch: (ceil(N / 64), ceil(T / 32)); 16x16 lanes, each computing 2 tokens x 4 rows of a
// 32x64 output tile, stepping through K in slices of 32 staged in workgroup memory (12 KiB).
// ACCUMULATE = 1 adds into y (the residual stream), 0 overwrites it.

const TM: u32 = 32u;   // tokens per tile
const TN: u32 = 64u;   // weight rows per tile
const TK: u32 = 32u;   // K values per slice (16 pairs)

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T, x_stride] from x_offset
@group(0) @binding(2) var<storage, read> w: array<WPair>;            // [N, K2]
@group(0) @binding(3) var<storage, read_write> y: array<f32>;        // [T, y_stride]

var<workgroup> xs: array<f32, TM * TK>;   // [token][k]
var<workgroup> ws: array<f32, TK * TN>;   // [k][row], transposed so the inner loop reads rows contiguously

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * TN;
  let t0 = wid.y * TM;
  var acc: array<array<f32, 4>, 2>;
  for (var k0 = 0u; k0 < params.K; k0 += TK) {
    // x slice: 32 tokens x 32 k, 4 values per lane.
    for (var i = lid; i < TM * TK; i += 256u) {
      let t = t0 + i / TK;
      let k = k0 + i % TK;
      xs[i] = select(0.0, x[params.x_offset + t * params.x_stride + k], t < params.T && k < params.K);
    }
    // W slice: 64 rows x 16 pairs, 4 pairs per lane.
    for (var i = lid; i < TN * (TK / 2u); i += 256u) {
      let r = i / (TK / 2u);
      let p = i % (TK / 2u);
      let n = n0 + r;
      let pair = k0 / 2u + p;
      var v = vec2<f32>(0.0);
      if (n < params.N && pair < params.K2) { v = w_pair(w[n * params.K2 + pair]); }
      ws[(2u * p) * TN + r] = v.x;
      ws[(2u * p + 1u) * TN + r] = v.y;
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let a0 = xs[(lid3.y * 2u) * TK + k];
      let a1 = xs[(lid3.y * 2u + 1u) * TK + k];
      for (var j = 0u; j < 4u; j++) {
        let b = ws[k * TN + lid3.x * 4u + j];
        acc[0][j] += a0 * b;
        acc[1][j] += a1 * b;
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 2u; i++) {
    let t = t0 + lid3.y * 2u + i;
    if (t >= params.T) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid3.x * 4u + j;
      if (n >= params.N) { continue; }
      let out = t * params.y_stride + params.y_offset + n;
      if (ACCUMULATE == 1u) { y[out] += acc[i][j]; } else { y[out] = acc[i][j]; }
    }
  }
}
