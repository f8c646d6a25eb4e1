// Workgroup-wide reductions over WG lanes (WG a power of two). Every lane must call them, in
// uniform control flow; they leave the scratch free for the next call.
var<workgroup> reduce_scratch: array<f32, WG>;

fn workgroup_sum(v: f32, lid: u32) -> f32 {
  reduce_scratch[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { reduce_scratch[lid] += reduce_scratch[lid + s]; }
    workgroupBarrier();
  }
  let total = reduce_scratch[0];
  workgroupBarrier();
  return total;
}

fn workgroup_max(v: f32, lid: u32) -> f32 {
  reduce_scratch[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { reduce_scratch[lid] = max(reduce_scratch[lid], reduce_scratch[lid + s]); }
    workgroupBarrier();
  }
  let m = reduce_scratch[0];
  workgroupBarrier();
  return m;
}
