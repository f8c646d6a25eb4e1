// Matrix-vector product for decode: y[t, y_offset + n] (+)= sum_k x[t, k] * W[n, k]
// Reference: src/reference matmul. Weights are rows of K values stored as K2 = ceil(K/2) pairs
// (f16 packed in a u32, or vec2<f32>); an odd K has a zero pad that is never multiplied by x.
// Dispatch: grid(ceil(N / ROWS), T); ROWS rows per workgroup, LANES lanes per row reading
// consecutive pairs so each warp-sized group streams one contiguous weight row.
// ACCUMULATE = 1 adds into y (the residual stream), 0 overwrites it.

const LANES: u32 = 32u;
const ROWS: u32 = WG / LANES;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T, x_stride] from x_offset
@group(0) @binding(2) var<storage, read> w: array<WPair>;            // [N, K2]
@group(0) @binding(3) var<storage, read_write> y: array<f32>;        // [T, y_stride]

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let n = wid.x * ROWS + lid / LANES;
  let t = wid.y;
  let x_row = params.x_offset + t * params.x_stride;
  var acc = 0.0;
  if (n < params.N) {
    let w_row = n * params.K2;
    for (var p = lane; p < params.K2; p += LANES) {
      let wv = w_pair(w[w_row + p]);
      let k = 2u * p;
      // An odd K's last pair has no second x value; never read past the row.
      let x1 = select(0.0, x[x_row + k + 1u], k + 1u < params.K);
      acc += x[x_row + k] * wv.x + x1 * wv.y;
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s = s >> 1u) {
    if (lane < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lane == 0u && n < params.N) {
    let out = t * params.y_stride + params.y_offset + n;
    if (ACCUMULATE == 1u) { y[out] += partial[lid]; } else { y[out] = partial[lid]; }
  }
}
