// Matrix product for prefill without workgroup memory: y[t, y_offset + n] (+)= sum_k x[t, k] W[n, k].
// The variant GpuContext.barrierFree picks (CPU adapters); matmul_tiled.wgsl is the one for GPUs.
// Reference: src/reference matmul over decodeRows(W). Same weight formats and NORM / GLU /
// ACCUMULATE variants as matmul_gemv.wgsl.
// Dispatch: (ceil(ceil(N / 4) / WG), ceil(T / 4)). Each invocation computes a 4-token x 4-row
// register tile over the whole of K: every weight unit it decodes serves 4 tokens and every x unit
// 4 rows, and neighbouring invocations (SwiftShader's SIMD lanes) read the same x addresses.
//
// Measured on SwiftShader (2 cores), qwen35-realdims-2l prefill of 80 tokens: the workgroup-memory
// kernel (32 x 64 tiles, 256 lanes, two barriers per 32-wide K slice) took ~25 s end to end,
// dominated by barrier switches; this kernel, with no barrier at all, see ARCHITECTURE.md.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T, x_stride] from x_offset
@group(0) @binding(2) var<storage, read> w: array<WWord>;            // [N, row_vecs]
@group(0) @binding(3) var<storage, read> scales: array<u32>;         // [N, scale_words] f16 pairs (q8/q4)
@group(0) @binding(4) var<storage, read> norm_w: array<f32>;         // [K] (NORM = 1)
@group(0) @binding(5) var<storage, read_write> y: array<f32>;        // [T, y_stride]

// #include "lib/activations.wgsl"
// #include "lib/x_unit.wgsl"
// #include "lib/x_norm.wgsl"
// #include "lib/matmul_store.wgsl"

struct Rows { r0: WUnit, r1: WUnit, r2: WUnit, r3: WUnit }

fn token_unit(acc: ptr<function, vec4<f32>>, sq: ptr<function, f32>, t: u32, u: u32, rows: Rows) {
  var xu = x_unit(params.x_offset + t * params.x_stride, u * 32u);
  if (NORM == 1u) {
    *sq += sum_sq(xu, u * 32u);
    xu = scaled(xu, u * 32u);
  }
  *acc += vec4<f32>(unit_dot(rows.r0, xu), unit_dot(rows.r1, xu), unit_dot(rows.r2, xu), unit_dot(rows.r3, xu));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let q = gid.x;
  if (4u * q >= params.N) { return; }
  let t0 = wid.y * 4u;
  let last_row = params.N - 1u;
  let n0 = min(4u * q, last_row);
  let n1 = min(4u * q + 1u, last_row);
  let n2 = min(4u * q + 2u, last_row);
  let n3 = min(4u * q + 3u, last_row);
  // Tokens past T repeat the last one and are not stored.
  let last_t = params.T - 1u;
  let ta = min(t0, last_t);
  let tb = min(t0 + 1u, last_t);
  let tc = min(t0 + 2u, last_t);
  let td = min(t0 + 3u, last_t);
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  var s0 = 0.0; var s1 = 0.0; var s2 = 0.0; var s3 = 0.0;
  for (var u = 0u; u < params.units; u++) {
    let at = u * UNIT_WORDS;
    let rows = Rows(w_unit(n0 * params.row_vecs + at, n0 * params.scale_words, u), w_unit(n1 * params.row_vecs + at, n1 * params.scale_words, u),
                    w_unit(n2 * params.row_vecs + at, n2 * params.scale_words, u), w_unit(n3 * params.row_vecs + at, n3 * params.scale_words, u));
    token_unit(&a0, &s0, ta, u, rows);
    token_unit(&a1, &s1, tb, u, rows);
    token_unit(&a2, &s2, tc, u, rows);
    token_unit(&a3, &s3, td, u, rows);
  }
  store_quad(t0, q, a0, norm_scale(s0));
  store_quad(t0 + 1u, q, a1, norm_scale(s1));
  store_quad(t0 + 2u, q, a2, norm_scale(s2));
  store_quad(t0 + 3u, q, a3, norm_scale(s3));
}
