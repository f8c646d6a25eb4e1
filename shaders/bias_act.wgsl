// Bias add with an optional activation, in place: y[r, i] = act(y[r, i] + bias[i]).
// Reference: src/reference/vision-ops geluTanh / geluErf. The matmul kernels have no bias, so
// the vision tower's linear layers are a matmul (into, or accumulated onto, y) followed by this.
// Specialised on ACT: 0 none, 1 gelu_pytorch_tanh, 2 exact (erf) GELU.
// Dispatch: grid(ceil(rows * n / WG)), one lane per element.
// #include "lib/gelu.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> bias: array<f32>;         // [n]
@group(0) @binding(2) var<storage, read_write> y: array<f32>;      // [rows, n]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= params.rows * params.n) { return; }
  let v = y[idx] + bias[idx % params.n];
  if (ACT == 1u) { y[idx] = gelu_tanh(v); } else if (ACT == 2u) { y[idx] = gelu_erf(v); } else { y[idx] = v; }
}
