// Decode: the chosen experts' down projections, summed into the residual stream:
// y[t, n] += sum over slots of down_e[n] · act[t·topk + slot], e = ids[t·topk + slot] read on the
// GPU. The routing weights are already in act (moe_gemv_gate_up), so the k experts' rows form one
// dot product of k·K terms per output.
// Reference: src/reference/moe.ts moeExpertDown over decodeRows(W). Weights in any format (w_unit
// prelude); the part holds experts expert_start .. expert_start + expert_count - 1 whole, N rows each.
// Dispatch: (ceil(N / ROWS / (WG / LANES)), T) per part; each part adds its own experts' terms, and
// a workgroup with none of its token's experts in the part returns at once. Lanes as in
// moe_gemv_gate_up: LANES lanes share ROWS rows and each act unit. Consts: WG, LANES, ROWS.
// v1 (f16/f32 pairs only): 32 lanes per row, a 5-step workgroup-memory tree (6 barriers).

const GROUPS: u32 = WG / LANES;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T · topk, K] act, routing weight applied
@group(0) @binding(2) var<storage, read> ids: array<u32>;            // [T, topk]
@group(0) @binding(3) var<storage, read> w: array<WWord>;            // [expert_count · N, row_vecs]
@group(0) @binding(4) var<storage, read> scales: array<u32>;         // [expert_count · N, scale_words] (q8/q4)
@group(0) @binding(5) var<storage, read_write> y: array<f32>;        // [T, N]

// #include "lib/lane_sum.wgsl"
// #include "lib/x_unit.wgsl"

fn in_part(e: u32) -> bool {
  return e >= params.expert_start && e < params.expert_start + params.expert_count;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.y;
  var resident = 0u;
  for (var slot = 0u; slot < params.topk; slot++) { resident += select(0u, 1u, in_part(ids[t * params.topk + slot])); }
  if (resident == 0u) { return; }
  let lane = lid % LANES;
  let group = wid.x * GROUPS + lid / LANES;
  var acc: array<f32, ROWS>;
  for (var slot = 0u; slot < params.topk; slot++) {
    let a = t * params.topk + slot;
    let e = ids[a];
    if (!in_part(e)) { continue; }
    let expert_row = (e - params.expert_start) * params.N;
    for (var u = lane; u < params.units; u += LANES) {
      let xu = x_unit(a * params.K, u * 32u);
      for (var r = 0u; r < ROWS; r++) {
        // Rows past N repeat the last one and are not stored: lane_sum needs every lane.
        let row = expert_row + min(group * ROWS + r, params.N - 1u);
        acc[r] += unit_dot(w_unit(row * params.row_vecs + u * UNIT_WORDS, row * params.scale_words, u), xu);
      }
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    let v = lane_sum(acc[r], lid);
    let n = group * ROWS + r;
    if (lane == 0u && n < params.N) { y[t * params.N + n] += v; }
  }
}
