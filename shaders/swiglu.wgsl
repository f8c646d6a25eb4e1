// SwiGLU activation of the MLP: out[t, i] = silu(gate[t, i]) * up[t, i], where the fused
// gate_up projection puts gate in columns 0..I-1 and up in I..2I-1.
// Reference: src/reference swiglu. Dispatch: grid(ceil(T * I / WG)).
// #include "lib/activations.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> gate_up: array<f32>;        // [T, 2I]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;      // [T, I]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= params.T * params.I) { return; }
  let t = idx / params.I;
  let i = idx % params.I;
  out[idx] = silu(gate_up[t * 2u * params.I + i]) * gate_up[t * 2u * params.I + params.I + i];
}
