// The epilogue of the prefill matmuls: one token's results for rows 4q..4q+3, scaled by the fused
// norm's 1/rms, through the GLU, and stored or accumulated. Include-only; writes the kernel's `y`.

fn norm_scale(sum_sq: f32) -> f32 {
  return select(1.0, inverseSqrt(sum_sq / f32(params.K) + params.eps), NORM == 1u);
}

fn store_quad(t: u32, q: u32, acc: vec4<f32>, scale: f32) {
  if (t >= params.T) { return; }
  let v = acc * scale;
  let base = t * params.y_stride + params.y_offset;
  if (GLU == 1u) {
    // Rows 4q..4q+3 are the gate/up pairs 2q and 2q + 1.
    let out = vec2<f32>(silu(v.x) * v.y, silu(v.z) * v.w);
    for (var i = 0u; i < 2u; i++) {
      if (2u * q + i >= params.N / 2u) { break; }
      if (ACCUMULATE == 1u) { y[base + 2u * q + i] += out[i]; } else { y[base + 2u * q + i] = out[i]; }
    }
  } else {
    for (var i = 0u; i < 4u; i++) {
      if (4u * q + i >= params.N) { break; }
      if (ACCUMULATE == 1u) { y[base + 4u * q + i] += v[i]; } else { y[base + 4u * q + i] = v[i]; }
    }
  }
}
