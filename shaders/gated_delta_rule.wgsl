// Gated DeltaNet, recurrent form (decode, and the naive path of prefill), per value head h:
//   q, k  = l2norm(q) * DK^-0.5, l2norm(k)          (from the conv output; key head h / (nv / nk))
//   g     = -exp(A_log[h]) * softplus(a + dt_bias[h]),  beta = sigmoid(b)
//   S     = S * exp(g);  delta = (v - S^T k) * beta;  S = S + k delta^T;  o = S^T q
// Reference: src/reference gatedDeltaRuleRecurrent (+ l2NormalizeHeads, gdnGatesAndBeta).
// Dispatch: nv workgroups of WG >= dv lanes; lane j keeps state column S[:, j] (DK floats) in
// registers for the whole call and walks the tokens in order. State is float32 throughout.
// #include "lib/reduce.wgsl"
// #include "lib/activations.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> conv: array<f32>;            // [T, conv_dim]: q [nk*DK] | k [nk*DK] | v [nv*dv]
@group(0) @binding(2) var<storage, read> proj: array<f32>;            // [T, proj_stride]; a at a_offset + h, b at b_offset + h
@group(0) @binding(3) var<storage, read> a_log: array<f32>;           // [nv]
@group(0) @binding(4) var<storage, read> dt_bias: array<f32>;         // [nv]
@group(0) @binding(5) var<storage, read_write> state: array<f32>;     // [nv, DK, dv]
@group(0) @binding(6) var<storage, read_write> out: array<f32>;       // [T, nv, dv]

var<workgroup> q_head: array<f32, DK>;
var<workgroup> k_head: array<f32, DK>;

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
  for (var t = 0u; t < params.T; t++) {
    let row = t * conv_dim;
    var q_sq = 0.0;
    var k_sq = 0.0;
    for (var i = lid; i < DK; i += WG) {
      let qv = conv[row + key_head * DK + i];
      let kv = conv[row + params.nk * DK + key_head * DK + i];
      q_head[i] = qv;
      k_head[i] = kv;
      q_sq += qv * qv;
      k_sq += kv * kv;
    }
    let q_scale = inverseSqrt(workgroup_sum(q_sq, lid) + 1e-6) * inverseSqrt(f32(DK));
    let k_scale = inverseSqrt(workgroup_sum(k_sq, lid) + 1e-6);
    let a = proj[t * params.proj_stride + params.a_offset + h];
    let b = proj[t * params.proj_stride + params.b_offset + h];
    let decay = exp(neg_a * softplus(a + bias));
    let beta = sigmoid(b);
    if (in_range) {
      let v = conv[row + 2u * params.nk * DK + h * params.dv + j];
      var kv = 0.0;
      for (var i = 0u; i < DK; i++) {
        s[i] *= decay;
        kv += s[i] * k_head[i];
      }
      let delta = (v - kv * k_scale) * beta;
      var o = 0.0;
      for (var i = 0u; i < DK; i++) {
        s[i] += k_head[i] * k_scale * delta;
        o += s[i] * q_head[i];
      }
      out[(t * params.nv + h) * params.dv + j] = o * q_scale;
    }
    workgroupBarrier();
  }
  if (in_range) {
    for (var i = 0u; i < DK; i++) { state[(h * DK + i) * params.dv + j] = s[i]; }
  }
}
