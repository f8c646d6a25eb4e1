// Bidirectional softmax attention of the vision tower, restricted to segments (one image, or one
// temporal group of a video): out[n, h] = softmax(q_n . K_seg^T * scale) V_seg for the keys of
// patch n's segment [seg[n].x, seg[n].y).
// Reference: src/reference/vision-ops segmentAttention. One lane per query patch, WG consecutive
// patches and one head per workgroup: key and value tiles of KEY_TILE patches are staged in
// workgroup memory and every lane folds them into its own online softmax (running max and sum),
// so a segment of any length fits fixed memory. The workgroup walks the union of its patches'
// segments (contiguous, since patches are in segment order); each lane skips keys outside its own.
// Consts: HEAD_DIM, KEY_TILE (KEY_TILE * HEAD_DIM * 8 bytes of workgroup memory).
// Dispatch: (ceil(N / WG), heads).

const NEG_BIG: f32 = -3.0e38;  // a finite -inf: WGSL does not promise IEEE infinities

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> seg: array<vec2<u32>>;    // [N] segment [start, end) of each patch
@group(0) @binding(2) var<storage, read> qkv: array<f32>;          // [N, 3, heads, HEAD_DIM], q and k rotated
@group(0) @binding(3) var<storage, read_write> out: array<f32>;    // [N, heads * HEAD_DIM]

var<workgroup> k_tile: array<f32, KEY_TILE * HEAD_DIM>;
var<workgroup> v_tile: array<f32, KEY_TILE * HEAD_DIM>;
var<workgroup> span: vec2<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.y;
  let first = wid.x * WG;
  let n = first + lid;
  let valid = n < params.N;
  let width = params.heads * HEAD_DIM;
  let stride = 3u * width;
  if (lid == 0u) { span = vec2<u32>(seg[first].x, seg[min(first + WG, params.N) - 1u].y); }
  let keys = workgroupUniformLoad(&span);

  var q: array<f32, HEAD_DIM>;
  var acc: array<f32, HEAD_DIM>;
  var scores: array<f32, KEY_TILE>;
  var own = vec2<u32>(0u, 0u);
  if (valid) {
    own = seg[n];
    for (var d = 0u; d < HEAD_DIM; d++) { q[d] = qkv[n * stride + h * HEAD_DIM + d] * params.scale; }
  }
  var running_max = NEG_BIG;
  var running_sum = 0.0;
  for (var tile = keys.x; tile < keys.y; tile += KEY_TILE) {
    let count = min(KEY_TILE, keys.y - tile);
    for (var i = lid; i < count * HEAD_DIM; i += WG) {
      let src = (tile + i / HEAD_DIM) * stride + h * HEAD_DIM + i % HEAD_DIM;
      k_tile[i] = qkv[src + width];
      v_tile[i] = qkv[src + 2u * width];
    }
    workgroupBarrier();
    if (valid) {
      var tile_max = NEG_BIG;
      for (var j = 0u; j < count; j++) {
        let key = tile + j;
        var s = NEG_BIG;
        if (key >= own.x && key < own.y) {
          s = 0.0;
          for (var d = 0u; d < HEAD_DIM; d++) { s += q[d] * k_tile[j * HEAD_DIM + d]; }
        }
        scores[j] = s;
        tile_max = max(tile_max, s);
      }
      if (tile_max > NEG_BIG) {
        let new_max = max(running_max, tile_max);
        let correction = exp(running_max - new_max);
        running_sum *= correction;
        for (var d = 0u; d < HEAD_DIM; d++) { acc[d] *= correction; }
        for (var j = 0u; j < count; j++) {
          if (scores[j] == NEG_BIG) { continue; }
          let p = exp(scores[j] - new_max);
          running_sum += p;
          for (var d = 0u; d < HEAD_DIM; d++) { acc[d] += p * v_tile[j * HEAD_DIM + d]; }
        }
        running_max = new_max;
      }
    }
    workgroupBarrier();
  }
  if (valid) {
    for (var d = 0u; d < HEAD_DIM; d++) { out[n * width + h * HEAD_DIM + d] = acc[d] / running_sum; }
  }
}
