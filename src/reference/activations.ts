// Scalar activations and the SwiGLU combine. T = tokens, I = MLP width.

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** torch.nn.functional.softplus with beta 1, threshold 20: linear above the threshold, log1p(exp) below. */
export function softplus(x: number): number {
  return x > 20 ? x : Math.log1p(Math.exp(x));
}

/** silu(gate) * up, with gateUp [T, 2I] holding gate in columns 0..I-1 and up in I..2I-1. Returns [T, I]. */
export function swiglu(gateUp: Float32Array, T: number, I: number): Float32Array {
  const out = new Float32Array(T * I);
  for (let t = 0; t < T; t++) {
    const row = t * 2 * I;
    for (let i = 0; i < I; i++) out[t * I + i] = silu(gateUp[row + i]) * gateUp[row + I + i];
  }
  return out;
}
