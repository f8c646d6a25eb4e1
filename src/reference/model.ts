// The whole Qwen3.5 dense text model, or the Qwen3-VL decoder (same config object, its differences
// as data), on the CPU, composed from the reference layers: slow and obvious, for checking the GPU
// engine layer by layer. T = tokens, H = hidden, V = vocabulary, I = MLP width, N = visual rows.
import type { Qwen35Config } from '../loader/config.ts';
import { swiglu } from './activations.ts';
import { ReferenceFullAttention } from './full-attention.ts';
import { ReferenceLinearAttention } from './linear-attention.ts';
import { matmul } from './matmul.ts';
import { sparseMoeBlock } from './moe.ts';
import { rmsNorm } from './rmsnorm.ts';
import { takeWeight, type WeightSource } from './weights.ts';

export interface ReferenceForward {
  /** [T, H] token embeddings: the input of layer 0. */
  embeddings: Float32Array;
  /** Per layer, [T, H]: the residual stream after that layer (including its DeepStack addition). */
  layerOutputs: Float32Array[];
  /** Per DeepStack level k, [T, H]: the output of layer k before the addition. */
  layerOutputsBeforeDeepstack: Float32Array[];
  /** [T, H] after the final norm. */
  finalHidden: Float32Array;
  /** [T, V]. */
  logits: Float32Array;
}

/** Qwen3-VL DeepStack input: level k's row i is added after layer k to prompt row rows[i]. */
export interface ReferenceDeepstack {
  rows: Int32Array;       // [N] distinct prompt rows (the image/video placeholders)
  features: Float32Array; // [levels, N, H]
  levels: number;
}

interface DecoderLayer {
  mixer: ReferenceLinearAttention | ReferenceFullAttention;
  inputNorm: Float32Array; // [H], zero-centred in Qwen3.5
  postNorm: Float32Array;  // [H], zero-centred in Qwen3.5
  /** The SwiGLU MLP or the sparse MoE block: normed [T, H] → [T, H]. */
  ffn: (xn: Float32Array, T: number) => Float32Array;
}

/** Text positions for tokens start..start+T-1: all three M-RoPE axes equal, [3, T]. */
export function textPositions(start: number, T: number): Int32Array {
  const positions = new Int32Array(3 * T);
  for (let axis = 0; axis < 3; axis++) for (let t = 0; t < T; t++) positions[axis * T + t] = start + t;
  return positions;
}

export class ReferenceQwen35 {
  private readonly embed: Float32Array;  // [V, H]
  private readonly norm: Float32Array;   // [H], zero-centred in Qwen3.5
  private readonly lmHead: Float32Array; // [V, H]; embed when tied
  private readonly layers: DecoderLayer[];
  private cachePos = 0;

  constructor(readonly config: Qwen35Config, weights: WeightSource) {
    const c = config;
    const { hiddenSize: H, vocabSize: V, weightPrefix: P } = c;
    this.embed = takeWeight(weights, `${P}embed_tokens.weight`, V, H);
    this.norm = takeWeight(weights, `${P}norm.weight`, H);
    this.lmHead = c.tieWordEmbeddings ? this.embed : takeWeight(weights, 'lm_head.weight', V, H);
    this.layers = c.layerTypes.map((type, i) => {
      const p = `${P}layers.${i}.`;
      return {
        mixer: type === 'linear_attention' ? new ReferenceLinearAttention(c, weights, p) : new ReferenceFullAttention(c, weights, p),
        inputNorm: takeWeight(weights, `${p}input_layernorm.weight`, H),
        postNorm: takeWeight(weights, `${p}post_attention_layernorm.weight`, H),
        ffn: c.moe ? moeFfn(c, weights, `${p}mlp.`) : denseFfn(c, weights, `${p}mlp.`),
      };
    });
  }

  /** Tokens processed since the last reset: the cache position of the next token. */
  get position(): number {
    return this.cachePos;
  }

  /**
   * Runs ids [T] on top of the current state (the first call is the prefill, later calls continue
   * it; T = 1 is a decode step) and advances it. positions [3, T] are the M-RoPE positions
   * (temporal, height, width); by default all three are the cache positions. inputEmbeds [T, H],
   * when given, replaces the token embeddings as the input of layer 0 (multimodal prompts, whose
   * placeholder rows hold the vision tower's output); deepstack adds Qwen3-VL's DeepStack features.
   */
  forward(ids: Int32Array, positions?: Int32Array, inputEmbeds?: Float32Array, deepstack?: ReferenceDeepstack): ReferenceForward {
    const { hiddenSize: H, vocabSize: V, rmsNormEps: eps, zeroCentredNorms: zc } = this.config;
    const T = ids.length;
    const start = this.cachePos;
    const pos = positions ?? textPositions(start, T);
    if (T === 0) throw new Error('forward: no tokens');
    if (pos.length !== 3 * T) throw new Error(`forward: positions must be [3, ${T}], got ${pos.length} values`);
    if (inputEmbeds && inputEmbeds.length !== T * H) throw new Error(`forward: inputEmbeds must be [${T}, ${H}]`);
    if (deepstack && deepstack.features.length !== deepstack.levels * deepstack.rows.length * H) throw new Error('forward: deepstack features must be [levels, rows, H]');

    const embeddings = inputEmbeds ? inputEmbeds.slice() : this.embedTokens(ids);

    const x = embeddings.slice();
    const layerOutputs: Float32Array[] = [];
    const layerOutputsBeforeDeepstack: Float32Array[] = [];
    for (const [k, layer] of this.layers.entries()) {
      const xn = rmsNorm(x, layer.inputNorm, T, H, eps, zc);
      const mixed = layer.mixer instanceof ReferenceLinearAttention
        ? layer.mixer.forward(xn, T)
        : layer.mixer.forward(xn, T, start, pos);
      addInPlace(x, mixed);
      const hn = rmsNorm(x, layer.postNorm, T, H, eps, zc);
      addInPlace(x, layer.ffn(hn, T));
      if (deepstack && k < deepstack.levels) {
        layerOutputsBeforeDeepstack.push(x.slice());
        const N = deepstack.rows.length;
        for (const [i, row] of deepstack.rows.entries()) {
          const feature = deepstack.features.subarray((k * N + i) * H, (k * N + i + 1) * H);
          for (let j = 0; j < H; j++) x[row * H + j] += feature[j];
        }
      }
      layerOutputs.push(x.slice());
    }
    const finalHidden = rmsNorm(x, this.norm, T, H, eps, zc);
    const logits = matmul(finalHidden, this.lmHead, T, V, H);
    this.cachePos += T;
    return { embeddings, layerOutputs, layerOutputsBeforeDeepstack, finalHidden, logits };
  }

  /** ids [T] → rows of embed_tokens [T, H]. */
  private embedTokens(ids: Int32Array): Float32Array {
    const { hiddenSize: H, vocabSize: V } = this.config;
    const out = new Float32Array(ids.length * H);
    for (const [t, id] of ids.entries()) {
      if (!(id >= 0 && id < V)) throw new Error(`forward: token id ${id} outside the vocabulary [0, ${V})`);
      out.set(this.embed.subarray(id * H, (id + 1) * H), t * H);
    }
    return out;
  }

  /** Forgets everything processed: empty KV caches, zero conv and recurrent states. */
  reset(): void {
    for (const { mixer } of this.layers) mixer.reset();
    this.cachePos = 0;
  }

  /**
   * Copies of every layer's state, in the layout and naming of the GPU model's readState():
   * GDN layers 'conv' [C, K-1] and 'recurrent' [nv, dk, dv]; attention layers, once something was
   * processed, 'k' and 'v' [position, nkv, D].
   */
  readState(): { layer: number; name: string; values: Float32Array }[] {
    const out: { layer: number; name: string; values: Float32Array }[] = [];
    for (const [layer, { mixer }] of this.layers.entries()) {
      if (mixer instanceof ReferenceLinearAttention) {
        out.push({ layer, name: 'conv', values: mixer.convState.slice() });
        out.push({ layer, name: 'recurrent', values: mixer.recurrentState.slice() });
      } else if (this.cachePos > 0) {
        const { k, v } = mixer.cacheRows(this.cachePos);
        out.push({ layer, name: 'k', values: k });
        out.push({ layer, name: 'v', values: v });
      }
    }
    return out;
  }
}

/** Two row blocks [a; b] of row-major matrices. */
function stackRows(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function denseFfn(c: Qwen35Config, weights: WeightSource, M: string): DecoderLayer['ffn'] {
  const { hiddenSize: H, intermediateSize: I } = c;
  const gateUp = stackRows(takeWeight(weights, `${M}gate_proj.weight`, I, H), takeWeight(weights, `${M}up_proj.weight`, I, H));
  const down = takeWeight(weights, `${M}down_proj.weight`, H, I);
  return (xn, T) => matmul(swiglu(matmul(xn, gateUp, T, 2 * I, H), T, I), down, T, H, I);
}

/** The MoE block from the fused expert tensors (the published layout). */
function moeFfn(c: Qwen35Config, weights: WeightSource, M: string): DecoderLayer['ffn'] {
  const { numExperts: E, numExpertsPerTok: k, moeIntermediateSize: Im, sharedExpertIntermediateSize: Is } = c.moe!;
  const H = c.hiddenSize;
  const w = {
    router: takeWeight(weights, `${M}gate.weight`, E, H),
    gateUp: takeWeight(weights, `${M}experts.gate_up_proj`, E, 2 * Im, H),
    down: takeWeight(weights, `${M}experts.down_proj`, E, H, Im),
    sharedGateUp: stackRows(takeWeight(weights, `${M}shared_expert.gate_proj.weight`, Is, H), takeWeight(weights, `${M}shared_expert.up_proj.weight`, Is, H)),
    sharedDown: takeWeight(weights, `${M}shared_expert.down_proj.weight`, H, Is),
    sharedExpertGate: takeWeight(weights, `${M}shared_expert_gate.weight`, 1, H),
  };
  return (xn, T) => sparseMoeBlock(xn, w, T, { H, E, k, Im, Is });
}

function addInPlace(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] += y[i];
}
