// Prefill: per-expert tiled gate/up projections with SwiGLU over only the assignments routed to
// each expert: act[a, i] = weights[a] · silu(gate_e · x_t) · (up_e · x_t) for a = perm[r],
// t = a / topk, r in one tile [start, end) of expert e from moe_group. The work is proportional to
// T·topk, not T·E: an expert nobody chose has no tile.
// Reference: src/reference/moe.ts moeExpertGateUp over decodeRows(W). Weights in any format, as in
// moe_gemv_gate_up (experts expert_start.. of this part, 2·Im rows each).
// Dispatch: (ceil(Im / TN), max_tiles) per part; workgroup y takes tile y of the list, returning
// at once past the tile count or when the tile's expert lives in another part. 16 x TM lanes: lane
// (tx, ty) computes tile row ty for outputs 2tx, 2tx + 1, gate and up. K advances one 32-value
// unit per step: 2·TN lanes decode one gate or up row's unit each into workgroup memory, every
// lane stages two x values (10 KiB in all). Consts: TM (tile rows, as moe_group).
// v1 (f16/f32 pairs only): 64 outputs per tile, 16-value slices (twice the barriers).
// #include "lib/activations.wgsl"

const TN: u32 = 32u;   // outputs per tile
const TK: u32 = 32u;   // one unit of K per step
const LANES: u32 = 16u * TM;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T, K]
@group(0) @binding(2) var<storage, read> weights: array<f32>;        // [T * topk]
@group(0) @binding(3) var<storage, read> perm: array<u32>;           // [T * topk] grouped by expert
@group(0) @binding(4) var<storage, read> tiles: array<u32>;          // [1 + 3 * max_tiles]
@group(0) @binding(5) var<storage, read> w: array<WWord>;            // [expert_count · 2Im, row_vecs]
@group(0) @binding(6) var<storage, read> scales: array<u32>;         // [expert_count · 2Im, scale_words] (q8/q4)
@group(0) @binding(7) var<storage, read_write> act: array<f32>;      // [T * topk, Im]

var<workgroup> xs: array<f32, TM * TK>;       // [row][k]
var<workgroup> ws: array<f32, 2u * TK * TN>;  // [gate | up][k][output], so the inner loop reads outputs in a row

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
  // Staging: this lane's x row (rows past the tile repeat its last one and are not stored) and
  // weight row (lanes below 2·TN: gate rows, then up rows; outputs past Im repeat the last one).
  let xr = lid / (TK / 2u);
  let xk = (lid % (TK / 2u)) * 2u;
  let x_row = (perm[start + min(xr, rows - 1u)] / params.topk) * params.K;
  let half = lid / TN;
  let col = lid % TN;
  let w_row = (e - params.expert_start) * 2u * params.Im + half * params.Im + min(n0 + col, params.Im - 1u);
  let ws_at = half * TK * TN + col;
  var gate = vec2<f32>(0.0);
  var up = vec2<f32>(0.0);
  for (var u = 0u; u < params.units; u++) {
    // x past K meets the weights' zero padding (lib/x_unit.wgsl).
    xs[xr * TK + xk] = x[x_row + u * TK + xk];
    xs[xr * TK + xk + 1u] = x[x_row + u * TK + xk + 1u];
    if (lid < 2u * TN) {
      let wu = w_unit(w_row * params.row_vecs + u * UNIT_WORDS, w_row * params.scale_words, u);
      put_w(ws_at, wu.c0, wu.scale); put_w(ws_at + 4u * TN, wu.c1, wu.scale);
      put_w(ws_at + 8u * TN, wu.c2, wu.scale); put_w(ws_at + 12u * TN, wu.c3, wu.scale);
      put_w(ws_at + 16u * TN, wu.c4, wu.scale); put_w(ws_at + 20u * TN, wu.c5, wu.scale);
      put_w(ws_at + 24u * TN, wu.c6, wu.scale); put_w(ws_at + 28u * TN, wu.c7, wu.scale);
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let xv = xs[lid3.y * TK + k];
      let o = k * TN + lid3.x * 2u;
      gate += xv * vec2<f32>(ws[o], ws[o + 1u]);
      up += xv * vec2<f32>(ws[TK * TN + o], ws[TK * TN + o + 1u]);
    }
    workgroupBarrier();
  }
  if (lid3.y >= rows) { return; }
  let a = perm[start + lid3.y];
  let scale = weights[a];
  for (var j = 0u; j < 2u; j++) {
    let n = n0 + lid3.x * 2u + j;
    if (n < params.Im) { act[a * params.Im + n] = scale * silu(gate[j]) * up[j]; }
  }
}
