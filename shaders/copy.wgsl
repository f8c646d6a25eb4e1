// Plain copy, the bandwidth yardstick of `npm run bench`: decode streams every weight once per
// token, so decode's weight bytes/s over this kernel's bytes/s says how close decode is to the
// memory-bound limit on the same adapter. Dispatch: grid(ceil(n / (WG * 4))), vec4 per lane.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<u32>>;          // [n]
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<u32>>;    // [n]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < params.n) { dst[i] = src[i]; }
}
