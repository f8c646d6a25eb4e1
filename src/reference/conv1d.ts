// Depthwise causal convolution over time, then SiLU. T = tokens, C = channels, K = kernel taps.
import { silu } from './activations.ts';

/**
 * out[t, c] = silu(Σ_k w[c, k] · window[k]), window = the K−1 inputs before x[t] (taken from state
 * while t < K−1), then x[t]. x: [T, C]; w: [C, K]; state: [C, K−1] oldest first, updated in place
 * to the last K−1 inputs, so a sequence split anywhere gives the same outputs as one call.
 */
export function causalConv1dSilu(x: Float32Array, w: Float32Array, state: Float32Array, T: number, C: number, K: number): Float32Array {
  const out = new Float32Array(T * C);
  const past = K - 1;
  // input(c, i) for i in [−past, T): negative indices read the state.
  const input = (c: number, i: number) => (i < 0 ? state[c * past + past + i] : x[i * C + c]);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += w[c * K + k] * input(c, t - past + k);
      out[t * C + c] = silu(sum);
    }
  }
  const next = new Float32Array(C * past);
  for (let c = 0; c < C; c++) for (let i = 0; i < past; i++) next[c * past + i] = input(c, T - past + i);
  state.set(next);
  return out;
}
