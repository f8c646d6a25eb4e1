// Embedding gather: out[t, :] = E[ids[t], :] for the ids that fall in this weight part.
// Reference: a plain row copy. A vocabulary larger than one storage binding is split into parts
// by rows; the gather runs once per part and each token is written by the part that holds it.
// Dispatch: (ceil(K2 / WG), T); one lane per pair of hidden values.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;            // [T]
@group(0) @binding(2) var<storage, read> table: array<WPair>;        // [rows, K2], rows row_start.. of the vocabulary
@group(0) @binding(3) var<storage, read_write> out: array<f32>;      // [T, H]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  let t = gid.y;
  if (p >= params.K2) { return; }
  let id = ids[params.ids_offset + t];
  if (id < params.row_start || id >= params.row_start + params.rows) { return; }
  let v = w_pair(table[(id - params.row_start) * params.K2 + p]);
  let k = 2u * p;
  out[t * params.H + k] = v.x;
  if (k + 1u < params.H) { out[t * params.H + k + 1u] = v.y; }
}
