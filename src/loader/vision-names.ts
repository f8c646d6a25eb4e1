import type { VisionConfig } from './vision-config.ts';

/**
 * The vision tower's Hugging Face tensor names (`model.visual.*`) with the shape vision_config
 * implies for each, so the loader checks every tensor before uploading any. Linear weights are
 * [out, in]; the Conv3d patch embedding [Hv, C, Tp, p, p] is a linear map of one flattened patch.
 */
export interface LinearNames {
  weight: string;
  bias: string;
}

export interface NormNames {
  weight: string;
  bias: string;
}

export interface VisionBlockNames {
  norm1: NormNames;
  norm2: NormNames;
  /** [3Hv, Hv]: q, k, v rows, each head-major. */
  qkv: LinearNames;
  proj: LinearNames;
  fc1: LinearNames;
  fc2: LinearNames;
}

/** A patch merger: LayerNorm, then fc1 (4Hv → 4Hv), exact GELU, fc2 (4Hv → out). */
export interface MergerNames {
  norm: NormNames;
  /** Whether the norm runs after grouping 2×2 patches ([4Hv], DeepStack) or before ([Hv]). */
  postShuffleNorm: boolean;
  fc1: LinearNames;
  fc2: LinearNames;
}

export interface VisionWeightNames {
  patchEmbed: LinearNames;
  posEmbed: string;
  blocks: VisionBlockNames[];
  merger: MergerNames;
  /** Qwen3-VL: one merger per entry of deepstack_visual_indexes. */
  deepstackMergers: MergerNames[];
  expectedShapes: Map<string, number[]>;
}

export const VISION_PREFIX = 'model.visual.';

export function visionWeightNames(v: VisionConfig): VisionWeightNames {
  const shapes = new Map<string, number[]>();
  const Hv = v.hiddenSize;
  const linear = (base: string, out: number, inp: number, weightShape: number[] = [out, inp]): LinearNames => {
    shapes.set(`${base}.weight`, weightShape);
    shapes.set(`${base}.bias`, [out]);
    return { weight: `${base}.weight`, bias: `${base}.bias` };
  };
  const norm = (base: string, n: number): NormNames => linear(base, n, 0, [n]);
  const merged = Hv * v.spatialMergeSize ** 2;
  const merger = (base: string, postShuffleNorm: boolean): MergerNames => ({
    norm: norm(`${base}.norm`, postShuffleNorm ? merged : Hv),
    postShuffleNorm,
    fc1: linear(`${base}.linear_fc1`, merged, merged),
    fc2: linear(`${base}.linear_fc2`, v.outHiddenSize, merged),
  });

  const P = VISION_PREFIX;
  const patchEmbed = linear(`${P}patch_embed.proj`, Hv, v.patchDim, [Hv, v.inChannels, v.temporalPatchSize, v.patchSize, v.patchSize]);
  const posEmbed = `${P}pos_embed.weight`;
  shapes.set(posEmbed, [v.numPositionEmbeddings, Hv]);
  const blocks = Array.from({ length: v.depth }, (_, j): VisionBlockNames => {
    const B = `${P}blocks.${j}.`;
    return {
      norm1: norm(`${B}norm1`, Hv),
      norm2: norm(`${B}norm2`, Hv),
      qkv: linear(`${B}attn.qkv`, 3 * Hv, Hv),
      proj: linear(`${B}attn.proj`, Hv, Hv),
      fc1: linear(`${B}mlp.linear_fc1`, v.intermediateSize, Hv),
      fc2: linear(`${B}mlp.linear_fc2`, Hv, v.intermediateSize),
    };
  });
  return {
    patchEmbed,
    posEmbed,
    blocks,
    merger: merger(`${P}merger`, false),
    deepstackMergers: v.deepstackVisualIndexes.map((_, k) => merger(`${P}deepstack_merger_list.${k}`, true)),
    expectedShapes: shapes,
  };
}
