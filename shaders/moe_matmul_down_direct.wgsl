// Prefill without workgroup memory: moe_matmul_down.wgsl's product (expert_out[a, n] =
// down_e[n] · act[a] over one expert tile's assignments) for CPU adapters (GpuContext.barrierFree),
// where barriers are very costly (ARCHITECTURE.md).
// Reference: src/reference/moe.ts moeExpertDown (before its sum over slots) over decodeRows(W).
// Dispatch: (ceil(ceil(N / 4) / WG), max_tiles, EXPERT_TILE / 4) per part. Each invocation computes 4
// assignments (rows 4·z.. of tile y) x 4 outputs over the whole of K, as
// moe_matmul_gate_up_direct.wgsl. Consts: WG.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T * topk, K] act
@group(0) @binding(2) var<storage, read> perm: array<u32>;           // [T * topk] grouped by expert
@group(0) @binding(3) var<storage, read> tiles: array<u32>;          // [1 + 3 * max_tiles]
@group(0) @binding(4) var<storage, read> w: array<WWord>;            // [expert_count · N, row_vecs]
@group(0) @binding(5) var<storage, read> scales: array<u32>;         // [expert_count · N, scale_words] (q8/q4)
@group(0) @binding(6) var<storage, read_write> expert_out: array<f32>; // [T * topk, N]

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

fn store(r: u32, rows: u32, start: u32, n0: u32, v: vec4<f32>) {
  if (r >= rows) { return; }
  let a = perm[start + r];
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < params.N) { expert_out[a * params.N + n0 + j] = v[j]; }
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
  if (r0 >= rows || n0 >= params.N) { return; }
  // Outputs past N and assignments past the tile repeat the last one and are not stored.
  let w_row = (e - params.expert_start) * params.N + min(vec4<u32>(n0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(params.N - 1u));
  let last = rows - 1u;
  let xa = perm[start + r0] * params.K;
  let xb = perm[start + min(r0 + 1u, last)] * params.K;
  let xc = perm[start + min(r0 + 2u, last)] * params.K;
  let xd = perm[start + min(r0 + 3u, last)] * params.K;
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  for (var u = 0u; u < params.units; u++) {
    let k = u * 32u;
    let r = rows_at(w_row, u);
    a0 += quad(r, x_unit(xa, k)); a1 += quad(r, x_unit(xb, k)); a2 += quad(r, x_unit(xc, k)); a3 += quad(r, x_unit(xd, k));
  }
  store(r0, rows, start, n0, a0);
  store(r0 + 1u, rows, start, n0, a1);
  store(r0 + 2u, rows, start, n0, a2);
  store(r0 + 3u, rows, start, n0, a3);
}
