// Decode: the chosen experts' down projections, summed into the residual stream:
// y[t, n] += sum over slots of down_e[n] · act[t·topk + slot], e = ids[t·topk + slot] read on the
// GPU. The routing weights are already in act (moe_gemv_gate_up), so the k experts' rows form one
// dot product of k·K terms per output.
// Reference: src/reference/moe.ts moeExpertDown. The weight part holds experts
// expert_start .. expert_start + expert_count - 1 whole, each N rows of K2 = ceil(K/2) pairs.
// Dispatch: (ceil(N / ROWS), T) per part; each part adds its own experts' terms, and a workgroup
// with none of its token's experts in the part returns at once.

const LANES: u32 = 32u;
const ROWS: u32 = WG / LANES;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> act: array<f32>;            // [T * topk, K]
@group(0) @binding(2) var<storage, read> ids: array<u32>;            // [T, topk]
@group(0) @binding(3) var<storage, read> w: array<WPair>;            // [expert_count, N, row_pairs]: K2 pairs, then zero padding
@group(0) @binding(4) var<storage, read_write> y: array<f32>;        // [T, N]

var<workgroup> partial: array<f32, WG>;

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
  let n = wid.x * ROWS + lid / LANES;
  var acc = 0.0;
  if (n < params.N) {
    for (var slot = 0u; slot < params.topk; slot++) {
      let a = t * params.topk + slot;
      let e = ids[a];
      if (!in_part(e)) { continue; }
      let w_row = ((e - params.expert_start) * params.N + n) * params.row_pairs;
      let x_row = a * params.K;
      for (var p = lane; p < params.K2; p += LANES) {
        let k = 2u * p;
        let wv = w_pair(w[w_row + p]);
        let x1 = select(0.0, act[x_row + k + 1u], k + 1u < params.K);
        acc += act[x_row + k] * wv.x + x1 * wv.y;
      }
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s = s >> 1u) {
    if (lane < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lane == 0u && n < params.N) { y[t * params.N + n] += partial[lid]; }
}
