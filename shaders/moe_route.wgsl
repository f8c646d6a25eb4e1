// Sparse-MoE routing and the shared expert's gated activation, per token, from the fused projection
// row proj[t] = [router logits (E) | shared_expert_gate (1) | shared gate_proj (Is) | shared up_proj (Is)].
// Routing (Qwen3_5MoeTopKRouter): softmax over all E logits in f32, the TOPK largest probabilities
// (exact ties to the lower expert index), divided by their sum → ids[t, slot], weights[t, slot],
// most probable first. Shared expert: act[t, i] = sigmoid(gate) · silu(g_i) · u_i; the gate is
// applied before its down projection, which is linear.
// Reference: src/reference/moe.ts moeRoute and moeSharedActivation.
// Dispatch: grid(T), one workgroup per token; each of WG lanes holds experts lid, lid + WG, ...
// and top-k takes TOPK rounds of a workgroup argmax. Consts: E, TOPK, WG (a power of two).
// #include "lib/reduce.wgsl"
// #include "lib/activations.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> proj: array<f32>;              // [T, P]
@group(0) @binding(2) var<storage, read_write> ids: array<u32>;         // [T, TOPK]
@group(0) @binding(3) var<storage, read_write> weights: array<f32>;     // [T, TOPK]
@group(0) @binding(4) var<storage, read_write> shared_act: array<f32>;  // [T, Is]

var<workgroup> probs: array<f32, E>;       // chosen experts are set to -1
var<workgroup> best_p: array<f32, WG>;
var<workgroup> best_e: array<u32, WG>;
var<workgroup> chosen_e: array<u32, TOPK>;
var<workgroup> chosen_p: array<f32, TOPK>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = wid.x + wid.y * nwg.x;
  if (t >= params.T) { return; }
  let row = t * params.P;

  var local_max = -3.0e38;
  for (var e = lid; e < E; e += WG) { local_max = max(local_max, proj[row + e]); }
  let m = workgroup_max(local_max, lid);
  var local_sum = 0.0;
  for (var e = lid; e < E; e += WG) {
    let p = exp(proj[row + e] - m);
    probs[e] = p;
    local_sum += p;
  }
  let total = workgroup_sum(local_sum, lid);
  for (var e = lid; e < E; e += WG) { probs[e] = probs[e] / total; }
  workgroupBarrier();

  for (var slot = 0u; slot < TOPK; slot++) {
    // Each lane's best (its experts ascend, so a strict > keeps the lower index of a tie).
    var bp = -2.0;
    var be = E;
    for (var e = lid; e < E; e += WG) {
      let p = probs[e];
      if (p > bp) { bp = p; be = e; }
    }
    best_p[lid] = bp;
    best_e[lid] = be;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
      if (lid < s) {
        let op = best_p[lid + s];
        let oe = best_e[lid + s];
        if (op > best_p[lid] || (op == best_p[lid] && oe < best_e[lid])) {
          best_p[lid] = op;
          best_e[lid] = oe;
        }
      }
      workgroupBarrier();
    }
    if (lid == 0u) {
      chosen_e[slot] = best_e[0];
      chosen_p[slot] = best_p[0];
      probs[best_e[0]] = -1.0;
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    var picked = 0.0;
    for (var slot = 0u; slot < TOPK; slot++) { picked += chosen_p[slot]; }
    for (var slot = 0u; slot < TOPK; slot++) {
      ids[t * TOPK + slot] = chosen_e[slot];
      weights[t * TOPK + slot] = chosen_p[slot] / picked;
    }
  }

  let gate = sigmoid(proj[row + E]);
  let g0 = row + E + 1u;
  for (var i = lid; i < params.Is; i += WG) {
    shared_act[t * params.Is + i] = gate * silu(proj[g0 + i]) * proj[g0 + params.Is + i];
  }
}
