// Sum over the LANES consecutive invocations that share a row, through workgroup memory: the
// fallback for devices without subgroups. Every lane of the workgroup must call it (uniform
// control flow); it leaves the scratch free for the next call.
var<workgroup> lane_scratch: array<f32, WG>;

fn lane_sum(v: f32, lid: u32) -> f32 {
  lane_scratch[lid] = v;
  workgroupBarrier();
  let first = lid - lid % LANES;
  var s = 0.0;
  for (var i = 0u; i < LANES; i++) { s += lane_scratch[first + i]; }
  workgroupBarrier();
  return s;
}
