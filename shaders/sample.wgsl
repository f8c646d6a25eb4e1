// Token sampling on the GPU, so a decode step reads back only the chosen id.
// Reference: src/reference sampleToken, which defines the semantics this kernel must match:
//   1. penalties on tokens seen so far (counts): repetition (HF: l > 0 ? l / r : l * r), presence
//      (l - p), frequency (l - f * count);
//   2. greedy (temperature 0): argmax, lowest id on ties;
//   3. otherwise l / temperature; keep the top_k largest (0 = all; ties at the k-th value kept);
//      then the smallest highest-first set whose probability mass reaches top_p; then draw by
//      inverse CDF over the kept tokens in descending order with u = hash(step.seed).
// Every threshold is found exactly by a 32-step bitwise search over order-preserving u32 keys of
// the logits, each step one counting/summing pass over the vocabulary: no sort, no scratch.
// Dispatch: 1 workgroup of WG lanes. Writes token[0] and bumps counts[token].
// #include "lib/reduce.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> logits: array<f32>;          // [V]
@group(0) @binding(3) var<storage, read_write> counts: array<u32>;    // [V] occurrences so far
@group(0) @binding(4) var<storage, read_write> token: array<u32>;     // [1] the sampled id

var<workgroup> best_ids: array<u32, WG>;

fn adjusted(i: u32) -> f32 {
  var l = logits[i];
  let c = counts[i];
  if (c > 0u) {
    l = select(l * params.repetition_penalty, l / params.repetition_penalty, l > 0.0);
    l -= params.presence_penalty + params.frequency_penalty * f32(c);
  }
  return select(l / params.temperature, l, params.temperature == 0.0);
}

// Order-preserving map from f32 to u32: larger floats get larger keys.
fn key_of(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// Sum over kept tokens with key >= at_least of exp(l - top) (or of 1 when counting).
fn mass_at_least(at_least: u32, keep_from: u32, top: f32, count_only: bool, lid: u32) -> f32 {
  var acc = 0.0;
  for (var i = lid; i < params.V; i += WG) {
    let l = adjusted(i);
    let k = key_of(l);
    if (k >= at_least && k >= keep_from) { acc += select(exp(l - top), 1.0, count_only); }
  }
  return workgroup_sum(acc, lid);
}

// Largest key threshold whose mass (or count) of tokens at or above it is still >= wanted.
fn threshold_for(wanted: f32, keep_from: u32, top: f32, count_only: bool, lid: u32) -> u32 {
  var found = 0u;
  for (var bit = 31i; bit >= 0i; bit--) {
    let candidate = found | (1u << u32(bit));
    if (mass_at_least(candidate, keep_from, top, count_only, lid) >= wanted) { found = candidate; }
  }
  return found;
}

fn hash_uniform(seed: u32) -> f32 {
  // PCG output permutation: a well-mixed 32-bit value, then its top 24 bits as a float in [0, 1).
  var s = seed * 747796405u + 2891336453u;
  s = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  s = (s >> 22u) ^ s;
  return f32(s >> 8u) / 16777216.0;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  // Argmax (also the top value for the softmax below); lowest id wins ties.
  var best = -3.0e38;
  var best_id = 0xffffffffu;
  for (var i = lid; i < params.V; i += WG) {
    let l = adjusted(i);
    if (l > best) { best = l; best_id = i; }
  }
  let top = workgroup_max(best, lid);
  best_ids[lid] = select(0xffffffffu, best_id, best == top);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { best_ids[lid] = min(best_ids[lid], best_ids[lid + s]); }
    workgroupBarrier();
  }
  var chosen = best_ids[0];

  if (params.temperature != 0.0) {
    var keep_from = 0u;
    if (params.top_k > 0u && params.top_k < params.V) {
      keep_from = threshold_for(f32(params.top_k), 0u, top, true, lid);
    }
    let total = mass_at_least(0u, keep_from, top, false, lid);
    if (params.top_p < 1.0) {
      keep_from = threshold_for(params.top_p * total, keep_from, top, false, lid);
    }
    let kept_total = mass_at_least(0u, keep_from, top, false, lid);
    let u = hash_uniform(step.seed);
    // The drawn token is the one whose descending cumulative mass first exceeds u * kept_total.
    let drawn_key = threshold_for(max(u * kept_total, 1e-30), keep_from, top, false, lid);
    best_ids[lid] = 0xffffffffu;
    for (var i = lid; i < params.V; i += WG) {
      if (key_of(adjusted(i)) == drawn_key) { best_ids[lid] = min(best_ids[lid], i); }
    }
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
      if (lid < s) { best_ids[lid] = min(best_ids[lid], best_ids[lid + s]); }
      workgroupBarrier();
    }
    chosen = best_ids[0];
  }
  if (lid == 0u) {
    token[0] = chosen;
    counts[chosen] += 1u;
  }
}
