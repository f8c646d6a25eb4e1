// Visual rows into the residual stream at their placeholder rows: for each map entry i of this
// dispatch, out[map[i].row - row_base] = src[map[i].src] (ACCUMULATE 0: the vision tower's
// embeddings replacing token embeddings) or += (ACCUMULATE 1: a Qwen3-VL DeepStack level after its
// decoder layer). Rows are distinct, so no two lanes write one element.
// Reference: a row copy / add (src/reference/model.ts, deepstack). Dispatch: (ceil(H / WG), count).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> map: array<vec2<u32>>;     // [entries] (prompt row, source row), sorted by prompt row
@group(0) @binding(2) var<storage, read> src: array<f32>;           // [.., H], rows from src_offset
@group(0) @binding(3) var<storage, read_write> out: array<f32>;     // [T, H] rows of this prefill chunk

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= params.H || gid.y >= params.count) { return; }
  let entry = map[params.map_offset + gid.y];
  let value = src[params.src_offset + entry.y * params.H + j];
  let at = (entry.x - params.row_base) * params.H + j;
  if (ACCUMULATE == 1u) { out[at] += value; } else { out[at] = value; }
}
