// Matrix-vector product for decode: y[t, y_offset + n] (+)= sum_k x[t, k] * W[n, k], W in any
// weight format (the w_unit prelude decodes 32-value units; see src/gpu/shader-preludes.ts).
// Reference: src/reference matmul over decodeRows(W). Variants (consts):
//   NORM = 1: x is the raw residual stream; the kernel applies RMSNorm on the fly,
//             y = (sum_k x_k g_k W[n, k]) * rsqrt(mean(x^2) + eps), g = norm_w (stored as 1 + w).
//   GLU = 1:  rows come in (gate, up) pairs; y[t, y_offset + i] = silu(gate_i . x) * (up_i . x).
//   ACCUMULATE = 1: add into y (the residual stream) instead of overwriting it.
// Dispatch: grid(ceil(outputs / (WG / LANES)), T). LANES consecutive invocations share one output
// (one row, or a gate/up pair), each streaming every LANES-th 16-byte unit of the row, and combine
// their partial sums with lib/lane_sum (subgroup shuffles, or workgroup memory without subgroups).
//
// Versions, measured on SwiftShader (2 cores) with an 8224 x 1024 f16 matrix (16.8 MB):
//   v1 32 lanes per row, one f16 pair per lane per step, a 5-step workgroup-memory tree per
//      row in 256-lane workgroups: 650 ms. SwiftShader runs workgroups that contain barriers as
//      coroutines; with 256 lanes the barriers alone cost ~1.4 ms per workgroup.
//   v2 4 lanes per row, one vec4<u32> (8 halves) per lane per step, subgroupAdd: 58 ms
//      (8 lanes + one barrier to combine subgroups: 237 ms; 16: 308; 32: 438).
//   v3 (this) as v2 with 32-value units decoded by the format prelude, shuffle reduction, NORM/GLU
//      fused: f16 ~60 ms. One row per thread (no reduction, 63 ms), 2 or 4 rows per lane group
//      sharing the x loads (52-63 ms) and bf16-style decoding (shift instead of unpack2x16float,
//      ~25 % faster) were tried; noise on the shared machine (±30 %) hid any gain but bf16's.
//      The copy kernel reads+writes the same bytes in 29 ms: SwiftShader is bound by the decode
//      arithmetic, not by memory, so q4 is no faster per weight than f16 there.

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

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let group = (wid.x + wid.y * nwg.x) * GROUPS + lid / LANES;
  let t = wid.z;
  let outputs = select(params.N, params.N / 2u, GLU == 1u);
  // Groups past the end compute a valid row and skip the store: lane_sum needs every lane.
  let n0 = select(1u, 2u, GLU == 1u) * min(group, outputs - 1u);
  let x_row = params.x_offset + t * params.x_stride;
  var acc0 = 0.0;
  var acc1 = 0.0;
  var sq = 0.0;
  for (var u = lane; u < params.units; u += LANES) {
    var xu = x_unit(x_row, u * 32u);
    if (NORM == 1u) {
      sq += sum_sq(xu, u * 32u);
      xu = scaled(xu, u * 32u);
    }
    acc0 += unit_dot(w_unit(n0 * params.row_vecs + u * UNIT_WORDS, n0 * params.scale_words, u), xu);
    if (GLU == 1u) {
      let n1 = n0 + 1u;
      acc1 += unit_dot(w_unit(n1 * params.row_vecs + u * UNIT_WORDS, n1 * params.scale_words, u), xu);
    }
  }
  acc0 = lane_sum(acc0, lid);
  if (GLU == 1u) { acc1 = lane_sum(acc1, lid); }
  if (NORM == 1u) {
    let inv_rms = inverseSqrt(lane_sum(sq, lid) / f32(params.K) + params.eps);
    acc0 *= inv_rms;
    acc1 *= inv_rms;
  }
  if (lane == 0u && group < outputs) {
    let v = select(acc0, silu(acc0) * acc1, GLU == 1u);
    let o = t * params.y_stride + params.y_offset + group;
    if (ACCUMULATE == 1u) { y[o] += v; } else { y[o] = v; }
  }
}
