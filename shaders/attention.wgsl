// Causal softmax attention with GQA over the KV cache, with Qwen3.5's sigmoid output gate when
// OUTPUT_GATE is 1 (Qwen3-VL has none):
// out[t, h] = softmax(q[t,h] . K[0..p]^T * scale) V[0..p] (* sigmoid(gate[t,h])), p = cache_pos + t.
// Reference: src/reference gatedAttention. Serves decode (T = 1) and prefill alike: one workgroup
// per (query head, token) streams the cache in tiles of WG positions with an online softmax
// (running max and sum), so any context length fits in fixed workgroup memory.
// Dispatch: (nq, T). Each lane owns output dims lid, lid + WG, ... (DIMS_PER_LANE of them).
// #include "lib/reduce.wgsl"
// #include "lib/activations.wgsl"

const DIMS_PER_LANE: u32 = (HEAD_DIM + WG - 1u) / WG;
const NEG_BIG: f32 = -3.0e38;  // a finite -inf: WGSL does not promise IEEE infinities

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> q: array<f32>;             // [T, nq, D]
@group(0) @binding(3) var<storage, read> k_cache: array<f32>;       // [max_ctx, nkv, D]
@group(0) @binding(4) var<storage, read> v_cache: array<f32>;       // [max_ctx, nkv, D]
@group(0) @binding(5) var<storage, read> qkv: array<f32>;           // [T, qkv_stride]; with OUTPUT_GATE, gate of head h at h*2D + D
@group(0) @binding(6) var<storage, read_write> out: array<f32>;     // [T, nq * D]

var<workgroup> q_head: array<f32, HEAD_DIM>;
var<workgroup> probs: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let t = wid.y;
  let kv_head = h / (params.nq / params.nkv);
  let kv_len = step.cache_pos + t + 1u;
  for (var d = lid; d < HEAD_DIM; d += WG) { q_head[d] = q[(t * params.nq + h) * HEAD_DIM + d]; }
  workgroupBarrier();

  var running_max = NEG_BIG;
  var running_sum = 0.0;
  var acc: array<f32, DIMS_PER_LANE>;
  for (var tile = 0u; tile < kv_len; tile += WG) {
    let pos = tile + lid;
    var score = NEG_BIG;
    if (pos < kv_len) {
      let k_row = (pos * params.nkv + kv_head) * HEAD_DIM;
      var dot = 0.0;
      for (var d = 0u; d < HEAD_DIM; d++) { dot += q_head[d] * k_cache[k_row + d]; }
      score = dot * params.scale;
    }
    let new_max = max(running_max, workgroup_max(score, lid));
    let p = select(0.0, exp(score - new_max), pos < kv_len);
    probs[lid] = p;
    let correction = exp(running_max - new_max);
    running_sum = running_sum * correction + workgroup_sum(p, lid);
    running_max = new_max;
    let count = min(WG, kv_len - tile);
    for (var i = 0u; i < DIMS_PER_LANE; i++) {
      let d = lid + i * WG;
      if (d >= HEAD_DIM) { break; }
      var a = acc[i] * correction;
      for (var j = 0u; j < count; j++) { a += probs[j] * v_cache[((tile + j) * params.nkv + kv_head) * HEAD_DIM + d]; }
      acc[i] = a;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < DIMS_PER_LANE; i++) {
    let d = lid + i * WG;
    if (d >= HEAD_DIM) { break; }
    var o = acc[i] / running_sum;
    if (OUTPUT_GATE == 1u) { o *= sigmoid(qkv[t * params.qkv_stride + h * 2u * HEAD_DIM + HEAD_DIM + d]); }
    out[(t * params.nq + h) * HEAD_DIM + d] = o;
  }
}
