// Embedding gather: out[t, :] = E[ids[t], :] for the ids that fall in this weight part, decoded
// from any weight format (the w_unit prelude). Reference: decodeRows of the gathered rows.
// A vocabulary larger than one storage binding is split into parts by rows; the gather runs once
// per part and each token is written by the part that holds it.
// Dispatch: (ceil(units / WG), T); one lane per 32-value unit of a row.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;            // [T]
@group(0) @binding(2) var<storage, read> w: array<WWord>;            // [rows, row_vecs], rows row_start.. of the vocabulary
@group(0) @binding(3) var<storage, read> scales: array<u32>;         // [rows, scale_words] f16 pairs (q8/q4)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;      // [T, H]

fn put(at: u32, k: u32, v: vec4<F>, s: F) {
  let c = vec4<f32>(v * s);
  for (var i = 0u; i < 4u; i++) {
    if (k + i < params.H) { out[at + k + i] = c[i]; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let u = gid.x;
  let t = gid.y;
  if (u >= params.units) { return; }
  let id = ids[params.ids_offset + t];
  if (id < params.row_start || id >= params.row_start + params.rows) { return; }
  let r = id - params.row_start;
  let wu = w_unit(r * params.row_vecs + u * UNIT_WORDS, r * params.scale_words, u);
  let at = t * params.H;
  let k = u * 32u;
  put(at, k, wu.c0, wu.scale); put(at, k + 4u, wu.c1, wu.scale); put(at, k + 8u, wu.c2, wu.scale); put(at, k + 12u, wu.c3, wu.scale);
  put(at, k + 16u, wu.c4, wu.scale); put(at, k + 20u, wu.c5, wu.scale); put(at, k + 24u, wu.c6, wu.scale); put(at, k + 28u, wu.c7, wu.scale);
}
