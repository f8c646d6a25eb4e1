// 32-value units of the activations x, matching the weight prelude's WUnit: loads, the fused
// RMSNorm's weight and sum of squares, and the unit dot product. Include-only; reads the
// including kernel's `x` and `norm_w` bindings and `params.K`.
// A row's last unit may run past K. Those x values (another token's, or robust-access values past
// the buffer) meet the weights' exact zero padding, so loads need no mask; only the norm's sum of
// squares masks them. Masking every load instead cost SwiftShader 2x in the GEMV (both sides of a
// branch run there, and a select per value is not free either).

struct XUnit { c0: vec4<f32>, c1: vec4<f32>, c2: vec4<f32>, c3: vec4<f32>, c4: vec4<f32>, c5: vec4<f32>, c6: vec4<f32>, c7: vec4<f32> }

fn x4(at: u32, k: u32) -> vec4<f32> {
  return vec4<f32>(x[at + k], x[at + k + 1u], x[at + k + 2u], x[at + k + 3u]);
}

fn x_unit(at: u32, k: u32) -> XUnit {
  return XUnit(x4(at, k), x4(at, k + 4u), x4(at, k + 8u), x4(at, k + 12u), x4(at, k + 16u), x4(at, k + 20u), x4(at, k + 24u), x4(at, k + 28u));
}

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

fn unit_dot(a: WUnit, b: XUnit) -> f32 {
  let d = dot(a.c0, vec4<F>(b.c0)) + dot(a.c1, vec4<F>(b.c1)) + dot(a.c2, vec4<F>(b.c2)) + dot(a.c3, vec4<F>(b.c3))
        + dot(a.c4, vec4<F>(b.c4)) + dot(a.c5, vec4<F>(b.c5)) + dot(a.c6, vec4<F>(b.c6)) + dot(a.c7, vec4<F>(b.c7));
  return f32(a.scale * d);
}
