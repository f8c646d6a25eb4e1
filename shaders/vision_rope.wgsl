// 2-D rotary embedding of the vision tower, in place on q and k of the fused qkv rows:
// (v_i, v_{i+hd/2}) of every head rotate by angle a[n, i], i < hd/2, where the first hd/4 angles
// follow the patch row and the rest its column (rotate_half over the whole head).
// (cos, sin) per patch come from the CPU (model/vision-tables.ts) so large angles never meet
// the GPU's sin/cos. Reference: src/reference/vision-ops axialRopeInPlace. Const: HEAD_DIM.
// Dispatch: grid(ceil(N * 2 * heads * HEAD_DIM / 2 / WG)), one lane per rotated pair.

const HALF: u32 = HEAD_DIM / 2u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rope: array<vec2<f32>>;    // [N, HALF] (cos, sin)
@group(0) @binding(2) var<storage, read_write> qkv: array<f32>;     // [N, 3, heads, HEAD_DIM]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  let per_patch = 2u * params.heads * HALF;   // q and k heads
  if (idx >= params.N * per_patch) { return; }
  let n = idx / per_patch;
  let rest = idx % per_patch;
  let head = rest / HALF;                        // 0..2*heads-1: q heads, then k heads
  let i = rest % HALF;
  let cs = rope[n * HALF + i];
  let base = n * 3u * params.heads * HEAD_DIM + head * HEAD_DIM;
  let a = qkv[base + i];
  let b = qkv[base + HALF + i];
  qkv[base + i] = a * cs.x - b * cs.y;
  qkv[base + HALF + i] = b * cs.x + a * cs.y;
}
