// Prefill: per-expert tiled down projections over only the assignments routed to each expert:
// expert_out[a, n] = down_e[n] · act[a] for a = perm[r], r in one tile [start, end) of expert e
// from moe_group (act already carries the routing weight; moe_combine sums a token's slots).
// Reference: src/reference/moe.ts moeExpertDown (before its sum over slots) over decodeRows(W).
// Weights in any format, as in moe_gemv_down (experts expert_start.. of this part, N rows each).
// Dispatch: (ceil(N / TN), max_tiles) per part; workgroup y takes tile y of the list, returning
// at once past the tile count or when the tile's expert lives in another part. 16 x TM lanes: lane
// (tx, ty) computes tile row ty for outputs 4tx..4tx+3. K advances one 32-value unit per step: TN
// lanes decode one row's unit each into workgroup memory, every lane stages two act values
// (10 KiB in all). Consts: TM (tile rows, as moe_group).
// v1 (f16/f32 pairs only): 16-value slices (twice the barriers).

const TN: u32 = 64u;   // outputs per tile
const TK: u32 = 32u;   // one unit of K per step
const LANES: u32 = 16u * TM;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T * topk, K] act
@group(0) @binding(2) var<storage, read> perm: array<u32>;           // [T * topk] grouped by expert
@group(0) @binding(3) var<storage, read> tiles: array<u32>;          // [1 + 3 * max_tiles]
@group(0) @binding(4) var<storage, read> w: array<WWord>;            // [expert_count · N, row_vecs]
@group(0) @binding(5) var<storage, read> scales: array<u32>;         // [expert_count · N, scale_words] (q8/q4)
@group(0) @binding(6) var<storage, read_write> expert_out: array<f32>; // [T * topk, N]

var<workgroup> xs: array<f32, TM * TK>;   // [row][k]
var<workgroup> ws: array<f32, TK * TN>;   // [k][output]

fn put_w(at: u32, v: vec4<F>, s: F) {
  let c = vec4<f32>(v * s);
  ws[at] = c.x;
  ws[at + TN] = c.y;
  ws[at + 2u * TN] = c.z;
  ws[at + 3u * TN] = c.w;
}

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
  // Staging: this lane's act row (rows past the tile repeat its last one and are not stored) and
  // weight row (lanes below TN; rows past N repeat the last one).
  let xr = lid / (TK / 2u);
  let xk = (lid % (TK / 2u)) * 2u;
  let x_row = perm[start + min(xr, rows - 1u)] * params.K;
  let w_row = (e - params.expert_start) * params.N + min(n0 + lid % TN, params.N - 1u);
  let ws_at = lid % TN;
  var acc = vec4<f32>(0.0);
  for (var u = 0u; u < params.units; u++) {
    // act past K meets the weights' zero padding (lib/x_unit.wgsl).
    xs[xr * TK + xk] = x[x_row + u * TK + xk];
    xs[xr * TK + xk + 1u] = x[x_row + u * TK + xk + 1u];
    if (lid < TN) {
      let wu = w_unit(w_row * params.row_vecs + u * UNIT_WORDS, w_row * params.scale_words, u);
      put_w(ws_at, wu.c0, wu.scale); put_w(ws_at + 4u * TN, wu.c1, wu.scale);
      put_w(ws_at + 8u * TN, wu.c2, wu.scale); put_w(ws_at + 12u * TN, wu.c3, wu.scale);
      put_w(ws_at + 16u * TN, wu.c4, wu.scale); put_w(ws_at + 20u * TN, wu.c5, wu.scale);
      put_w(ws_at + 24u * TN, wu.c6, wu.scale); put_w(ws_at + 28u * TN, wu.c7, wu.scale);
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let o = k * TN + lid3.x * 4u;
      acc += xs[lid3.y * TK + k] * vec4<f32>(ws[o], ws[o + 1u], ws[o + 2u], ws[o + 3u]);
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
