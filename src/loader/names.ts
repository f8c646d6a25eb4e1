import type { MoeConfig, Qwen35Config } from './config.ts';

/**
 * The one table from Hugging Face tensor names to the engine's weights, with the shape config.json
 * implies for each (published-checkpoint layout, `[out, in]` for linear weights), so the loader can
 * check every tensor before uploading any.
 */
export interface LinearAttentionNames {
  kind: 'linear_attention';
  inProjQkv: string;
  inProjZ: string;
  inProjB: string;
  inProjA: string;
  conv1d: string;
  dtBias: string;
  aLog: string;
  norm: string;
  outProj: string;
}

export interface FullAttentionNames {
  kind: 'full_attention';
  qProj: string;
  kProj: string;
  vProj: string;
  oProj: string;
  qNorm: string;
  kNorm: string;
}

export interface DenseMlpNames {
  kind: 'dense';
  gateProj: string;
  upProj: string;
  downProj: string;
}

export interface MoeMlpNames {
  kind: 'moe';
  router: string;
  /** Fused [E, 2·Im, H]: rows 0..Im−1 of each expert are gate, Im..2·Im−1 up. */
  expertsGateUp: string;
  expertsDown: string;
  sharedGate: string;
  sharedUp: string;
  sharedDown: string;
  sharedExpertGate: string;
}

export interface LayerNames {
  inputNorm: string;
  postNorm: string;
  mixer: LinearAttentionNames | FullAttentionNames;
  mlp: DenseMlpNames | MoeMlpNames;
}

export interface TextWeightNames {
  embed: string;
  finalNorm: string;
  /** The embedding's name when tie_word_embeddings: tied checkpoints have no lm_head.weight. */
  lmHead: string;
  layers: LayerNames[];
  /** Every tensor the text model reads, with the shape config.json implies. */
  expectedShapes: Map<string, number[]>;
}

export function textWeightNames(c: Qwen35Config): TextWeightNames {
  const P = c.weightPrefix;
  const H = c.hiddenSize;
  const shapes = new Map<string, number[]>();
  const name = (tensor: string, shape: number[]): string => {
    shapes.set(tensor, shape);
    return tensor;
  };

  const embed = name(`${P}embed_tokens.weight`, [c.vocabSize, H]);
  const layers = c.layerTypes.map((type, i): LayerNames => {
    const L = `${P}layers.${i}.`;
    return {
      inputNorm: name(`${L}input_layernorm.weight`, [H]),
      postNorm: name(`${L}post_attention_layernorm.weight`, [H]),
      mixer: type === 'linear_attention' ? linearAttentionNames(c, `${L}linear_attn.`, name) : fullAttentionNames(c, `${L}self_attn.`, name),
      mlp: c.moe ? moeNames(c.moe, H, `${L}mlp.`, name) : denseMlpNames(c, `${L}mlp.`, name),
    };
  });
  const finalNorm = name(`${P}norm.weight`, [H]);
  const lmHead = c.tieWordEmbeddings ? embed : name('lm_head.weight', [c.vocabSize, H]);
  return { embed, finalNorm, lmHead, layers, expectedShapes: shapes };
}

type Namer = (tensor: string, shape: number[]) => string;

function linearAttentionNames(c: Qwen35Config, A: string, name: Namer): LinearAttentionNames {
  const H = c.hiddenSize;
  const keyDim = c.linearNumKeyHeads * c.linearKeyHeadDim;
  const valueDim = c.linearNumValueHeads * c.linearValueHeadDim;
  const convDim = 2 * keyDim + valueDim;
  return {
    kind: 'linear_attention',
    inProjQkv: name(`${A}in_proj_qkv.weight`, [convDim, H]),
    inProjZ: name(`${A}in_proj_z.weight`, [valueDim, H]),
    inProjB: name(`${A}in_proj_b.weight`, [c.linearNumValueHeads, H]),
    inProjA: name(`${A}in_proj_a.weight`, [c.linearNumValueHeads, H]),
    conv1d: name(`${A}conv1d.weight`, [convDim, 1, c.linearConvKernelDim]),
    dtBias: name(`${A}dt_bias`, [c.linearNumValueHeads]),
    aLog: name(`${A}A_log`, [c.linearNumValueHeads]),
    norm: name(`${A}norm.weight`, [c.linearValueHeadDim]),
    outProj: name(`${A}out_proj.weight`, [H, valueDim]),
  };
}

function fullAttentionNames(c: Qwen35Config, A: string, name: Namer): FullAttentionNames {
  const H = c.hiddenSize;
  const D = c.headDim;
  return {
    kind: 'full_attention',
    // Per head, D query rows then (Qwen3.5) D output-gate rows.
    qProj: name(`${A}q_proj.weight`, [c.numAttentionHeads * (c.attentionOutputGate ? 2 : 1) * D, H]),
    kProj: name(`${A}k_proj.weight`, [c.numKeyValueHeads * D, H]),
    vProj: name(`${A}v_proj.weight`, [c.numKeyValueHeads * D, H]),
    oProj: name(`${A}o_proj.weight`, [H, c.numAttentionHeads * D]),
    qNorm: name(`${A}q_norm.weight`, [D]),
    kNorm: name(`${A}k_norm.weight`, [D]),
  };
}

function denseMlpNames(c: Qwen35Config, M: string, name: Namer): DenseMlpNames {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  return {
    kind: 'dense',
    gateProj: name(`${M}gate_proj.weight`, [I, H]),
    upProj: name(`${M}up_proj.weight`, [I, H]),
    downProj: name(`${M}down_proj.weight`, [H, I]),
  };
}

function moeNames(moe: MoeConfig, H: number, M: string, name: Namer): MoeMlpNames {
  const { numExperts: E, moeIntermediateSize: Im, sharedExpertIntermediateSize: Is } = moe;
  return {
    kind: 'moe',
    router: name(`${M}gate.weight`, [E, H]),
    // Fused expert tensors carry no `.weight` suffix in the published checkpoints.
    expertsGateUp: name(`${M}experts.gate_up_proj`, [E, 2 * Im, H]),
    expertsDown: name(`${M}experts.down_proj`, [E, H, Im]),
    sharedGate: name(`${M}shared_expert.gate_proj.weight`, [Is, H]),
    sharedUp: name(`${M}shared_expert.up_proj.weight`, [Is, H]),
    sharedDown: name(`${M}shared_expert.down_proj.weight`, [H, Is]),
    sharedExpertGate: name(`${M}shared_expert_gate.weight`, [1, H]),
  };
}

/** Tensors a text-only engine never reads: the multi-token-prediction head and the vision tower. */
export function isSkippedForText(name: string): boolean {
  return name.startsWith('mtp.') || name.startsWith('model.visual.');
}
