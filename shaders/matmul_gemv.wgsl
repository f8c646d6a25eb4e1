// Matrix-vector product for decode: y[t, y_offset + n] (+)= sum_k x[t, k] * W[n, k], W in any
// weight format (the w_unit prelude decodes 32-value units; see src/gpu/shader-preludes.ts).
// Reference: src/reference matmul over decodeRows(W). Variants (consts):
//   NORM = 1: x is the raw residual stream; the kernel applies RMSNorm on the fly,
//             y = (sum_k x_k g_k W[n, k]) * rsqrt(mean(x^2) + eps), g = norm_w (stored as 1 + w).
//   GLU = 1:  rows come in (gate, up) pairs; y[t, y_offset + i] = silu(gate_i . x) * (up_i . x).
//   ACCUMULATE = 1: add into y (the residual stream) instead of overwriting it.
// Dispatch: (grid(ceil(N / ROWS / (WG / LANES))), T). LANES consecutive invocations share ROWS
// consecutive rows (ROWS / 2 gate/up pairs with GLU), each streaming every LANES-th 16-byte unit
// of the rows: a unit of x is loaded once and serves all ROWS rows. Partial sums are combined with
// lib/lane_sum (subgroup shuffles, or workgroup memory without subgroups).
//
// Versions, measured on SwiftShader (2 cores) with an 8224 x 1024 f16 matrix (16.8 MB):
//   v1 32 lanes per row, one f16 pair per lane per step, a 5-step workgroup-memory tree per
//      row in 256-lane workgroups: 650 ms. SwiftShader runs workgroups that contain barriers as
//      coroutines; with 256 lanes the barriers alone cost ~1.4 ms per workgroup.
//   v2 4 lanes per row, one vec4<u32> (8 halves) per lane per step, subgroupAdd: 58 ms
//      (8 lanes + one barrier to combine subgroups: 237 ms; 16: 308; 32: 438).
//   v3 as v2 with 32-value units decoded by the format prelude, shuffle reduction, NORM/GLU fused.
//      Every format then ran at the same ~8 ns per weight (f32: 0.12 GB/cpu-s, q4: 0.03): the cost
//      was not decoding but loading x, 32 floats per unit for 4 (q4) to 16 (f16) bytes of weights.
//   v4 ROWS rows per lane group share each x unit. 32768 x 1024, CPU-ms per pass:
//      f16 ROWS 1/2/4/8/16: 767/553/436/271/245; q4: 692/436/240/226/198 (32: 150). ROWS is 16 on
//      CPU adapters and 2 on GPUs, where x comes from cache and the lanes are better spent on rows.
//      Also tried: one row per thread (no reduction): 10 % faster at ROWS 1, 20 % slower at 8;
//      x as vec4 loads: no change; bf16-style decode (a shift instead of unpack2x16float): ~25 %
//      faster f16, but not the f16 format the checkpoints and tests use.
//   v5 (this) w_dot streams each unit a vec4 at a time (SwiftShader spilled the decoded unit), and
//      CPU adapters decode q8/q4 without vector shifts (shader-preludes.ts). 16384 x 1024, best
//      of 20: q4 43-52 -> 19-25 ms, f16 49-60 -> 38-54 ms. Rows unrolled by 4: 1.4-1.9x slower.

const GROUPS: u32 = WG / LANES;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T, x_stride] from x_offset
@group(0) @binding(2) var<storage, read> w: array<WWord>;            // [N, row_vecs]
@group(0) @binding(3) var<storage, read> scales: array<u32>;         // [N, scale_words] f16 pairs (q8/q4)
@group(0) @binding(4) var<storage, read> norm_w: array<f32>;         // [K] (NORM = 1)
@group(0) @binding(5) var<storage, read_write> y: array<f32>;        // [T, y_stride]

// #include "lib/lane_sum.wgsl"
// #include "lib/activations.wgsl"
// #include "lib/x_unit.wgsl"
// #include "lib/x_norm.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let group = (wid.x + wid.y * nwg.x) * GROUPS + lid / LANES;
  let t = wid.z;
  let x_row = params.x_offset + t * params.x_stride;
  var acc: array<f32, ROWS>;
  var sq = 0.0;
  for (var u = lane; u < params.units; u += LANES) {
    var xu = x_unit(x_row, u * 32u);
    if (NORM == 1u) {
      sq += sum_sq(xu, u * 32u);
      xu = scaled(xu, u * 32u);
    }
    for (var r = 0u; r < ROWS; r++) {
      // Rows past the end repeat the last one and are not stored: lane_sum needs every lane.
      let n = min(group * ROWS + r, params.N - 1u);
      acc[r] += w_dot(n * params.row_vecs + u * UNIT_WORDS, n * params.scale_words, u, xu);
    }
  }
  var inv_rms = 1.0;
  if (NORM == 1u) { inv_rms = inverseSqrt(lane_sum(sq, lid) / f32(params.K) + params.eps); }
  let step = select(1u, 2u, GLU == 1u);
  for (var r = 0u; r < ROWS; r += step) {
    var v = lane_sum(acc[r], lid) * inv_rms;
    var column = group * ROWS + r;
    if (GLU == 1u) {
      v = silu(v) * lane_sum(acc[r + 1u], lid) * inv_rms;
      column = column / 2u;
    }
    if (lane == 0u && group * ROWS + r < params.N) {
      let o = t * params.y_stride + params.y_offset + column;
      if (ACCUMULATE == 1u) { y[o] += v; } else { y[o] = v; }
    }
  }
}
