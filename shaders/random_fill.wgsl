// Deterministic pseudo-random weights generated on the GPU, for `npm run bench`: the full
// Qwen3.5 geometries without a download and without multi-GB arrays on the CPU.
// Reference: src/reference/random.ts (same hash, same words). Word i of the buffer gets
//   MODE 0 (f32): one value, 1 (f16): two values packed as halves, 2 (q8): four random signed
//   bytes, 3 (q4): eight random nibbles, 4 (scales): two positive f16 scales in [scale/2, 3 scale/2];
// values are uniform in [-scale, scale). Columns past `cols` of a stored row get the format's zero,
// as the loader pads them. Dispatch: grid(ceil(words / WG)).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;      // [rows, row_words]

fn hash(v: u32) -> u32 {
  var h = v;
  h ^= h >> 16u; h *= 0x7feb352du;
  h ^= h >> 15u; h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

fn signed_unit(bits: u32) -> f32 {
  return (f32(bits >> 8u) / 16777216.0) * 2.0 - 1.0;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.words) { return; }
  let h = hash(hash(i) ^ params.seed);
  let col = (i % params.row_words) * select(select(select(1u, 2u, MODE == 1u), 4u, MODE == 2u), 8u, MODE == 3u);
  if (MODE == 0u) {
    out[i] = select(0u, bitcast<u32>(params.scale * signed_unit(h)), col < params.cols);
  } else if (MODE == 1u) {
    let v = vec2<f32>(signed_unit(h), signed_unit(hash(h))) * params.scale;
    out[i] = pack2x16float(select(vec2<f32>(0.0), v, vec2<u32>(col, col + 1u) < vec2<u32>(params.cols)));
  } else if (MODE == 2u) {
    var word = 0u;
    for (var j = 0u; j < 4u; j++) { word |= select(0u, h & (0xffu << (8u * j)), col + j < params.cols); }
    out[i] = word;
  } else if (MODE == 3u) {
    // Column 8w + j is nibble j of byte j % 4 (low for j < 4, high otherwise); zero is code 8.
    var word = 0u;
    for (var j = 0u; j < 8u; j++) {
      let shift = 8u * (j % 4u) + 4u * (j / 4u);
      word |= select(8u, (h >> shift) & 15u, col + j < params.cols) << shift;
    }
    out[i] = word;
  } else {
    out[i] = pack2x16float(params.scale * (vec2<f32>(1.0) + 0.5 * vec2<f32>(signed_unit(h), signed_unit(hash(h)))));
  }
}
