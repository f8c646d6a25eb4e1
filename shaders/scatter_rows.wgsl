// Places rows of one buffer at chosen rows of another: x[t, :] = src[rows[offset + t], :] for
// every t whose entry is >= 0 (ACCUMULATE = 1 adds instead, for DeepStack's residual additions).
// The vision tower's merged tokens land on the prompt's image / video placeholder rows this way,
// on the GPU, after the token embedding gather.
// Dispatch: grid(ceil(T * H / WG)), one lane per element.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rows: array<i32>;         // [prompt length] source row per position, -1 for none
@group(0) @binding(2) var<storage, read> src: array<f32>;          // [tokens, H]
@group(0) @binding(3) var<storage, read_write> x: array<f32>;      // [T, H]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= params.T * params.H) { return; }
  let t = idx / params.H;
  let r = rows[params.offset + t];
  if (r < 0) { return; }
  let v = src[u32(r) * params.H + idx % params.H];
  if (ACCUMULATE == 1u) { x[idx] += v; } else { x[idx] = v; }
}
