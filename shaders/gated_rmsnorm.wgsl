// Gated RMSNorm of the Gated DeltaNet output: y = o * rsqrt(mean(o^2) + eps) * w * silu(z),
// over each value head (plain weight, not 1 + w; norm before the gate, as Qwen3_5RMSNormGated).
// Reference: src/reference gatedRmsNorm. Dispatch: grid(T * nv); one workgroup per token-head.
// #include "lib/reduce.wgsl"
// #include "lib/activations.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> o: array<f32>;              // [T, nv, dv]
@group(0) @binding(2) var<storage, read> z: array<f32>;              // [T, z_stride]; head h at z_offset + h*dv
@group(0) @binding(3) var<storage, read> weight: array<f32>;         // [dv]
@group(0) @binding(4) var<storage, read_write> y: array<f32>;        // [T, nv * dv]

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;   // t * nv + h
  if (row >= params.rows) { return; }
  let t = row / params.nv;
  let h = row % params.nv;
  let base = row * params.dv;
  var sum_sq = 0.0;
  for (var d = lid; d < params.dv; d += WG) { sum_sq += o[base + d] * o[base + d]; }
  let inv_rms = inverseSqrt(workgroup_sum(sum_sq, lid) / f32(params.dv) + params.eps);
  let z_row = t * params.z_stride + params.z_offset + h * params.dv;
  for (var d = lid; d < params.dv; d += WG) {
    y[base + d] = o[base + d] * inv_rms * weight[d] * silu(z[z_row + d]);
  }
}
