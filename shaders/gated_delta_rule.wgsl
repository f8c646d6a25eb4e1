// Gated DeltaNet, recurrent form (decode, and the naive path of prefill), per value head h:
//   q, k  = l2norm(q) * DK^-0.5, l2norm(k)          (from the conv output; key head h / (nv / nk))
//   g     = -exp(A_log[h]) * softplus(a + dt_bias[h]),  beta = sigmoid(b)
//   S     = S * exp(g);  delta = (v - S^T k) * beta;  S = S + k delta^T;  o = S^T q
// Reference: src/reference gatedDeltaRuleRecurrent (+ l2NormalizeHeads, gdnGatesAndBeta).
// Dispatch: (ceil(dv / WG), nv). Invocation j of head h keeps state column S[:, j] (DK floats) in
// registers for the whole call and walks the tokens in order. State is float32 throughout.
// Columns are independent, so no invocation waits for another: each reads the whole q and k head
// (the same addresses across the workgroup, a broadcast) and computes their norms itself. Both
// norms and S^T k come out of one pass over the head, o and the update out of a second.
// v1 staged q and k in workgroup memory and reduced the norms with two barriers per token, one
// 128-lane workgroup per head: 87 ms per layer per decoded token on SwiftShader, where barriers
// are coroutine switches; this version has none.
// #include "lib/activations.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> conv: array<f32>;            // [T, conv_dim]: q [nk*DK] | k [nk*DK] | v [nv*dv]
@group(0) @binding(2) var<storage, read> proj: array<f32>;            // [T, proj_stride]; a at a_offset + h, b at b_offset + h
@group(0) @binding(3) var<storage, read> a_log: array<f32>;           // [nv]
@group(0) @binding(4) var<storage, read> dt_bias: array<f32>;         // [nv]
@group(0) @binding(5) var<storage, read_write> state: array<f32>;     // [nv, DK, dv]
@group(0) @binding(6) var<storage, read_write> out: array<f32>;       // [T, nv, dv]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let h = gid.y;
  if (j >= params.dv) { return; }
  let key_head = h / (params.nv / params.nk);
  let conv_dim = 2u * params.nk * DK + params.nv * params.dv;
  let neg_a = -exp(a_log[h]);
  let bias = dt_bias[h];

  var s: array<f32, DK>;
  for (var i = 0u; i < DK; i++) { s[i] = state[(h * DK + i) * params.dv + j]; }
  for (var t = 0u; t < params.T; t++) {
    let row = t * conv_dim;
    let q_at = row + key_head * DK;
    let k_at = row + params.nk * DK + key_head * DK;
    let a = proj[t * params.proj_stride + params.a_offset + h];
    let b = proj[t * params.proj_stride + params.b_offset + h];
    let decay = exp(neg_a * softplus(a + bias));
    let beta = sigmoid(b);
    var q_sq = 0.0;
    var k_sq = 0.0;
    var sk = 0.0;
    for (var i = 0u; i < DK; i++) {
      let qv = conv[q_at + i];
      let kv = conv[k_at + i];
      q_sq += qv * qv;
      k_sq += kv * kv;
      s[i] *= decay;
      sk += s[i] * kv;
    }
    let q_scale = inverseSqrt(q_sq + 1e-6) * inverseSqrt(f32(DK));
    let k_scale = inverseSqrt(k_sq + 1e-6);
    let v = conv[row + 2u * params.nk * DK + h * params.dv + j];
    let delta = (v - sk * k_scale) * beta;
    var o = 0.0;
    for (var i = 0u; i < DK; i++) {
      s[i] += conv[k_at + i] * k_scale * delta;
      o += s[i] * conv[q_at + i];
    }
    out[(t * params.nv + h) * params.dv + j] = o * q_scale;
  }
  for (var i = 0u; i < DK; i++) { state[(h * DK + i) * params.dv + j] = s[i]; }
}
