// Groups a prefill's n = T·TOPK assignments (a = t·TOPK + slot, expert ids[a]) by expert for the
// per-expert matmuls: a counting sort into perm, and the work list of tiles, each a run of at most
// TM positions of perm that belong to one expert. Each expert's run is in arbitrary order (atomic
// cursors); no result depends on it, since every assignment's output row is computed alone.
// Reference: src/reference/moe.ts moeGroup. Cost O(n + E): one workgroup reads each id twice.
// Dispatch: one workgroup of WG lanes. Consts: E, TM, WG.
// tiles: [0] = tile count, then (expert, start, end) per tile; room for floor(n / TM) + min(E, n).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;            // [n]
@group(0) @binding(2) var<storage, read_write> perm: array<u32>;     // [n] assignments grouped by expert
@group(0) @binding(3) var<storage, read_write> tiles: array<u32>;    // [1 + 3 * max_tiles]

var<workgroup> counts: array<atomic<u32>, E>;
var<workgroup> starts: array<u32, E>;       // first position of each expert in perm
var<workgroup> first_tile: array<u32, E>;   // its first tile

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  for (var a = lid; a < params.n; a += WG) { atomicAdd(&counts[ids[a]], 1u); }
  workgroupBarrier();
  // E is a few hundred at most: a serial scan costs less than a barrier-heavy parallel one.
  if (lid == 0u) {
    var position = 0u;
    var tile = 0u;
    for (var e = 0u; e < E; e++) {
      let count = atomicLoad(&counts[e]);
      starts[e] = position;
      first_tile[e] = tile;
      position += count;
      tile += (count + TM - 1u) / TM;
    }
    tiles[0] = tile;
  }
  workgroupBarrier();
  for (var e = lid; e < E; e += WG) {
    let count = atomicLoad(&counts[e]);
    for (var j = 0u; j * TM < count; j++) {
      let at = 1u + 3u * (first_tile[e] + j);
      tiles[at] = e;
      tiles[at + 1u] = starts[e] + j * TM;
      tiles[at + 2u] = starts[e] + min((j + 1u) * TM, count);
    }
    atomicStore(&counts[e], 0u);
  }
  workgroupBarrier();
  for (var a = lid; a < params.n; a += WG) {
    let e = ids[a];
    perm[starts[e] + atomicAdd(&counts[e], 1u)] = a;
  }
}
