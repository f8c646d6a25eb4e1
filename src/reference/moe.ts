// The sparse MoE block (Qwen3_5MoeSparseMoeBlock) and the pieces the GPU kernels compute.
// T = tokens, H = hidden, E = experts, k = experts per token, Im = expert width, Is = shared-expert
// width. An assignment a = t·k + slot is one (token, chosen expert) pair; slots are in top-k order.
import { sigmoid, silu } from './activations.ts';
import { matmul } from './matmul.ts';

export interface Routing {
  ids: Uint32Array;     // [T, k] chosen experts, most probable first
  weights: Float32Array; // [T, k] their renormalised probabilities
}

/**
 * Qwen3_5MoeTopKRouter after the logits: softmax over all E experts in float32, the k largest
 * probabilities (exact ties go to the lower expert index), divided by their sum.
 */
export function moeRoute(logits: Float32Array, T: number, E: number, k: number): Routing {
  const ids = new Uint32Array(T * k);
  const weights = new Float32Array(T * k);
  const probs = new Float32Array(E);
  for (let t = 0; t < T; t++) {
    const row = logits.subarray(t * E, (t + 1) * E);
    let max = -Infinity;
    for (const l of row) max = Math.max(max, l);
    let sum = 0;
    for (let e = 0; e < E; e++) sum += (probs[e] = Math.fround(Math.exp(row[e] - max)));
    for (let e = 0; e < E; e++) probs[e] = Math.fround(probs[e] / Math.fround(sum));
    const taken = new Set<number>();
    let picked = 0;
    for (let slot = 0; slot < k; slot++) {
      let best = -1;
      for (let e = 0; e < E; e++) if (!taken.has(e) && (best < 0 || probs[e] > probs[best])) best = e;
      taken.add(best);
      ids[t * k + slot] = best;
      picked += probs[best];
    }
    for (let slot = 0; slot < k; slot++) weights[t * k + slot] = probs[ids[t * k + slot]] / Math.fround(picked);
  }
  return { ids, weights };
}

export interface ExpertTile {
  expert: number;
  /** [start, end) positions in perm: at most tileRows assignments of this expert. */
  start: number;
  end: number;
}

export interface ExpertGroups {
  /** [E + 1] where each expert's assignments start in perm; offsets[E] = T·k. */
  offsets: Uint32Array;
  /** [T·k] assignment indices grouped by expert, in assignment order within an expert. */
  perm: Uint32Array;
  /** The prefill matmuls' work list: each non-empty expert's assignments in blocks of tileRows. */
  tiles: ExpertTile[];
}

/** Counting sort of the assignments by expert (the GPU orders each expert's list arbitrarily). */
export function moeGroup(ids: Uint32Array, E: number, tileRows: number): ExpertGroups {
  const offsets = new Uint32Array(E + 1);
  for (const e of ids) offsets[e + 1]++;
  for (let e = 0; e < E; e++) offsets[e + 1] += offsets[e];
  const fill = offsets.slice(0, E);
  const perm = new Uint32Array(ids.length);
  ids.forEach((e, a) => (perm[fill[e]++] = a));
  const tiles: ExpertTile[] = [];
  for (let e = 0; e < E; e++) {
    for (let start = offsets[e]; start < offsets[e + 1]; start += tileRows) tiles.push({ expert: e, start, end: Math.min(start + tileRows, offsets[e + 1]) });
  }
  return { offsets, perm, tiles };
}

/** Most tiles moeGroup can make: every full block, plus one partial block per non-empty expert. */
export function maxExpertTiles(assignments: number, E: number, tileRows: number): number {
  return Math.floor(assignments / tileRows) + Math.min(E, assignments);
}

/**
 * The shared expert's activation, scaled by its gate: sigmoid(g[t]) · silu(gate[t, i]) · up[t, i],
 * read from the fused projection row [router logits (E) | g (1) | gate (Is) | up (Is)] of width P.
 * Scaling before down_proj equals scaling after it (down_proj is linear).
 */
export function moeSharedActivation(proj: Float32Array, T: number, P: number, E: number, Is: number): Float32Array {
  const out = new Float32Array(T * Is);
  for (let t = 0; t < T; t++) {
    const row = t * P;
    const gate = sigmoid(proj[row + E]);
    for (let i = 0; i < Is; i++) out[t * Is + i] = gate * silu(proj[row + E + 1 + i]) * proj[row + E + 1 + Is + i];
  }
  return out;
}

/**
 * act[a, i] = w[a] · silu(gate_e · x_t) · (up_e · x_t) for each assignment a = (t, e): the chosen
 * experts' gate/up projections with SwiGLU, premultiplied by the routing weight.
 * x [T, H], gateUp [E, 2Im, H] (rows 0..Im-1 gate, Im..2Im-1 up). Returns [T·k, Im].
 */
export function moeExpertGateUp(x: Float32Array, routing: Routing, gateUp: Float32Array, T: number, k: number, H: number, Im: number): Float32Array {
  const act = new Float32Array(T * k * Im);
  for (let a = 0; a < T * k; a++) {
    const e = routing.ids[a];
    const t = Math.floor(a / k);
    const gu = matmul(x.subarray(t * H, (t + 1) * H), gateUp.subarray(e * 2 * Im * H, (e + 1) * 2 * Im * H), 1, 2 * Im, H);
    for (let i = 0; i < Im; i++) act[a * Im + i] = routing.weights[a] * silu(gu[i]) * gu[Im + i];
  }
  return act;
}

/** y[t, h] = Σ_slot down_e[h] · act[t·k + slot]: the chosen experts' down projections, summed. down [E, H, Im]. */
export function moeExpertDown(act: Float32Array, ids: Uint32Array, down: Float32Array, T: number, k: number, H: number, Im: number): Float32Array {
  const y = new Float32Array(T * H);
  for (let a = 0; a < T * k; a++) {
    const e = ids[a];
    const t = Math.floor(a / k);
    const part = matmul(act.subarray(a * Im, (a + 1) * Im), down.subarray(e * H * Im, (e + 1) * H * Im), 1, H, Im);
    for (let h = 0; h < H; h++) y[t * H + h] += part[h];
  }
  return y;
}

export interface MoeBlockWeights {
  router: Float32Array;          // [E, H]
  gateUp: Float32Array;          // [E, 2Im, H]
  down: Float32Array;            // [E, H, Im]
  sharedGateUp: Float32Array;    // [2Is, H]: gate_proj rows, then up_proj rows
  sharedDown: Float32Array;      // [H, Is]
  sharedExpertGate: Float32Array; // [1, H]
}

export interface MoeDims {
  H: number;
  E: number;
  k: number;
  Im: number;
  Is: number;
}

/**
 * The block as transformers writes it: route, run each chosen expert's SwiGLU MLP, weight and sum
 * them, add the shared expert times sigmoid(shared_expert_gate(x)). xn [T, H] → [T, H].
 */
export function sparseMoeBlock(xn: Float32Array, w: MoeBlockWeights, T: number, d: MoeDims): Float32Array {
  const { H, E, k, Im, Is } = d;
  const routing = moeRoute(matmul(xn, w.router, T, E, H), T, E, k);
  const out = new Float32Array(T * H);
  for (let t = 0; t < T; t++) {
    const x = xn.subarray(t * H, (t + 1) * H);
    for (let slot = 0; slot < k; slot++) {
      const e = routing.ids[t * k + slot];
      const gu = matmul(x, w.gateUp.subarray(e * 2 * Im * H, (e + 1) * 2 * Im * H), 1, 2 * Im, H);
      const act = Float32Array.from({ length: Im }, (_, i) => silu(gu[i]) * gu[Im + i]);
      const y = matmul(act, w.down.subarray(e * H * Im, (e + 1) * H * Im), 1, H, Im);
      for (let h = 0; h < H; h++) out[t * H + h] += routing.weights[t * k + slot] * y[h];
    }
    const gu = matmul(x, w.sharedGateUp, 1, 2 * Is, H);
    const act = Float32Array.from({ length: Is }, (_, i) => silu(gu[i]) * gu[Is + i]);
    const shared = matmul(act, w.sharedDown, 1, H, Is);
    const gate = sigmoid(matmul(x, w.sharedExpertGate, 1, 1, H)[0]);
    for (let h = 0; h < H; h++) out[t * H + h] += gate * shared[h];
  }
  return out;
}
