import { checkRopeType, Fields, parseEosTokenIds, type LayerType, type Qwen35Config, type RopeConfig } from './config.ts';
import { UnsupportedModelError } from './errors.ts';
import { parseQuantization } from './quantization.ts';
import { parseVisionConfig } from './vision-config.ts';

/**
 * Qwen3-VL's config.json (`qwen3_vl` with a `qwen3_vl_text` text_config, or `qwen3_vl_text` alone)
 * → the engine's config object. The Qwen3 decoder is the Qwen3.5 one with its differences as data:
 * every layer full attention, plain RMSNorm (weight × x), no attention output gate, rotary over all
 * of head_dim, DeepStack levels from the vision config. Both Hub forms are read: `rope_parameters`
 * (current transformers) and the published repos' `rope_scaling` with `rope_theta` beside it.
 */

/** transformers' Qwen3VLTextConfig / Qwen3VLConfig defaults for fields a config may omit. */
const DEFAULTS = {
  headDim: 128,
  rmsNormEps: 1e-6,
  maxPositionEmbeddings: 128000,
  ropeTheta: 500000,
  mropeSection: [24, 20, 20] as [number, number, number],
  deepstackVisualIndexes: [8, 16, 24],
  visionDepth: 27,
  imageTokenId: 151655,
  videoTokenId: 151656,
};

/** Older transformers saved the vision config under the composite model's type. */
const VISION_TYPES = ['qwen3_vl_vision', 'qwen3_vl'];

export function parseQwen3VLConfig(json: Record<string, unknown>, file: string): Qwen35Config {
  const multimodal = json.model_type === 'qwen3_vl';
  const top = new Fields(file, json, '');
  const text = multimodal ? top.object('text_config') : top;
  if (!text) throw top.error('text_config', 'is missing (the multimodal form keeps the text settings there)');
  if (multimodal && text.has('model_type') && text.raw('model_type') !== 'qwen3_vl_text') {
    throw text.error('model_type', `is ${JSON.stringify(text.raw('model_type'))}; a qwen3_vl model's text_config is "qwen3_vl_text"`);
  }

  const numLayers = text.positiveInt('num_hidden_layers');
  const numAttentionHeads = text.positiveInt('num_attention_heads');
  // transformers: a missing kv head count means plain multi-head attention.
  const numKeyValueHeads = text.positiveInt('num_key_value_heads', numAttentionHeads);
  const headDim = text.positiveInt('head_dim', DEFAULTS.headDim);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw text.error('num_attention_heads', `(${numAttentionHeads}) must be a multiple of num_key_value_heads (${numKeyValueHeads})`);
  }
  if (text.boolean('attention_bias')) throw new UnsupportedModelError(`${file}: attention_bias true (q/k/v/o projection biases) is not implemented`);
  const act = text.raw('hidden_act');
  if (act !== undefined && act !== 'silu') throw new UnsupportedModelError(`${file}: hidden_act ${JSON.stringify(act)} is not implemented (the Qwen3 MLP uses "silu")`);

  const hiddenSize = text.positiveInt('hidden_size');
  const tieWordEmbeddings = (multimodal ? top.boolean('tie_word_embeddings') : null) ?? text.boolean('tie_word_embeddings') ?? false;
  const deepstack = multimodal ? parseDeepstack(top, numLayers, hiddenSize) : [];
  const vision = multimodal ? parseVisionConfig(top.object('vision_config'), hiddenSize) : null;
  return {
    modelType: multimodal ? 'qwen3_vl' : 'qwen3_vl_text',
    weightPrefix: multimodal ? 'model.language_model.' : 'model.',
    hiddenSize,
    numLayers,
    layerTypes: fullAttentionLayers(text, numLayers),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    // No Gated DeltaNet layers: their sizes are zero, and no delta-rule kernel is compiled.
    linearNumKeyHeads: 0,
    linearNumValueHeads: 0,
    linearKeyHeadDim: 0,
    linearValueHeadDim: 0,
    linearConvKernelDim: 0,
    intermediateSize: text.positiveInt('intermediate_size'),
    moe: null,
    rmsNormEps: text.positiveNumber('rms_norm_eps', DEFAULTS.rmsNormEps),
    vocabSize: text.positiveInt('vocab_size'),
    tieWordEmbeddings,
    maxPositionEmbeddings: text.positiveInt('max_position_embeddings', DEFAULTS.maxPositionEmbeddings),
    rope: parseRope(text, headDim),
    eosTokenIds: parseEosTokenIds(text.has('eos_token_id') ? text : top),
    imageTokenId: multimodal ? (top.tokenId('image_token_id') ?? DEFAULTS.imageTokenId) : null,
    videoTokenId: multimodal ? (top.tokenId('video_token_id') ?? DEFAULTS.videoTokenId) : null,
    zeroCentredNorms: false,
    attentionOutputGate: false,
    quantization: parseQuantization(top),
    deepstackVisualIndexes: deepstack,
    // One list of DeepStack levels: the decoder's (checked against its layers) also drives the tower's mergers.
    vision: vision && { ...vision, deepstackVisualIndexes: deepstack },
  };
}

/** Qwen3-VL has no layer pattern; a layer_types list, if present, may only say full attention. */
function fullAttentionLayers(text: Fields, numLayers: number): LayerType[] {
  if (text.has('layer_types')) {
    const types = text.raw('layer_types');
    if (!Array.isArray(types) || types.length !== numLayers) throw text.error('layer_types', `must list ${numLayers} layers`);
    const other = types.findIndex((t) => t !== 'full_attention');
    if (other >= 0) throw text.error(`layer_types[${other}]`, `is ${JSON.stringify(types[other])}; Qwen3-VL layers are all "full_attention"`);
  }
  return Array.from({ length: numLayers }, () => 'full_attention');
}

/**
 * Full rotary over head_dim with interleaved M-RoPE sections. transformers' Qwen3-VL always
 * interleaves (it never reads `mrope_interleaved`), and uses neither partial_rotary_factor nor
 * mrope_section[0].
 */
function parseRope(text: Fields, headDim: number): RopeConfig {
  const params = text.object('rope_parameters');
  const legacy = text.object('rope_scaling');
  const source = (key: string): Fields => (params?.has(key) ? params : legacy?.has(key) ? legacy : text);
  checkRopeType(params, 'rope_type', ['default']);
  checkRopeType(legacy, 'rope_type', ['default', 'mrope']);
  checkRopeType(legacy, 'type', ['default', 'mrope']);
  source('mrope_interleaved').boolean('mrope_interleaved'); // type-checked only: see above
  if (headDim % 2 !== 0) throw text.error('head_dim', `(${headDim}) must be even for the rotary embedding`);
  const theta = source('rope_theta').positiveNumber('rope_theta', DEFAULTS.ropeTheta);

  const sectionSource = source('mrope_section');
  const section = sectionSource.has('mrope_section') ? sectionSource.raw('mrope_section') : DEFAULTS.mropeSection;
  const valid = Array.isArray(section) && section.length === 3 && section.every((n) => Number.isSafeInteger(n) && n >= 0);
  if (!valid || section.reduce((a: number, b: number) => a + b, 0) !== headDim / 2) {
    throw sectionSource.error('mrope_section', `is ${JSON.stringify(section)}; expected 3 non-negative integers summing to head_dim / 2 = ${headDim / 2}`);
  }
  return { theta, partialRotaryFactor: 1, rotaryDim: headDim, mropeSection: section as [number, number, number] };
}

/** vision_config.deepstack_visual_indexes, checked against the vision depth and the decoder it feeds. */
function parseDeepstack(top: Fields, numLayers: number, hiddenSize: number): number[] {
  const vision = top.object('vision_config');
  if (!vision) return DEFAULTS.deepstackVisualIndexes;
  const type = vision.raw('model_type');
  if (type !== undefined && !VISION_TYPES.includes(type as string)) {
    throw vision.error('model_type', `is ${JSON.stringify(type)}; expected ${VISION_TYPES.map((t) => JSON.stringify(t)).join(' or ')}`);
  }
  const out = vision.positiveInt('out_hidden_size', hiddenSize);
  if (out !== hiddenSize) throw vision.error('out_hidden_size', `(${out}) must equal text_config.hidden_size (${hiddenSize}): the merger's rows become decoder inputs`);
  const depth = vision.positiveInt('depth', DEFAULTS.visionDepth);
  const indexes = vision.has('deepstack_visual_indexes') ? vision.raw('deepstack_visual_indexes') : DEFAULTS.deepstackVisualIndexes;
  const valid = Array.isArray(indexes) && indexes.every((i) => Number.isSafeInteger(i) && i >= 0 && i < depth) && new Set(indexes).size === indexes.length;
  if (!valid) throw vision.error('deepstack_visual_indexes', `is ${JSON.stringify(indexes)}; expected distinct vision block indexes below depth ${depth}`);
  if (indexes.length > numLayers) {
    throw vision.error('deepstack_visual_indexes', `has ${indexes.length} levels but the decoder has only ${numLayers} layers to add them after`);
  }
  return indexes as number[];
}
