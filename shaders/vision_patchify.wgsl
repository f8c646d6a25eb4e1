// Pixels to patch rows, the processor's layout: out[row, e] = (frame value * scale - mean_c) / std_c
// with row = (temporal group, block row, block column, row in block, column in block) and
// e = (channel, temporal slot, y, x) of a PATCH×PATCH patch; temporal slot s of group g reads frame
// min(g * TEMPORAL + s, frames - 1), so an image (one frame) fills every slot and an odd clip
// repeats its last frame. Rescale and normalise are fused as the torchvision processor fuses them
// (scale 1, mean and std multiplied by 255).
// Reference: src/reference/vision-ops patchify. Consts: PATCH, TEMPORAL, MERGE.
// Dispatch: grid(ceil(t * h * w * PATCH_DIM / WG)), one lane per output value.

const PATCH_DIM: u32 = 3u * TEMPORAL * PATCH * PATCH;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> frames: array<u32>;        // [frames, height, width, 3] bytes, packed 4 per word
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // [rows, PATCH_DIM], this item from row row_offset

fn byte_at(i: u32) -> u32 {
  return (frames[i / 4u] >> (8u * (i % 4u))) & 0xffu;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  let per_group = params.grid_h * params.grid_w;
  if (idx >= params.groups * per_group * PATCH_DIM) { return; }
  let row = idx / PATCH_DIM;
  let e = idx % PATCH_DIM;
  let g = row / per_group;
  let in_group = row % per_group;
  let block = in_group / (MERGE * MERGE);
  let in_block = in_group % (MERGE * MERGE);
  let blocks_w = params.grid_w / MERGE;
  let patch_row = (block / blocks_w) * MERGE + in_block / MERGE;
  let patch_col = (block % blocks_w) * MERGE + in_block % MERGE;
  let c = e / (TEMPORAL * PATCH * PATCH);
  let slot = (e / (PATCH * PATCH)) % TEMPORAL;
  let y = (e / PATCH) % PATCH;
  let x = e % PATCH;
  let frame = min(g * TEMPORAL + slot, params.frames - 1u);
  let pixel = (frame * params.height + patch_row * PATCH + y) * params.width + patch_col * PATCH + x;
  let v = f32(byte_at(pixel * 3u + c));
  let mean_c = select(select(params.mean0, params.mean1, c == 1u), params.mean2, c == 2u);
  let std_c = select(select(params.std0, params.std1, c == 1u), params.std2, c == 2u);
  out[(params.row_offset + row) * PATCH_DIM + e] = (v * params.scale - mean_c) / std_c;
}
