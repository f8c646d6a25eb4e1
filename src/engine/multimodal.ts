import type { ChatMessage, VisionInfo } from '../api.ts';
import type { ChatTemplate } from '../chat/chat-template.ts';
import type { ChatTokenizer } from '../chat/tokenizer.ts';
import type { Checkpoint } from '../loader/checkpoint.ts';
import { UnsupportedModelError } from '../loader/errors.ts';
import type { FileSource } from '../loader/file-source.ts';
import type { Qwen35Config } from '../loader/config.ts';
import type { LoadProgress } from '../model/load-weights.ts';
import type { ForwardOptions } from '../model/qwen35.ts';
import { VisionTower, type VisionRun } from '../model/vision.ts';
import type { VisualSegment } from '../model/visual-input.ts';
import { VisualTokenLimitError } from '../vision/errors.ts';
import { decodeImagePart, decodeVideoPart, templateMessages, visualParts } from '../vision/inputs.ts';
import { promptPlacement } from '../vision/positions.ts';
import { prepareVisuals, type ProcessorConfigs } from '../vision/preprocess.ts';
import { loadProcessorConfigs } from '../vision/processor-config.ts';
import { expandVisionPlaceholders, visionTokensOf, type VisionTokens } from '../vision/prompt.ts';
import type { GpuContext } from '../gpu/context.ts';

/** A loaded model's image and video path: its tower on the GPU, its processors, its token names. */
export interface VisionSupport {
  tower: VisionTower;
  processors: ProcessorConfigs;
  tokens: VisionTokens;
  info: VisionInfo;
}

/** Timestamp text and start/end tokens per temporal patch, counted generously when budgeting the context. */
const TOKENS_PER_VIDEO_GROUP = 12;

/** The vision tower and processors when the config has a vision_config and the checkpoint its weights; else null. */
export async function loadVisionSupport(
  ctx: GpuContext, source: FileSource, checkpoint: Checkpoint, config: Qwen35Config, tokenizerConfig: Record<string, unknown>,
  options: { signal?: AbortSignal; onProgress?: (p: LoadProgress) => void } = {},
): Promise<VisionSupport | null> {
  const v = config.vision;
  if (!v || !checkpoint.has('model.visual.patch_embed.proj.weight')) return null;
  const processors = await loadProcessorConfigs(source, v);
  const tower = await VisionTower.load(ctx, checkpoint, v, options);
  const { image, video } = processors;
  const info: VisionInfo = {
    factor: image.patchSize * image.mergeSize,
    image: { minPixels: image.minPixels, maxPixels: image.maxPixels },
    video: {
      fps: video.fps, minFrames: video.minFrames, maxFrames: video.maxFrames, sampleFrames: video.doSampleFrames,
      temporalPatchSize: video.temporalPatchSize, minPixels: video.minPixels, maxPixels: video.maxPixels, resample: video.resample,
    },
    maxVisualTokens: Math.floor(tower.maxPatches / v.spatialMergeSize ** 2),
  };
  return { tower, processors, tokens: visionTokensOf(tokenizerConfig), info };
}

export interface PromptRequest {
  messages: readonly ChatMessage[];
  template: ChatTemplate;
  tokenizer: ChatTokenizer;
  config: Qwen35Config;
  enableThinking?: boolean;
  maxVisualTokens?: number;
  maxContext: number;
  signal?: AbortSignal;
}

export interface PreparedPrompt {
  /** The prompt as text, after vision placeholders were expanded. */
  prompt: string;
  ids: number[];
  /** Positions and vision tokens for the prefill; absent for a text-only prompt. */
  prefill?: Pick<ForwardOptions, 'positions' | 'visual'>;
  /** Frees the request's GPU buffers (vision tokens); call once the prefill has run. */
  release(): void;
}

/**
 * A chat request as prompt ids: the template rendered; then, when messages hold images or videos,
 * those decoded, sampled and sized as the Python processors would (within the visual token budget),
 * the placeholders expanded with their token counts and timestamps, the tower run on the GPU, and
 * the prompt's M-RoPE positions and placeholder rows worked out.
 */
export async function preparePrompt(vision: VisionSupport | null, r: PromptRequest): Promise<PreparedPrompt> {
  const { images, videos } = visualParts(r.messages);
  const rendered = r.template.render(templateMessages(r.messages), { enableThinking: r.enableThinking });
  if (images.length + videos.length === 0) return { prompt: rendered, ids: r.tokenizer.encode(rendered), release: () => {} };
  if (r.maxVisualTokens !== undefined && !(r.maxVisualTokens >= 0)) throw new VisualTokenLimitError(`max_visual_tokens must be a non-negative number (got ${r.maxVisualTokens})`);
  if (!vision) throw new UnsupportedModelError(`${r.config.modelType} here has no vision tower (no vision_config or no model.visual.* weights), so it cannot take images or videos`);

  const sources = [
    ...(await Promise.all(images.map((part, i) => decodeImagePart(part, i, r.signal)))),
    ...(await Promise.all(videos.map((part, i) => decodeVideoPart(part, i, vision.processors.video, r.signal)))),
  ];
  const Tp = vision.processors.video.temporalPatchSize;
  const videoGroups = sources.reduce((sum, s) => sum + (s.kind === 'video' ? Math.ceil(Math.max(s.frames.length, Tp) / Tp) : 0), 0);
  const textTokens = r.tokenizer.encode(rendered).length + TOKENS_PER_VIDEO_GROUP * videoGroups;
  const budget = Math.min(r.maxVisualTokens ?? Infinity, vision.info.maxVisualTokens, r.maxContext - textTokens - 1);
  const prepared = prepareVisuals(sources, vision.processors, { maxTokens: Math.max(0, budget), resizeOnGpu: (bytes) => bytes <= vision.tower.maxFrameBytes });
  const preparedImages = prepared.filter((p) => p.kind === 'image');
  const preparedVideos = prepared.filter((p) => p.kind === 'video');
  const prompt = expandVisionPlaceholders(rendered, preparedImages, preparedVideos, vision.tokens);
  const ids = r.tokenizer.encode(prompt);
  const { positions, imageRows, videoRows } = promptPlacement(ids, r.config, preparedImages, preparedVideos, vision.processors.image.mergeSize);
  // Images and videos are two segments, each its own tower run, as transformers encodes them.
  const runs: VisionRun[] = [];
  const release = () => runs.forEach((run) => run.destroy());
  try {
    const visual: VisualSegment[] = [];
    for (const [items, rows] of [[preparedImages, imageRows], [preparedVideos, videoRows]] as const) {
      if (items.length === 0) continue;
      const run = await vision.tower.run(items);
      runs.push(run);
      visual.push({ rows, embeddings: run.embeddings, deepstack: run.deepstack });
    }
    return { prompt, ids, prefill: { positions, visual }, release };
  } catch (e) {
    release();
    throw e;
  }
}
