// Decode: the chosen experts' gate and up projections with SwiGLU, premultiplied by the routing
// weight: act[a, i] = weights[a] · silu(gate_e · x_t) · (up_e · x_t), for each assignment
// a = t·topk + slot with e = ids[a], read on the GPU (no readback to learn which experts fired).
// Reference: src/reference/moe.ts moeExpertGateUp. The weight part holds experts
// expert_start .. expert_start + expert_count - 1 whole: each 2·Im rows (gate rows, then up rows)
// of K2 = ceil(K/2) pairs; an odd K's zero pad is never multiplied by x.
// Dispatch: (ceil(Im / ROWS), T·topk) per part of the expert matrix; a workgroup whose expert lives
// in another part returns at once. LANES lanes per output read the gate and up rows in step.

// #include "lib/activations.wgsl"

const LANES: u32 = 32u;
const ROWS: u32 = WG / LANES;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T, K]
@group(0) @binding(2) var<storage, read> ids: array<u32>;            // [T, topk]
@group(0) @binding(3) var<storage, read> weights: array<f32>;        // [T, topk]
@group(0) @binding(4) var<storage, read> w: array<WPair>;            // [expert_count, 2 * Im, row_pairs]: K2 pairs, then zero padding
@group(0) @binding(5) var<storage, read_write> act: array<f32>;      // [T * topk, Im]

var<workgroup> partial_gate: array<f32, WG>;
var<workgroup> partial_up: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let a = wid.y;
  let e = ids[a];
  if (e < params.expert_start || e >= params.expert_start + params.expert_count) { return; }
  let lane = lid % LANES;
  let i = wid.x * ROWS + lid / LANES;
  let x_row = (a / params.topk) * params.K;
  var gate = 0.0;
  var up = 0.0;
  if (i < params.Im) {
    let expert_row = (e - params.expert_start) * 2u * params.Im;
    let gate_row = (expert_row + i) * params.row_pairs;
    let up_row = (expert_row + params.Im + i) * params.row_pairs;
    for (var p = lane; p < params.K2; p += LANES) {
      let k = 2u * p;
      let x0 = x[x_row + k];
      let x1 = select(0.0, x[x_row + k + 1u], k + 1u < params.K);
      let g = w_pair(w[gate_row + p]);
      let u = w_pair(w[up_row + p]);
      gate += x0 * g.x + x1 * g.y;
      up += x0 * u.x + x1 * u.y;
    }
  }
  partial_gate[lid] = gate;
  partial_up[lid] = up;
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s = s >> 1u) {
    if (lane < s) {
      partial_gate[lid] += partial_gate[lid + s];
      partial_up[lid] += partial_up[lid + s];
    }
    workgroupBarrier();
  }
  if (lane == 0u && i < params.Im) {
    act[a * params.Im + i] = weights[a] * silu(partial_gate[lid]) * partial_up[lid];
  }
}
