// Sum over the LANES consecutive invocations that share a row, by subgroup shuffles: no workgroup
// memory, no barrier. Needs LANES (a power of two) <= the subgroup size and subgroups made of
// consecutive invocations, as every implementation lays out a 1-D workgroup. Uniform control flow.
fn lane_sum(v: f32, lid: u32) -> f32 {
  var s = v;
  for (var m = LANES / 2u; m > 0u; m = m >> 1u) { s += subgroupShuffleXor(s, m); }
  return s;
}
