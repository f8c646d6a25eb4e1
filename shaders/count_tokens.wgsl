// Adds the prompt's tokens to the occurrence counts the sampler's penalties read
// (sampled tokens are counted by sample.wgsl itself). Dispatch: ceil(T / WG).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;                  // [T]
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;  // [V]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.T) { return; }
  let id = ids[gid.x];
  if (id < params.V) { atomicAdd(&counts[id], 1u); }
}
