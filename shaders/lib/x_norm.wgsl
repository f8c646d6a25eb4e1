// The fused RMSNorm's side of lib/x_unit.wgsl: the sum of squares of the values inside the row and
// x times the norm weight. Include-only, after lib/x_unit.wgsl; reads the including kernel's
// `norm_w` binding and `params.K`.

fn sq4(v: vec4<f32>, k: u32) -> f32 {
  let m = select(vec4<f32>(0.0), v, vec4<u32>(k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.K));
  return dot(m, m);
}

/** Sum of squares of the unit's values that lie in the row (k < K). */
fn sum_sq(a: XUnit, k: u32) -> f32 {
  return sq4(a.c0, k) + sq4(a.c1, k + 4u) + sq4(a.c2, k + 8u) + sq4(a.c3, k + 12u)
       + sq4(a.c4, k + 16u) + sq4(a.c5, k + 20u) + sq4(a.c6, k + 24u) + sq4(a.c7, k + 28u);
}

fn g4(k: u32) -> vec4<f32> {
  return vec4<f32>(norm_w[k], norm_w[k + 1u], norm_w[k + 2u], norm_w[k + 3u]);
}

/** x times the norm weight (stored as 1 + w). */
fn scaled(a: XUnit, k: u32) -> XUnit {
  return XUnit(a.c0 * g4(k), a.c1 * g4(k + 4u), a.c2 * g4(k + 8u), a.c3 * g4(k + 12u),
               a.c4 * g4(k + 16u), a.c5 * g4(k + 20u), a.c6 * g4(k + 24u), a.c7 * g4(k + 28u));
}
