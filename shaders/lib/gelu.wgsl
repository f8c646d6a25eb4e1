// The two GELU forms of the vision tower. WGSL has no erf and no overflow promise for tanh/exp,
// so both are built from exp on a clamped argument.

// tanh(u) = 1 - 2 / (exp(2u) + 1); |u| > 10 is ±1 to float32 precision.
fn tanh_clamped(u: f32) -> f32 {
  let c = clamp(u, -10.0, 10.0);
  return 1.0 - 2.0 / (exp(2.0 * c) + 1.0);
}

// gelu_pytorch_tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
fn gelu_tanh(x: f32) -> f32 {
  return 0.5 * x * (1.0 + tanh_clamped(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32 resolution near 1).
fn erf_approx(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let y = 1.0 - poly * exp(-min(a * a, 80.0));
  return select(y, -y, x < 0.0);
}

// nn.GELU(): 0.5 x (1 + erf(x / sqrt(2))).
fn gelu_erf(x: f32) -> f32 {
  return 0.5 * x * (1.0 + erf_approx(x * 0.7071067811865476));
}
