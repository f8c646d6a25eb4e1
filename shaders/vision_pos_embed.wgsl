// Adds the learned position table, resampled to each patch's grid: x[n, :] += sum over 4 taps of
// weight[n, k] * table[index[n, k], :]. Indices and bilinear weights (corners aligned) come from
// the CPU (model/vision-tables.ts), computed in the reference's float32 order.
// Reference: src/reference/vision-ops interpolatePosEmbed. A table split into parts by rows runs
// once per part; taps outside the part add nothing.
// Dispatch: grid(ceil(N * K2 / WG)), one lane per pair of hidden values.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> index: array<u32>;        // [N, 4] table rows
@group(0) @binding(2) var<storage, read> weight: array<f32>;       // [N, 4]
@group(0) @binding(3) var<storage, read> table: array<WPair>;      // [rows, row_pairs], rows row_start.. of the table
@group(0) @binding(4) var<storage, read_write> x: array<f32>;      // [N, H]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= params.N * params.K2) { return; }
  let n = idx / params.K2;
  let p = idx % params.K2;
  var sum = vec2<f32>(0.0);
  for (var k = 0u; k < 4u; k++) {
    let r = index[n * 4u + k];
    if (r >= params.row_start && r < params.row_start + params.rows) {
      sum += weight[n * 4u + k] * w_pair(table[(r - params.row_start) * params.row_pairs + p]);
    }
  }
  let i = n * params.H + 2u * p;
  x[i] += sum.x;
  if (2u * p + 1u < params.H) { x[i + 1u] += sum.y; }
}
