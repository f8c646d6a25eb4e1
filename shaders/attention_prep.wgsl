// Full-attention inputs, one token-head per workgroup: RMSNorm of each q and k head (q_norm /
// k_norm; Qwen3.5's zero-centred weights arrive stored as 1 + w), rotary embedding on the first
// 2 * rot_half dims (all of them for Qwen3-VL), then q goes to its own buffer while k (and the
// untouched v) go into the KV cache at row cache_pos + t. Reference: src/reference rmsNorm + ropeInPlace.
// Specialised on OUTPUT_GATE (1: each q head's D rows are followed by D gate rows, Qwen3.5; 0: none).
// The rope table holds (cos, sin) per token and frequency, built on the CPU from the M-RoPE
// positions (so every axis rule lives in one place, and no large-angle sin/cos runs on the GPU).
// Dispatch: (nq + nkv, T); heads 0..nq-1 are queries, nq.. are key/value heads.
// #include "lib/reduce.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> qkv: array<f32>;           // [T, qkv_stride]: per q head [q(D) | gate(D) if OUTPUT_GATE], then k [nkv*D], v [nkv*D]
@group(0) @binding(3) var<storage, read> q_norm: array<f32>;        // [D]
@group(0) @binding(4) var<storage, read> k_norm: array<f32>;        // [D]
@group(0) @binding(5) var<storage, read> rope: array<f32>;          // [T, rot_half, 2]
@group(0) @binding(6) var<storage, read_write> q_out: array<f32>;   // [T, nq, D]
@group(0) @binding(7) var<storage, read_write> k_cache: array<f32>; // [max_ctx, nkv, D]
@group(0) @binding(8) var<storage, read_write> v_cache: array<f32>; // [max_ctx, nkv, D]

var<workgroup> normed: array<f32, HEAD_DIM>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let head = wid.x;
  let t = wid.y;
  let is_query = head < params.nq;
  let kv_head = head - select(params.nq, 0u, is_query);
  let row = t * params.qkv_stride;
  let src = select(row + params.k_offset + kv_head * HEAD_DIM, row + head * (1u + OUTPUT_GATE) * HEAD_DIM, is_query);

  var sum_sq = 0.0;
  for (var d = lid; d < HEAD_DIM; d += WG) {
    let v = qkv[src + d];
    sum_sq += v * v;
  }
  let inv_rms = inverseSqrt(workgroup_sum(sum_sq, lid) / f32(HEAD_DIM) + params.eps);
  for (var d = lid; d < HEAD_DIM; d += WG) {
    let w = select(k_norm[d], q_norm[d], is_query);
    normed[d] = qkv[src + d] * inv_rms * w;
  }
  workgroupBarrier();

  let cache_row = ((step.cache_pos + t) * params.nkv + kv_head) * HEAD_DIM;
  let dst = select(cache_row, (t * params.nq + head) * HEAD_DIM, is_query);
  let half = params.rot_half;
  for (var d = lid; d < HEAD_DIM; d += WG) {
    var v = normed[d];
    if (d < 2u * half) {
      let i = d % half;
      let cs = vec2<f32>(rope[(t * half + i) * 2u], rope[(t * half + i) * 2u + 1u]);
      // rotate_half: the first half pairs with -x[d + half], the second with +x[d - half].
      var partner: f32;
      if (d < half) { partner = -normed[d + half]; } else { partner = normed[d - half]; }
      v = v * cs.x + partner * cs.y;
    }
    if (is_query) {
      q_out[dst + d] = v;
    } else {
      k_cache[dst + d] = v;
      v_cache[dst + d] = qkv[row + params.v_offset + kv_head * HEAD_DIM + d];
    }
  }
}
