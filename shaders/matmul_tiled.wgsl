// Matrix product for prefill on GPUs: y[t, y_offset + n] (+)= sum_k x[t, k] W[n, k], tiled
// through workgroup memory. Reference: src/reference matmul over decodeRows(W). Same weight
// formats and NORM / GLU / ACCUMULATE variants as matmul_gemv.wgsl.
// Dispatch: (ceil(N / 64), ceil(T / 32)); 128 lanes (16 x 8), each computing 4 tokens x 4 rows of a
// 32 x 64 output tile. K advances one 32-value unit at a time: 64 lanes decode one weight row's
// unit each into the [k][row] tile, all lanes stage the x tile (4.1 KiB + 8.2 KiB in all).
// The tile holds f32: the f16-arithmetic variant only changes how units are decoded.
// On CPU adapters (SwiftShader) barriers are so costly that matmul_tiled_direct.wgsl wins; this
// kernel is unmeasured on a GPU here (no GPU on this machine) and checked for correctness only.
// v1 of this kernel: 16 x 16 lanes, 2 x 4 outputs each, f16 pairs only.

const TM: u32 = 32u;   // tokens per tile
const TN: u32 = 64u;   // weight rows per tile
const TK: u32 = 32u;   // one unit of K per step
const LANES_X: u32 = 16u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T, x_stride] from x_offset
@group(0) @binding(2) var<storage, read> w: array<WWord>;            // [N, row_vecs]
@group(0) @binding(3) var<storage, read> scales: array<u32>;         // [N, scale_words] f16 pairs (q8/q4)
@group(0) @binding(4) var<storage, read> norm_w: array<f32>;         // [K] (NORM = 1)
@group(0) @binding(5) var<storage, read_write> y: array<f32>;        // [T, y_stride]

// #include "lib/activations.wgsl"
// #include "lib/x_unit.wgsl"
// #include "lib/x_norm.wgsl"
// #include "lib/matmul_store.wgsl"

var<workgroup> xs: array<f32, TM * TK>;      // [token][k]
var<workgroup> ws: array<f32, TK * TN>;      // [k][row], so the inner loop reads 4 rows as one vec4
var<workgroup> sq_parts: array<f32, 128>;    // NORM: 4 partial sums of x^2 per token
var<workgroup> inv_rms: array<f32, TM>;

fn put_w(j: u32, v: vec4<F>, s: F, r: u32) {
  let c = vec4<f32>(v * s);
  ws[(4u * j) * TN + r] = c.x;
  ws[(4u * j + 1u) * TN + r] = c.y;
  ws[(4u * j + 2u) * TN + r] = c.z;
  ws[(4u * j + 3u) * TN + r] = c.w;
}

fn put_x(at: u32, v: vec4<f32>) {
  xs[at] = v.x; xs[at + 1u] = v.y; xs[at + 2u] = v.z; xs[at + 3u] = v.w;
}

fn ws4(k: u32, r: u32) -> vec4<f32> {
  return vec4<f32>(ws[k * TN + r], ws[k * TN + r + 1u], ws[k * TN + r + 2u], ws[k * TN + r + 3u]);
}

@compute @workgroup_size(16, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * TN;
  let t0 = wid.y * TM;
  // This lane stages 8 x values of one token per step (the same token and columns every step).
  let lt = lid / 4u;
  let kq = (lid % 4u) * 8u;
  let x_row = params.x_offset + min(t0 + lt, params.T - 1u) * params.x_stride;
  let wn = min(n0 + lid, params.N - 1u);
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  var sq = 0.0;
  for (var u = 0u; u < params.units; u++) {
    let k = u * TK + kq;
    var xa = x4(x_row, k);
    var xb = x4(x_row, k + 4u);
    if (NORM == 1u) {
      sq += sq4(xa, k) + sq4(xb, k + 4u);
      xa *= g4(k);
      xb *= g4(k + 4u);
    }
    put_x(lt * TK + kq, xa);
    put_x(lt * TK + kq + 4u, xb);
    if (lid < TN) {
      let wu = w_unit(wn * params.row_vecs + u * UNIT_WORDS, wn * params.scale_words, u);
      put_w(0u, wu.c0, wu.scale, lid); put_w(1u, wu.c1, wu.scale, lid); put_w(2u, wu.c2, wu.scale, lid); put_w(3u, wu.c3, wu.scale, lid);
      put_w(4u, wu.c4, wu.scale, lid); put_w(5u, wu.c5, wu.scale, lid); put_w(6u, wu.c6, wu.scale, lid); put_w(7u, wu.c7, wu.scale, lid);
    }
    workgroupBarrier();
    let xt = lid3.y * 4u * TK;
    for (var kk = 0u; kk < TK; kk++) {
      let b = ws4(kk, lid3.x * 4u);
      acc0 += xs[xt + kk] * b;
      acc1 += xs[xt + TK + kk] * b;
      acc2 += xs[xt + 2u * TK + kk] * b;
      acc3 += xs[xt + 3u * TK + kk] * b;
    }
    workgroupBarrier();
  }
  if (NORM == 1u) {
    sq_parts[lid] = sq;
    workgroupBarrier();
    if (lid < TM) {
      let total = sq_parts[4u * lid] + sq_parts[4u * lid + 1u] + sq_parts[4u * lid + 2u] + sq_parts[4u * lid + 3u];
      inv_rms[lid] = norm_scale(total);
    }
    workgroupBarrier();
  }
  let q = wid.x * LANES_X + lid3.x;
  let lt0 = lid3.y * 4u;
  let scale0 = select(1.0, inv_rms[lt0], NORM == 1u);
  let scale1 = select(1.0, inv_rms[lt0 + 1u], NORM == 1u);
  let scale2 = select(1.0, inv_rms[lt0 + 2u], NORM == 1u);
  let scale3 = select(1.0, inv_rms[lt0 + 3u], NORM == 1u);
  store_quad(t0 + lt0, q, acc0, scale0);
  store_quad(t0 + lt0 + 1u, q, acc1, scale1);
  store_quad(t0 + lt0 + 2u, q, acc2, scale2);
  store_quad(t0 + lt0 + 3u, q, acc3, scale3);
}
