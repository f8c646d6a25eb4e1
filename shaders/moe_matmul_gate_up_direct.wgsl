// Prefill without workgroup memory: moe_matmul_gate_up.wgsl's product (act[a, i] = weights[a] ·
// silu(gate_e · x_t) · (up_e · x_t) over one expert tile's assignments) for CPU adapters
// (GpuContext.barrierFree), where barriers are very costly (ARCHITECTURE.md).
// Reference: src/reference/moe.ts moeExpertGateUp over decodeRows(W); weights in any format.
// Dispatch: (ceil(ceil(Im / 4) / WG), max_tiles, EXPERT_TILE / 4) per part. Each invocation computes 4
// assignments (rows 4·z.. of tile y) x 4 outputs over the whole of K: every decoded weight unit
// serves 4 assignments and every x unit 8 rows (4 gate, 4 up). Workgroups past the tile count, of
// a tile in another part or past its rows return at once. Consts: WG.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T, K]
@group(0) @binding(2) var<storage, read> weights: array<f32>;        // [T * topk]
@group(0) @binding(3) var<storage, read> perm: array<u32>;           // [T * topk] grouped by expert
@group(0) @binding(4) var<storage, read> tiles: array<u32>;          // [1 + 3 * max_tiles]
@group(0) @binding(5) var<storage, read> w: array<WWord>;            // [expert_count · 2Im, row_vecs]
@group(0) @binding(6) var<storage, read> scales: array<u32>;         // [expert_count · 2Im, scale_words] (q8/q4)
@group(0) @binding(7) var<storage, read_write> act: array<f32>;      // [T * topk, Im]

// #include "lib/activations.wgsl"
// #include "lib/x_unit.wgsl"

struct Rows { r0: WUnit, r1: WUnit, r2: WUnit, r3: WUnit }

fn rows_at(row: vec4<u32>, u: u32) -> Rows {
  let at = u * UNIT_WORDS;
  return Rows(w_unit(row.x * params.row_vecs + at, row.x * params.scale_words, u), w_unit(row.y * params.row_vecs + at, row.y * params.scale_words, u),
              w_unit(row.z * params.row_vecs + at, row.z * params.scale_words, u), w_unit(row.w * params.row_vecs + at, row.w * params.scale_words, u));
}

fn quad(r: Rows, xu: XUnit) -> vec4<f32> {
  return vec4<f32>(unit_dot(r.r0, xu), unit_dot(r.r1, xu), unit_dot(r.r2, xu), unit_dot(r.r3, xu));
}

fn store(r: u32, rows: u32, start: u32, n0: u32, gate: vec4<f32>, up: vec4<f32>) {
  if (r >= rows) { return; }
  let a = perm[start + r];
  let v = weights[a] * vec4<f32>(silu(gate.x), silu(gate.y), silu(gate.z), silu(gate.w)) * up;
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < params.Im) { act[a * params.Im + n0 + j] = v[j]; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tile = wid.y;
  if (tile >= tiles[0]) { return; }
  let e = tiles[1u + 3u * tile];
  if (e < params.expert_start || e >= params.expert_start + params.expert_count) { return; }
  let start = tiles[2u + 3u * tile];
  let rows = tiles[3u + 3u * tile] - start;
  let r0 = 4u * wid.z;
  let n0 = 4u * gid.x;
  if (r0 >= rows || n0 >= params.Im) { return; }
  // Outputs past Im and assignments past the tile repeat the last one and are not stored.
  let gate_row = (e - params.expert_start) * 2u * params.Im + min(vec4<u32>(n0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(params.Im - 1u));
  let up_row = gate_row + vec4<u32>(params.Im);
  let last = rows - 1u;
  let xa = (perm[start + r0] / params.topk) * params.K;
  let xb = (perm[start + min(r0 + 1u, last)] / params.topk) * params.K;
  let xc = (perm[start + min(r0 + 2u, last)] / params.topk) * params.K;
  let xd = (perm[start + min(r0 + 3u, last)] / params.topk) * params.K;
  var ga = vec4<f32>(0.0); var gb = vec4<f32>(0.0); var gc = vec4<f32>(0.0); var gd = vec4<f32>(0.0);
  var ua = vec4<f32>(0.0); var ub = vec4<f32>(0.0); var uc = vec4<f32>(0.0); var ud = vec4<f32>(0.0);
  for (var u = 0u; u < params.units; u++) {
    let k = u * 32u;
    let x0 = x_unit(xa, k); let x1 = x_unit(xb, k); let x2 = x_unit(xc, k); let x3 = x_unit(xd, k);
    let g = rows_at(gate_row, u);
    ga += quad(g, x0); gb += quad(g, x1); gc += quad(g, x2); gd += quad(g, x3);
    let v = rows_at(up_row, u);
    ua += quad(v, x0); ub += quad(v, x1); uc += quad(v, x2); ud += quad(v, x3);
  }
  store(r0, rows, start, n0, ga, ua);
  store(r0 + 1u, rows, start, n0, gb, ub);
  store(r0 + 2u, rows, start, n0, gc, uc);
  store(r0 + 3u, rows, start, n0, gd, ud);
}
