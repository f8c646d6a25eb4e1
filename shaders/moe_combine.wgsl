// Prefill: adds each token's routed-expert outputs into the residual stream,
// x[t, h] += sum over slots of expert_out[t·topk + slot, h] (the outputs are already weighted).
// Reference: the sum in src/reference/moe.ts moeExpertDown. Dispatch: grid(ceil(T * H / WG)).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> expert_out: array<f32>;     // [T * topk, H]
@group(0) @binding(2) var<storage, read_write> x: array<f32>;        // [T, H]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= params.T * params.H) { return; }
  let t = idx / params.H;
  let h = idx % params.H;
  var sum = 0.0;
  for (var slot = 0u; slot < params.topk; slot++) { sum += expert_out[(t * params.topk + slot) * params.H + h]; }
  x[idx] += sum;
}
