// y = x W^T, PyTorch Linear without bias. T = rows of x, K = input width, N = output width.

/** x [T, K], w [N, K] → [T, N]. Accumulates in doubles; rounds once when storing. */
export function matmul(x: Float32Array, w: Float32Array, T: number, N: number, K: number): Float32Array {
  if (x.length < T * K || w.length < N * K) throw new Error(`matmul: x needs ${T}×${K}, w needs ${N}×${K} values`);
  const y = new Float32Array(T * N);
  for (let t = 0; t < T; t++) {
    const xo = t * K;
    for (let n = 0; n < N; n++) {
      const wo = n * K;
      // Four partial sums let V8 overlap the multiply-adds; the order change is below float32 noise.
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let k = 0;
      for (; k + 3 < K; k += 4) {
        s0 += x[xo + k] * w[wo + k];
        s1 += x[xo + k + 1] * w[wo + k + 1];
        s2 += x[xo + k + 2] * w[wo + k + 2];
        s3 += x[xo + k + 3] * w[wo + k + 3];
      }
      for (; k < K; k++) s0 += x[xo + k] * w[wo + k];
      y[t * N + n] = s0 + s1 + s2 + s3;
    }
  }
  return y;
}
