// RMSNorm of each row: y = x * rsqrt(mean(x^2) + eps) * weight
// Reference: src/reference rmsNorm. Qwen3.5's zero-centred norms are stored as (1 + w) at upload,
// so one kernel serves both conventions.
// Dispatch: one workgroup per row (grid(rows)); WG lanes stride over the row.
// #include "lib/reduce.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;            // [rows, in_stride], row starts at in_offset
@group(0) @binding(2) var<storage, read> weight: array<f32>;       // [n]
@group(0) @binding(3) var<storage, read_write> y: array<f32>;      // [rows, out_stride], row starts at out_offset

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) { return; }
  let src = params.in_offset + row * params.in_stride;
  let dst = params.out_offset + row * params.out_stride;
  var sum_sq = 0.0;
  for (var i = lid; i < params.n; i += WG) {
    let v = x[src + i];
    sum_sq += v * v;
  }
  let inv_rms = inverseSqrt(workgroup_sum(sum_sq, lid) / f32(params.n) + params.eps);
  for (var i = lid; i < params.n; i += WG) {
    y[dst + i] = x[src + i] * inv_rms * weight[i];
  }
}
