import { parseQwen3VLConfig } from './config-qwen3vl.ts';
import { ConfigError, UnsupportedModelError } from './errors.ts';
import { parseQuantization, type Fp8Quantization } from './quantization.ts';
import { parseVisionConfig, type VisionConfig } from './vision-config.ts';

/**
 * config.json → one typed, validated config object. Both Hub forms are accepted: the multimodal
 * form (`qwen3_5`, `qwen3_5_moe`: text settings under `text_config`) and the text-only form
 * (`qwen3_5_text`, `qwen3_5_moe_text`: text settings at the top level). Qwen3-VL (`qwen3_vl`,
 * `qwen3_vl_text`) maps onto the same object in config-qwen3vl.ts, its differences as data.
 */
export type LayerType = 'linear_attention' | 'full_attention';

export interface RopeConfig {
  theta: number;
  partialRotaryFactor: number;
  /** Rotated dims per head: floor(headDim * partialRotaryFactor), even. */
  rotaryDim: number;
  /** Frequencies per M-RoPE axis (temporal, height, width); sums to rotaryDim / 2. */
  mropeSection: [number, number, number];
}

export interface MoeConfig {
  numExperts: number;
  numExpertsPerTok: number;
  moeIntermediateSize: number;
  sharedExpertIntermediateSize: number;
}

export interface Qwen35Config {
  modelType: 'qwen3_5' | 'qwen3_5_text' | 'qwen3_5_moe' | 'qwen3_5_moe_text' | 'qwen3_vl' | 'qwen3_vl_text';
  /** Prefix of the text model's tensors: 'model.language_model.' (multimodal form) or 'model.'. */
  weightPrefix: string;
  hiddenSize: number;
  numLayers: number;
  layerTypes: LayerType[];
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  linearNumKeyHeads: number;
  linearNumValueHeads: number;
  linearKeyHeadDim: number;
  linearValueHeadDim: number;
  linearConvKernelDim: number;
  /** Dense MLP width; 0 for MoE models. */
  intermediateSize: number;
  moe: MoeConfig | null;
  rmsNormEps: number;
  vocabSize: number;
  tieWordEmbeddings: boolean;
  maxPositionEmbeddings: number;
  rope: RopeConfig;
  /** From config.json's eos_token_id (number or list); may be empty. */
  eosTokenIds: number[];
  /** Multimodal placeholders (top level of the multimodal form); null in the text-only form. */
  imageTokenId: number | null;
  videoTokenId: number | null;
  /** RMSNorm scales by 1 + weight (Qwen3.5's zero-centred norms) or by the weight itself (Qwen3-VL). */
  zeroCentredNorms: boolean;
  /** Full attention multiplies its output by sigmoid(gate), the gate rows interleaved per head into q_proj (Qwen3.5). */
  attentionOutputGate: boolean;
  /** Block-wise FP8 weights declared by quantization_config; null for unquantized checkpoints. */
  quantization: Fp8Quantization | null;
  /** Vision blocks feeding the DeepStack levels: level k is added after decoder layer k (Qwen3-VL; empty otherwise). */
  deepstackVisualIndexes: number[];
  /** The vision tower (`vision_config` of the multimodal form); null in the text-only form. */
  vision: VisionConfig | null;
}

type Json = Record<string, unknown>;

const MULTIMODAL_TYPES = ['qwen3_5', 'qwen3_5_moe'] as const;
const TEXT_TYPES = ['qwen3_5_text', 'qwen3_5_moe_text'] as const;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads fields of one JSON object and reports problems by their path in config.json
 * (`text_config.hidden_size`), so a bad file can be fixed without reading this code.
 */
export class Fields {
  constructor(
    private readonly file: string,
    private readonly obj: Json,
    private readonly path: string,
  ) {}

  error(key: string, problem: string): ConfigError {
    return new ConfigError(this.file, `${this.path}${key} ${problem}`);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  raw(key: string): unknown {
    return this.obj[key];
  }

  object(key: string): Fields | null {
    if (!this.has(key)) return null;
    const value = this.obj[key];
    if (!isObject(value)) throw this.error(key, 'must be an object');
    return new Fields(this.file, value, `${this.path}${key}.`);
  }

  positiveInt(key: string, fallback?: number): number {
    if (!this.has(key)) {
      if (fallback !== undefined) return fallback;
      throw this.error(key, 'is missing (a positive integer is required)');
    }
    const value = this.obj[key];
    if (!Number.isSafeInteger(value) || (value as number) <= 0) throw this.error(key, `must be a positive integer (got ${JSON.stringify(value)})`);
    return value as number;
  }

  positiveNumber(key: string, fallback: number): number {
    if (!this.has(key)) return fallback;
    const value = this.obj[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw this.error(key, `must be a positive number (got ${JSON.stringify(value)})`);
    return value;
  }

  boolean(key: string): boolean | null {
    if (!this.has(key)) return null;
    const value = this.obj[key];
    if (typeof value !== 'boolean') throw this.error(key, `must be true or false (got ${JSON.stringify(value)})`);
    return value;
  }

  tokenId(key: string): number | null {
    if (!this.has(key)) return null;
    const value = this.obj[key];
    if (!Number.isSafeInteger(value) || (value as number) < 0) throw this.error(key, `must be a token id (got ${JSON.stringify(value)})`);
    return value as number;
  }
}

/** The HF defaults of Qwen3_5TextConfig for fields real configs may omit. */
const DEFAULTS = {
  rmsNormEps: 1e-6,
  linearConvKernelDim: 4,
  fullAttentionInterval: 4,
  maxPositionEmbeddings: 32768,
  partialRotaryFactor: 0.25,
  ropeTheta: 10000,
};

export function parseQwen35Config(json: unknown, file = 'config.json'): Qwen35Config {
  if (!isObject(json)) throw new ConfigError(file, 'is not a JSON object');
  const modelType = json.model_type;
  if (modelType === 'qwen3_vl' || modelType === 'qwen3_vl_text') return parseQwen3VLConfig(json, file);
  const multimodal = (MULTIMODAL_TYPES as readonly unknown[]).includes(modelType);
  if (!multimodal && !(TEXT_TYPES as readonly unknown[]).includes(modelType)) {
    throw new UnsupportedModelError(modelType === undefined ? `${file} names no model_type` : `model_type ${JSON.stringify(modelType)} is not a Qwen3.5 model`);
  }
  const top = new Fields(file, json, '');
  const text = multimodal ? top.object('text_config') : top;
  if (!text) throw top.error('text_config', 'is missing (the multimodal form keeps the text settings there)');
  const isMoe = modelType === 'qwen3_5_moe' || modelType === 'qwen3_5_moe_text';

  const numLayers = text.positiveInt('num_hidden_layers');
  const numAttentionHeads = text.positiveInt('num_attention_heads');
  const numKeyValueHeads = text.positiveInt('num_key_value_heads');
  const headDim = text.positiveInt('head_dim');
  const linearNumKeyHeads = text.positiveInt('linear_num_key_heads');
  const linearNumValueHeads = text.positiveInt('linear_num_value_heads');
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw text.error('num_attention_heads', `(${numAttentionHeads}) must be a multiple of num_key_value_heads (${numKeyValueHeads})`);
  }
  if (linearNumValueHeads % linearNumKeyHeads !== 0) {
    throw text.error('linear_num_value_heads', `(${linearNumValueHeads}) must be a multiple of linear_num_key_heads (${linearNumKeyHeads})`);
  }

  // Top level wins for the multimodal form: that is where HF's composite config keeps it.
  const tieWordEmbeddings = (multimodal ? top.boolean('tie_word_embeddings') : null) ?? text.boolean('tie_word_embeddings') ?? false;
  return {
    modelType: modelType as Qwen35Config['modelType'],
    weightPrefix: multimodal ? 'model.language_model.' : 'model.',
    hiddenSize: text.positiveInt('hidden_size'),
    numLayers,
    layerTypes: parseLayerTypes(text, numLayers),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    linearNumKeyHeads,
    linearNumValueHeads,
    linearKeyHeadDim: text.positiveInt('linear_key_head_dim'),
    linearValueHeadDim: text.positiveInt('linear_value_head_dim'),
    linearConvKernelDim: text.positiveInt('linear_conv_kernel_dim', DEFAULTS.linearConvKernelDim),
    intermediateSize: isMoe ? 0 : text.positiveInt('intermediate_size'),
    moe: isMoe ? parseMoe(text) : null,
    rmsNormEps: text.positiveNumber('rms_norm_eps', DEFAULTS.rmsNormEps),
    vocabSize: text.positiveInt('vocab_size'),
    tieWordEmbeddings,
    maxPositionEmbeddings: text.positiveInt('max_position_embeddings', DEFAULTS.maxPositionEmbeddings),
    rope: parseRope(text, headDim),
    eosTokenIds: parseEosTokenIds(text.has('eos_token_id') ? text : top),
    imageTokenId: multimodal ? top.tokenId('image_token_id') : null,
    videoTokenId: multimodal ? top.tokenId('video_token_id') : null,
    zeroCentredNorms: true,
    attentionOutputGate: true,
    quantization: parseQuantization(top),
    deepstackVisualIndexes: [],
    vision: multimodal ? parseVisionConfig(top.object('vision_config'), text.positiveInt('hidden_size')) : null,
  };
}

function parseLayerTypes(text: Fields, numLayers: number): LayerType[] {
  if (!text.has('layer_types')) {
    const interval = text.positiveInt('full_attention_interval', DEFAULTS.fullAttentionInterval);
    return Array.from({ length: numLayers }, (_, i) => ((i + 1) % interval === 0 ? 'full_attention' : 'linear_attention'));
  }
  const types = text.raw('layer_types');
  if (!Array.isArray(types)) throw text.error('layer_types', 'must be a list');
  if (types.length !== numLayers) throw text.error('layer_types', `has ${types.length} entries but num_hidden_layers is ${numLayers}`);
  types.forEach((type, i) => {
    if (type !== 'linear_attention' && type !== 'full_attention') {
      throw text.error(`layer_types[${i}]`, `is ${JSON.stringify(type)}; expected "linear_attention" or "full_attention"`);
    }
  });
  return types as LayerType[];
}

function parseMoe(text: Fields): MoeConfig {
  const numExperts = text.positiveInt('num_experts');
  const numExpertsPerTok = text.positiveInt('num_experts_per_tok');
  if (numExpertsPerTok > numExperts) throw text.error('num_experts_per_tok', `(${numExpertsPerTok}) exceeds num_experts (${numExperts})`);
  return {
    numExperts,
    numExpertsPerTok,
    moeIntermediateSize: text.positiveInt('moe_intermediate_size'),
    sharedExpertIntermediateSize: text.positiveInt('shared_expert_intermediate_size'),
  };
}

/** Current configs carry `rope_parameters`; older ones top-level rope_theta/partial_rotary_factor and `rope_scaling`. */
function parseRope(text: Fields, headDim: number): RopeConfig {
  const params = text.object('rope_parameters');
  const legacy = text.object('rope_scaling');
  const source = (key: string): Fields => (params?.has(key) ? params : legacy?.has(key) ? legacy : text);

  // 'mrope' is the legacy rope_scaling name for the same sectioned default rope.
  checkRopeType(params, 'rope_type', ['default']);
  checkRopeType(legacy, 'rope_type', ['default', 'mrope']);
  checkRopeType(legacy, 'type', ['default', 'mrope']);
  const theta = source('rope_theta').positiveNumber('rope_theta', DEFAULTS.ropeTheta);
  const partialSource = source('partial_rotary_factor');
  const partialRotaryFactor = partialSource.positiveNumber('partial_rotary_factor', DEFAULTS.partialRotaryFactor);
  if (partialRotaryFactor > 1) throw partialSource.error('partial_rotary_factor', `(${partialRotaryFactor}) must be at most 1`);
  const truncated = Math.floor(headDim * partialRotaryFactor);
  const rotaryDim = truncated - (truncated % 2);
  if (rotaryDim === 0) throw partialSource.error('partial_rotary_factor', `(${partialRotaryFactor}) leaves no rotary dimensions of head_dim ${headDim}`);

  const sectionSource = source('mrope_section');
  if (!sectionSource.has('mrope_section')) return { theta, partialRotaryFactor, rotaryDim, mropeSection: [rotaryDim / 2, 0, 0] };
  const section = sectionSource.raw('mrope_section');
  const valid = Array.isArray(section) && section.length === 3 && section.every((n) => Number.isSafeInteger(n) && n >= 0);
  if (!valid || section.reduce((a: number, b: number) => a + b, 0) !== rotaryDim / 2) {
    throw sectionSource.error('mrope_section', `is ${JSON.stringify(section)}; expected 3 non-negative integers summing to rotary_dim / 2 = ${rotaryDim / 2}`);
  }
  return { theta, partialRotaryFactor, rotaryDim, mropeSection: section as [number, number, number] };
}

export function checkRopeType(fields: Fields | null, key: string, allowed: string[]): void {
  const ropeType = fields?.raw(key);
  if (fields && ropeType !== undefined && !allowed.includes(ropeType as string)) {
    throw fields.error(key, `is ${JSON.stringify(ropeType)}; this engine implements plain (M-)RoPE only ("default")`);
  }
}

export function parseEosTokenIds(fields: Fields): number[] {
  if (!fields.has('eos_token_id')) return [];
  const value = fields.raw('eos_token_id');
  const ids = Array.isArray(value) ? value : [value];
  if (!ids.every((id) => Number.isSafeInteger(id) && id >= 0)) throw fields.error('eos_token_id', `must be a token id or a list of them (got ${JSON.stringify(value)})`);
  return ids as number[];
}
