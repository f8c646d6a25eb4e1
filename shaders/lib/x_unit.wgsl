// Loads of 32-value units of the activations x (the weight prelude declares XUnit and the dot
// products). Include-only; reads the including kernel's `x` binding (lib/x_norm.wgsl adds the fused
// RMSNorm's helpers for kernels that also bind `norm_w`).
// A row's last unit may run past K. Those x values (another token's, or robust-access values past
// the buffer) meet the weights' exact zero padding, so loads need no mask; only the norm's sum of
// squares masks them. Masking every load instead cost SwiftShader 2x in the GEMV (both sides of a
// branch run there, and a select per value is not free either).

fn x4(at: u32, k: u32) -> vec4<f32> {
  return vec4<f32>(x[at + k], x[at + k + 1u], x[at + k + 2u], x[at + k + 3u]);
}

fn x_unit(at: u32, k: u32) -> XUnit {
  return XUnit(x4(at, k), x4(at, k + 4u), x4(at, k + 8u), x4(at, k + 12u), x4(at, k + 16u), x4(at, k + 20u), x4(at, k + 24u), x4(at, k + 28u));
}
