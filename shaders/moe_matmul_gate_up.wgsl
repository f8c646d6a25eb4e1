// Prefill: per-expert tiled gate/up projections with SwiGLU over only the assignments routed to
// each expert: act[a, i] = weights[a] · silu(gate_e · x_t) · (up_e · x_t) for a = perm[r],
// t = a / topk, r in one tile [start, end) of expert e from moe_group. The work is proportional to
// T·topk, not T·E: an expert nobody chose has no tile.
// Reference: src/reference/moe.ts moeExpertGateUp. Weights as in moe_gemv_gate_up (experts
// expert_start.. of this part, 2·Im rows each, K2 pairs per row).
// Dispatch: (ceil(Im / TN), max_tiles) per part; workgroup y takes tile y of the list, returning
// at once past the tile count or when the tile's expert lives in another part. 16 x TM lanes: lane
// (tx, ty) computes tile row ty for outputs 4tx..4tx+3, gate and up, stepping through K in slices
// of TK staged in workgroup memory. Consts: TM (tile rows, as moe_group).
// #include "lib/activations.wgsl"

const TN: u32 = 64u;   // outputs per tile
const TK: u32 = 16u;   // K values per slice (8 pairs)
const LANES: u32 = 16u * TM;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T, K]
@group(0) @binding(2) var<storage, read> weights: array<f32>;        // [T * topk]
@group(0) @binding(3) var<storage, read> perm: array<u32>;           // [T * topk] grouped by expert
@group(0) @binding(4) var<storage, read> tiles: array<u32>;          // [1 + 3 * max_tiles]
@group(0) @binding(5) var<storage, read> w: array<WPair>;            // [expert_count, 2 * Im, row_pairs]: K2 pairs, then zero padding
@group(0) @binding(6) var<storage, read_write> act: array<f32>;      // [T * topk, Im]

var<workgroup> xs: array<f32, TM * TK>;       // [row][k]
var<workgroup> gate_s: array<f32, TK * TN>;   // [k][output], transposed for contiguous inner reads
var<workgroup> up_s: array<f32, TK * TN>;

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
  let expert_row = (e - params.expert_start) * 2u * params.Im;
  var gate: array<f32, 4>;
  var up: array<f32, 4>;
  for (var k0 = 0u; k0 < params.K; k0 += TK) {
    for (var i = lid; i < TM * TK; i += LANES) {
      let r = i / TK;
      let k = k0 + i % TK;
      var v = 0.0;
      if (r < rows && k < params.K) { v = x[(perm[start + r] / params.topk) * params.K + k]; }
      xs[i] = v;
    }
    for (var i = lid; i < 2u * TN * (TK / 2u); i += LANES) {
      let half = i / (TN * (TK / 2u));
      let col = (i / (TK / 2u)) % TN;
      let p = i % (TK / 2u);
      let n = n0 + col;
      let pair = k0 / 2u + p;
      var v = vec2<f32>(0.0);
      if (n < params.Im && pair < params.K2) { v = w_pair(w[(expert_row + half * params.Im + n) * params.row_pairs + pair]); }
      if (half == 0u) {
        gate_s[(2u * p) * TN + col] = v.x;
        gate_s[(2u * p + 1u) * TN + col] = v.y;
      } else {
        up_s[(2u * p) * TN + col] = v.x;
        up_s[(2u * p + 1u) * TN + col] = v.y;
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let xv = xs[lid3.y * TK + k];
      for (var j = 0u; j < 4u; j++) {
        gate[j] += xv * gate_s[k * TN + lid3.x * 4u + j];
        up[j] += xv * up_s[k * TN + lid3.x * 4u + j];
      }
    }
    workgroupBarrier();
  }
  if (lid3.y >= rows) { return; }
  let a = perm[start + lid3.y];
  let scale = weights[a];
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + lid3.x * 4u + j;
    if (n < params.Im) { act[a * params.Im + n] = scale * silu(gate[j]) * up[j]; }
  }
}
