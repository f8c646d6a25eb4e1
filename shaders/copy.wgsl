// Plain copy, the bandwidth yardstick of `npm run bench`: decode streams every weight once per
// token, so decode's weight bytes/s over this kernel's bytes/s says how close decode is to the
// memory-bound limit on the same adapter. dst[i] = src[i] for i < n (vec4<u32> units).
// Specialised on WG, VECS (units per invocation) and CONTIGUOUS: with 0, invocation g copies
// units g, g + lanes, g + 2·lanes, ... (neighbouring lanes touch neighbouring units: what a GPU
// coalesces); with 1, units g·VECS .. g·VECS + VECS - 1 (one stream per invocation: what a CPU
// adapter such as SwiftShader prefetches). The bench takes the best variant as the limit.
// Dispatch: grid(ceil(n / (WG · VECS))).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<u32>>;          // [n]
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<u32>>;    // [n]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let lane = gid.x + gid.y * nwg.x * WG;
  let lanes = nwg.x * nwg.y * WG;
  for (var k = 0u; k < VECS; k++) {
    let i = select(lane + k * lanes, lane * VECS + k, CONTIGUOUS == 1u);
    if (i < params.n) { dst[i] = src[i]; }
  }
}
