// Decode: the chosen experts' gate and up projections with SwiGLU, premultiplied by the routing
// weight: act[a, i] = weights[a] · silu(gate_e · x_t) · (up_e · x_t), for each assignment
// a = t·topk + slot with e = ids[a], read on the GPU (no readback to learn which experts fired).
// Reference: src/reference/moe.ts moeExpertGateUp over decodeRows(W). Weights in any format (the
// w_unit prelude decodes 32-value units; rows padded to whole units with the format's exact zero).
// The weight part holds experts expert_start .. expert_start + expert_count - 1 whole: each 2·Im
// rows (gate rows, then up rows).
// Dispatch: (ceil(Im / OUTS / (WG / LANES)), T·topk) per part; a workgroup whose expert lives in
// another part returns at once. As matmul_gemv.wgsl: LANES consecutive lanes share OUTS outputs
// (2·OUTS rows: each output's gate and up row), each lane streaming every LANES-th unit of the
// rows, so an x unit is loaded once for all of them; lib/lane_sum combines the lanes (subgroup
// shuffles: no barrier). Consts: WG, LANES, OUTS (8 on CPU adapters, 1 on GPUs, as matmul's ROWS).
// v1 (f16/f32 pairs only): 32 lanes per output, a 5-step workgroup-memory tree (6 barriers).

const GROUPS: u32 = WG / LANES;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T, K]
@group(0) @binding(2) var<storage, read> ids: array<u32>;            // [T, topk]
@group(0) @binding(3) var<storage, read> weights: array<f32>;        // [T, topk]
@group(0) @binding(4) var<storage, read> w: array<WWord>;            // [expert_count · 2Im, row_vecs]
@group(0) @binding(5) var<storage, read> scales: array<u32>;         // [expert_count · 2Im, scale_words] (q8/q4)
@group(0) @binding(6) var<storage, read_write> act: array<f32>;      // [T · topk, Im]

// #include "lib/lane_sum.wgsl"
// #include "lib/activations.wgsl"
// #include "lib/x_unit.wgsl"

fn row_dot(row: u32, u: u32, xu: XUnit) -> f32 {
  return unit_dot(w_unit(row * params.row_vecs + u * UNIT_WORDS, row * params.scale_words, u), xu);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let a = wid.y;
  let e = ids[a];
  if (e < params.expert_start || e >= params.expert_start + params.expert_count) { return; }
  let lane = lid % LANES;
  let group = wid.x * GROUPS + lid / LANES;
  let x_row = (a / params.topk) * params.K;
  let expert_row = (e - params.expert_start) * 2u * params.Im;
  var gate: array<f32, OUTS>;
  var up: array<f32, OUTS>;
  for (var u = lane; u < params.units; u += LANES) {
    let xu = x_unit(x_row, u * 32u);
    for (var r = 0u; r < OUTS; r++) {
      // Outputs past Im repeat the last one and are not stored: lane_sum needs every lane.
      let i = min(group * OUTS + r, params.Im - 1u);
      gate[r] += row_dot(expert_row + i, u, xu);
      up[r] += row_dot(expert_row + params.Im + i, u, xu);
    }
  }
  for (var r = 0u; r < OUTS; r++) {
    let g = lane_sum(gate[r], lid);
    let v = lane_sum(up[r], lid);
    let i = group * OUTS + r;
    if (lane == 0u && i < params.Im) { act[a * params.Im + i] = weights[a] * silu(g) * v; }
  }
}
