// Gated RMSNorm of the Gated DeltaNet output: y = o * rsqrt(mean(o^2) + eps) * w * silu(z),
// over each value head (plain weight, not 1 + w; norm before the gate, as Qwen3_5RMSNormGated).
// Reference: src/reference gatedRmsNorm. Dispatch: (ceil(dv / WG), grid(T * nv)); invocation d of
// a token-head writes y[d] and sums that head's squares itself (the same dv addresses across the
// workgroup): no barrier. v1 (one 64-lane workgroup per token-head, a workgroup-memory reduction)
// cost ~1 ms per decoded token and layer on SwiftShader, nearly all of it the barriers.
// #include "lib/activations.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> o: array<f32>;              // [T, nv, dv]
@group(0) @binding(2) var<storage, read> z: array<f32>;              // [T, z_stride]; head h at z_offset + h*dv
@group(0) @binding(3) var<storage, read> weight: array<f32>;         // [dv]
@group(0) @binding(4) var<storage, read_write> y: array<f32>;        // [T, nv * dv]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let d = gid.x;
  let row = wid.y + wid.z * nwg.y;   // t * nv + h
  if (d >= params.dv || row >= params.rows) { return; }
  let t = row / params.nv;
  let h = row % params.nv;
  let base = row * params.dv;
  var sum_sq = 0.0;
  for (var i = 0u; i < params.dv; i++) { sum_sq += o[base + i] * o[base + i]; }
  let inv_rms = inverseSqrt(sum_sq / f32(params.dv) + params.eps);
  y[base + d] = o[base + d] * inv_rms * weight[d] * silu(z[t * params.z_stride + params.z_offset + h * params.dv + d]);
}
