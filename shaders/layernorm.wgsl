// LayerNorm of each row with bias: y = (x - mean) * rsqrt(var + eps) * weight + bias, biased
// variance, two passes over the row in float32 (torch.nn.LayerNorm).
// Reference: src/reference/vision-ops layerNorm. Dispatch: grid(rows); WG lanes stride over a row.
// #include "lib/reduce.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;            // [rows, n]
@group(0) @binding(2) var<storage, read> weight: array<f32>;       // [n]
@group(0) @binding(3) var<storage, read> bias: array<f32>;         // [n]
@group(0) @binding(4) var<storage, read_write> y: array<f32>;      // [rows, n]

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) { return; }
  let base = row * params.n;
  var sum = 0.0;
  for (var i = lid; i < params.n; i += WG) { sum += x[base + i]; }
  let mean = workgroup_sum(sum, lid) / f32(params.n);
  var sum_sq = 0.0;
  for (var i = lid; i < params.n; i += WG) {
    let d = x[base + i] - mean;
    sum_sq += d * d;
  }
  let inv_std = inverseSqrt(workgroup_sum(sum_sq, lid) / f32(params.n) + params.eps);
  for (var i = lid; i < params.n; i += WG) {
    y[base + i] = (x[base + i] - mean) * inv_std * weight[i] + bias[i];
  }
}
