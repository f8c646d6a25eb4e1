// Prefill: per-expert tiled down projections over only the assignments routed to each expert:
// expert_out[a, n] = down_e[n] · act[a] for a = perm[r], r in one tile [start, end) of expert e
// from moe_group (act already carries the routing weight; moe_combine sums a token's slots).
// Reference: src/reference/moe.ts moeExpertDown (before its sum over slots). Weights as in
// moe_gemv_down (experts expert_start.. of this part, N rows each, K2 pairs per row).
// Dispatch: (ceil(N / TN), max_tiles) per part; workgroup y takes tile y of the list, returning
// at once past the tile count or when the tile's expert lives in another part. 16 x TM lanes: lane
// (tx, ty) computes tile row ty for outputs 4tx..4tx+3, stepping through K in slices of TK staged
// in workgroup memory. Consts: TM (tile rows, as moe_group).

const TN: u32 = 64u;   // outputs per tile
const TK: u32 = 32u;   // K values per slice (16 pairs)
const LANES: u32 = 16u * TM;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> act: array<f32>;            // [T * topk, K]
@group(0) @binding(2) var<storage, read> perm: array<u32>;           // [T * topk] grouped by expert
@group(0) @binding(3) var<storage, read> tiles: array<u32>;          // [1 + 3 * max_tiles]
@group(0) @binding(4) var<storage, read> w: array<WPair>;            // [expert_count, N, row_pairs]: K2 pairs, then zero padding
@group(0) @binding(5) var<storage, read_write> expert_out: array<f32>; // [T * topk, N]

var<workgroup> xs: array<f32, TM * TK>;   // [row][k]
var<workgroup> ws: array<f32, TK * TN>;   // [k][output]

@compute @workgroup_size(16, TM)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let tile = wid.y;
  if (tile >= tiles[0]) { return; }
  let e = tiles[1u + 3u * tile];
  if (e < params.expert_start || e >= params.expert_start + params.expert_count) { return; }
  let start = tiles[2u + 3u * tile];
  let rows = tiles[3u + 3u * tile] - start;
  let n0 = wid.x * TN;
  let expert_row = (e - params.expert_start) * params.N;
  var acc: array<f32, 4>;
  for (var k0 = 0u; k0 < params.K; k0 += TK) {
    for (var i = lid; i < TM * TK; i += LANES) {
      let r = i / TK;
      let k = k0 + i % TK;
      var v = 0.0;
      if (r < rows && k < params.K) { v = act[perm[start + r] * params.K + k]; }
      xs[i] = v;
    }
    for (var i = lid; i < TN * (TK / 2u); i += LANES) {
      let col = i / (TK / 2u);
      let p = i % (TK / 2u);
      let n = n0 + col;
      let pair = k0 / 2u + p;
      var v = vec2<f32>(0.0);
      if (n < params.N && pair < params.K2) { v = w_pair(w[(expert_row + n) * params.row_pairs + pair]); }
      ws[(2u * p) * TN + col] = v.x;
      ws[(2u * p + 1u) * TN + col] = v.y;
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let xv = xs[lid3.y * TK + k];
      for (var j = 0u; j < 4u; j++) { acc[j] += xv * ws[k * TN + lid3.x * 4u + j]; }
    }
    workgroupBarrier();
  }
  if (lid3.y >= rows) { return; }
  let a = perm[start + lid3.y];
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + lid3.x * 4u + j;
    if (n < params.N) { expert_out[a * params.N + n] = acc[j]; }
  }
}
