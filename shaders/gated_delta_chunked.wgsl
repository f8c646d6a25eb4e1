// Gated DeltaNet, chunked form for prefill: the same result as gated_delta_rule.wgsl, computed
// CHUNK tokens at a time (the WY form of transformers' torch_chunk_gated_delta_rule). Within a
// chunk with cumulative log-decay G (G_i = g_0 + ... + g_i) and S the state entering the chunk:
//   A[i,m] = beta_i (k_i . k_m) exp(G_i - G_m)   (m < i)       P[i,m] = (q_i . k_m) exp(G_i - G_m)   (m <= i)
//   V'_i   = beta_i (v_i - exp(G_i) k_i S) - sum_{m<i} A[i,m] V'_m      (forward substitution)
//   o_i    = exp(G_i) q_i S + sum_{m<=i} P[i,m] V'_m
//   S      = exp(G_last) S + sum_i exp(G_last - G_i) k_i^T V'_i
// The chunk's pairwise products are computed once by the whole workgroup instead of token by token.
// Reference: src/reference gatedDeltaRuleChunked. Dispatch: nv workgroups of WG >= dv lanes;
// lane j owns state column S[:, j] and V'[:, j]. CHUNK is the largest of 64/32/16/8 whose staging
// (q and k rows, A and P) fits the adapter's workgroup memory.
// #include "lib/activations.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> conv: array<f32>;            // [T, conv_dim]: q [nk*DK] | k [nk*DK] | v [nv*dv]
@group(0) @binding(2) var<storage, read> proj: array<f32>;            // [T, proj_stride]; a at a_offset + h, b at b_offset + h
@group(0) @binding(3) var<storage, read> a_log: array<f32>;           // [nv]
@group(0) @binding(4) var<storage, read> dt_bias: array<f32>;         // [nv]
@group(0) @binding(5) var<storage, read_write> state: array<f32>;     // [nv, DK, dv]
@group(0) @binding(6) var<storage, read_write> out: array<f32>;       // [T, nv, dv]

var<workgroup> q_rows: array<f32, CHUNK * DK>;   // normalised, scaled q of the chunk
var<workgroup> k_rows: array<f32, CHUNK * DK>;   // normalised k
var<workgroup> a_mat: array<f32, CHUNK * CHUNK>;
var<workgroup> p_mat: array<f32, CHUNK * CHUNK>;
var<workgroup> cum_g: array<f32, CHUNK>;
var<workgroup> betas: array<f32, CHUNK>;
var<workgroup> q_scales: array<f32, CHUNK>;
var<workgroup> k_scales: array<f32, CHUNK>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let j = lid;
  let in_range = j < params.dv;
  let key_head = h / (params.nv / params.nk);
  let conv_dim = 2u * params.nk * DK + params.nv * params.dv;
  let neg_a = -exp(a_log[h]);
  let bias = dt_bias[h];

  var s: array<f32, DK>;
  if (in_range) {
    for (var i = 0u; i < DK; i++) { s[i] = state[(h * DK + i) * params.dv + j]; }
  }
  for (var t0 = 0u; t0 < params.T; t0 += CHUNK) {
    let n = min(CHUNK, params.T - t0);
    for (var e = lid; e < n * DK; e += WG) {
      let row = (t0 + e / DK) * conv_dim + key_head * DK + e % DK;
      q_rows[e] = conv[row];
      k_rows[e] = conv[row + params.nk * DK];
    }
    workgroupBarrier();
    // Per-token l2 norms and gates, one lane per token.
    for (var r = lid; r < n; r += WG) {
      var q_sq = 0.0;
      var k_sq = 0.0;
      for (var i = 0u; i < DK; i++) {
        q_sq += q_rows[r * DK + i] * q_rows[r * DK + i];
        k_sq += k_rows[r * DK + i] * k_rows[r * DK + i];
      }
      q_scales[r] = inverseSqrt(q_sq + 1e-6) * inverseSqrt(f32(DK));
      k_scales[r] = inverseSqrt(k_sq + 1e-6);
      let p = (t0 + r) * params.proj_stride;
      cum_g[r] = neg_a * softplus(proj[p + params.a_offset + h] + bias);
      betas[r] = sigmoid(proj[p + params.b_offset + h]);
    }
    workgroupBarrier();
    for (var e = lid; e < n * DK; e += WG) {
      q_rows[e] *= q_scales[e / DK];
      k_rows[e] *= k_scales[e / DK];
    }
    if (lid == 0u) {
      for (var r = 1u; r < n; r++) { cum_g[r] += cum_g[r - 1u]; }
    }
    workgroupBarrier();
    for (var e = lid; e < n * n; e += WG) {
      let i = e / n;
      let m = e % n;
      var kk = 0.0;
      var qk = 0.0;
      if (m <= i) {
        for (var d = 0u; d < DK; d++) {
          kk += k_rows[i * DK + d] * k_rows[m * DK + d];
          qk += q_rows[i * DK + d] * k_rows[m * DK + d];
        }
      }
      let decay = select(0.0, exp(cum_g[i] - cum_g[m]), m <= i);
      a_mat[i * CHUNK + m] = select(0.0, betas[i] * kk * decay, m < i);
      p_mat[i * CHUNK + m] = qk * decay;
    }
    workgroupBarrier();
    if (in_range) {
      var v_new: array<f32, CHUNK>;
      for (var i = 0u; i < n; i++) {
        var ks = 0.0;
        var qs = 0.0;
        for (var d = 0u; d < DK; d++) {
          ks += k_rows[i * DK + d] * s[d];
          qs += q_rows[i * DK + d] * s[d];
        }
        let v = conv[(t0 + i) * conv_dim + 2u * params.nk * DK + h * params.dv + j];
        var vi = betas[i] * (v - exp(cum_g[i]) * ks);
        for (var m = 0u; m < i; m++) { vi -= a_mat[i * CHUNK + m] * v_new[m]; }
        v_new[i] = vi;
        var o = exp(cum_g[i]) * qs;
        for (var m = 0u; m <= i; m++) { o += p_mat[i * CHUNK + m] * v_new[m]; }
        out[((t0 + i) * params.nv + h) * params.dv + j] = o;
      }
      let g_last = cum_g[n - 1u];
      for (var d = 0u; d < DK; d++) {
        var update = 0.0;
        for (var i = 0u; i < n; i++) { update += k_rows[i * DK + d] * exp(g_last - cum_g[i]) * v_new[i]; }
        s[d] = exp(g_last) * s[d] + update;
      }
    }
    workgroupBarrier();
  }
  if (in_range) {
    for (var i = 0u; i < DK; i++) { state[(h * DK + i) * params.dv + j] = s[i]; }
  }
}
