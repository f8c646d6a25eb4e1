import type { Fields } from './config.ts';
import { UnsupportedModelError } from './errors.ts';

/**
 * The vision tower's settings (`vision_config`): Qwen3.5 and Qwen3.5-MoE share one tower; Qwen3-VL
 * adds DeepStack mergers at `deepstack_visual_indexes`, which are read here so that tower can be
 * built from the same config object.
 */
export interface VisionConfig {
  depth: number;
  hiddenSize: number;
  numHeads: number;
  /** hiddenSize / numHeads; a multiple of 4 (two rotary axes, each rotating pairs). */
  headDim: number;
  intermediateSize: number;
  inChannels: number;
  patchSize: number;
  temporalPatchSize: number;
  spatialMergeSize: number;
  numPositionEmbeddings: number;
  /** √numPositionEmbeddings: the learned position table is a square grid. */
  gridPerSide: number;
  /** The merger's output width: the language model's hidden size. */
  outHiddenSize: number;
  /** Activation of the blocks' MLP; the merger always uses the exact (erf) GELU. */
  hiddenAct: VisionActivation;
  ropeTheta: number;
  /** Blocks whose outputs feed DeepStack mergers (Qwen3-VL); empty for Qwen3.5. */
  deepstackVisualIndexes: number[];
  /** LayerNorm epsilon of every vision norm (fixed in the HF modeling code). */
  layerNormEps: number;
  /** Patch vector length: inChannels · temporalPatchSize · patchSize². */
  patchDim: number;
}

export type VisionActivation = 'gelu_tanh' | 'gelu_erf';

const VISION_TYPES = ['qwen3_5_vision', 'qwen3_5_moe_vision', 'qwen3_vl_vision', 'qwen3_vl'];

/** transformers' names for the two GELU forms (gelu_new and gelu_pytorch_tanh are the same formula). */
const ACTIVATIONS: Record<string, VisionActivation> = {
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_new: 'gelu_tanh',
  gelu: 'gelu_erf',
};

/** Qwen3_5VisionConfig's class defaults, for keys a config leaves out. */
const DEFAULTS = {
  depth: 27, hiddenSize: 1152, intermediateSize: 4304, numHeads: 16, inChannels: 3, patchSize: 16,
  spatialMergeSize: 2, temporalPatchSize: 2, numPositionEmbeddings: 2304, ropeTheta: 10000, hiddenAct: 'gelu_pytorch_tanh',
};

/**
 * `vision_config` → VisionConfig, checked against itself and against the text model it feeds
 * (`out_hidden_size` must equal the language model's hidden size). Keys it leaves out take HF's
 * class defaults; no `vision_config` at all means no vision tower (null).
 */
export function parseVisionConfig(v: Fields | null, textHiddenSize: number): VisionConfig | null {
  if (!v) return null;
  const modelType = v.raw('model_type');
  if (modelType !== undefined && !VISION_TYPES.includes(modelType as string)) {
    throw new UnsupportedModelError(`vision_config.model_type ${JSON.stringify(modelType)} is not a Qwen3.5 / Qwen3-VL vision tower`);
  }
  const hiddenSize = v.positiveInt('hidden_size', DEFAULTS.hiddenSize);
  const numHeads = v.positiveInt('num_heads', DEFAULTS.numHeads);
  if (hiddenSize % numHeads !== 0) throw v.error('hidden_size', `(${hiddenSize}) must be a multiple of num_heads (${numHeads})`);
  const headDim = hiddenSize / numHeads;
  if (headDim % 4 !== 0) throw v.error('num_heads', `gives head dim ${headDim}; the 2-D rotary embedding needs a multiple of 4`);
  const inChannels = v.positiveInt('in_channels', DEFAULTS.inChannels);
  if (inChannels !== 3) throw v.error('in_channels', `is ${inChannels}; images are RGB (3 channels)`);
  const numPositionEmbeddings = v.positiveInt('num_position_embeddings', DEFAULTS.numPositionEmbeddings);
  const gridPerSide = Math.round(Math.sqrt(numPositionEmbeddings));
  if (gridPerSide * gridPerSide !== numPositionEmbeddings) throw v.error('num_position_embeddings', `(${numPositionEmbeddings}) must be a square number`);
  const outHiddenSize = v.positiveInt('out_hidden_size', 3584);
  if (outHiddenSize !== textHiddenSize) {
    throw v.error('out_hidden_size', `(${outHiddenSize}) must equal the text model's hidden_size (${textHiddenSize}): vision tokens replace token embeddings`);
  }
  const act = v.has('hidden_act') ? v.raw('hidden_act') : DEFAULTS.hiddenAct;
  const hiddenAct = ACTIVATIONS[act as string];
  if (!hiddenAct) throw new UnsupportedModelError(`vision_config.hidden_act ${JSON.stringify(act)} is not supported (gelu_pytorch_tanh, gelu_new or gelu)`);
  const depth = v.positiveInt('depth', DEFAULTS.depth);
  const patchSize = v.positiveInt('patch_size', DEFAULTS.patchSize);
  const temporalPatchSize = v.positiveInt('temporal_patch_size', DEFAULTS.temporalPatchSize);
  return {
    depth,
    hiddenSize,
    numHeads,
    headDim,
    intermediateSize: v.positiveInt('intermediate_size', DEFAULTS.intermediateSize),
    inChannels,
    patchSize,
    temporalPatchSize,
    spatialMergeSize: v.positiveInt('spatial_merge_size', DEFAULTS.spatialMergeSize),
    numPositionEmbeddings,
    gridPerSide,
    outHiddenSize,
    hiddenAct,
    ropeTheta: parseVisionRope(v),
    deepstackVisualIndexes: parseDeepstack(v, depth),
    layerNormEps: 1e-6,
    patchDim: inChannels * temporalPatchSize * patchSize * patchSize,
  };
}

function parseVisionRope(v: Fields): number {
  const rope = v.object('rope_parameters');
  const type = rope?.raw('rope_type');
  if (rope && type !== undefined && type !== 'axial') throw rope.error('rope_type', `is ${JSON.stringify(type)}; the vision tower uses "axial" rotary embedding`);
  return (rope?.has('rope_theta') ? rope : v).positiveNumber('rope_theta', DEFAULTS.ropeTheta);
}

function parseDeepstack(v: Fields, depth: number): number[] {
  if (!v.has('deepstack_visual_indexes')) return [];
  const list = v.raw('deepstack_visual_indexes');
  if (!Array.isArray(list) || !list.every((i) => Number.isSafeInteger(i) && i >= 0 && i < depth)) {
    throw v.error('deepstack_visual_indexes', `is ${JSON.stringify(list)}; expected block indexes below depth ${depth}`);
  }
  return list as number[];
}

/** A vision item's patch grid: temporal groups × rows × columns (an image has t = 1). */
export interface GridThw {
  t: number;
  h: number;
  w: number;
}

/**
 * Per-channel affine map from 0..255 pixel values to the tower's input: (v · scale − mean) / std
 * in float32. Rescale and normalise fused as transformers fuses them: scale 1 with mean and std
 * divided by the rescale factor.
 */
export interface PixelNormalization {
  scale: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/**
 * One axis of an antialiased resize as integer taps (Pillow / PyTorch uint8 arithmetic): output
 * index o reads `count[o]` inputs from `start[o]`, weighted by `weights[o·ksize + j]` with
 * `precision` fractional bits.
 */
export interface ResampleTaps {
  inSize: number;
  outSize: number;
  start: Int32Array;
  count: Int32Array;
  weights: Int32Array;
  ksize: number;
  precision: number;
}
