// Token sampling: the rule the GPU sampler (sample.wgsl) is tested against. V = vocabulary size.
import type { SamplingParams } from '../api.ts';


/**
 * Picks the next token from logits [V]; counts [V] holds how often each token occurred so far.
 * Parameters are taken as float32 and every adjusted logit is rounded to float32 after each
 * operation, as the GPU computes them, so both rank tokens identically.
 *
 * 1. Penalties, only on tokens with count c > 0: repetition as in HF (l > 0 ? l / r : l · r),
 *    then l −= presencePenalty + frequencyPenalty · c.
 * 2. temperature 0: argmax, the lowest id among equal maxima.
 * 3. Otherwise l /= temperature, and tokens are ranked by descending l, equal l by ascending id.
 *    Probabilities are softmax(l) over the tokens still kept (renormalised after each filter).
 * 4. top-k (0 or ≥ V = off): keep the tokens whose l is ≥ the k-th largest l (ties at it stay).
 * 5. top-p (< 1): walk the ranking accumulating probability; at the first token where the mass
 *    reaches topP (≥), keep it, every token before it and every token with the same l.
 * 6. Draw by inverse CDF: r = the first kept rank whose cumulative probability is ≥ uniform01
 *    (uniform01 = 0 gives rank 0; the last kept rank if rounding leaves none). Tokens with equal
 *    l act as one outcome carrying their summed probability: the result is the lowest id whose
 *    l equals that of rank r. (A threshold search over logit values, as the GPU does without
 *    sorting, cannot tell tied tokens apart; exact ties are rare in real logits.)
 */
export function sampleToken(logits: Float32Array, params: SamplingParams, counts: Uint32Array, uniform01: number): number {
  const f = Math.fround;
  const [temperature, repetition, presence, frequency] =
    [params.temperature, params.repetitionPenalty, params.presencePenalty, params.frequencyPenalty].map(f);
  const V = logits.length;
  const l = new Float32Array(V);
  for (let i = 0; i < V; i++) {
    let x = logits[i];
    const c = counts[i];
    if (c > 0) {
      x = f(x > 0 ? x / repetition : x * repetition);
      x = f(x - f(presence + f(frequency * c)));
    }
    l[i] = x;
  }
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (l[i] > l[best]) best = i;
    return best;
  }
  for (let i = 0; i < V; i++) l[i] = l[i] / temperature;
  const order = Uint32Array.from({ length: V }, (_, i) => i).sort((a, b) => l[b] - l[a] || a - b);

  let kept = V;
  if (params.topK > 0 && params.topK < V) {
    const kth = l[order[params.topK - 1]];
    kept = params.topK;
    while (kept < V && l[order[kept]] === kth) kept++;
  }

  const top = l[order[0]];
  const p = new Float64Array(kept);
  let total = 0;
  for (let r = 0; r < kept; r++) total += p[r] = Math.exp(l[order[r]] - top);

  if (params.topP < 1) {
    let mass = 0;
    let r = 0;
    while (r < kept - 1 && (mass += p[r]) < params.topP * total) r++;
    const boundary = l[order[r]];
    r++;
    while (r < kept && l[order[r]] === boundary) r++;
    kept = r;
    total = 0;
    for (let i = 0; i < kept; i++) total += p[i];
  }

  const target = uniform01 * total;
  let r = 0;
  let mass = p[0];
  while (r < kept - 1 && mass < target) mass += p[++r];
  while (r > 0 && l[order[r - 1]] === l[order[r]]) r--;
  return order[r];
}
