/**
 * The engine's public, transferable API: what a page talks to, directly or across the worker
 * boundary (comlink). Everything here is plain data or a function, so it survives structured clone.
 */

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export type ContentPart =
  | { type: 'text'; text: string }
  /** An http(s), data: or blob: URL, decoded with createImageBitmap (a page or a worker). */
  | { type: 'image_url'; image_url: { url: string } }
  /** Decoded pixels (what Node callers pass), or a URL as for image_url. */
  | { type: 'image'; image: RawImage | string }
  /** A clip as frames; a bare list is frames at an unknown rate (24 fps is assumed, as transformers does). */
  | { type: 'video'; video: VideoInput | string[] };

/** Decoded pixels, row-major: RGB (3 bytes per pixel) or RGBA (4, alpha ignored), e.g. an ImageData. */
export interface RawImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/**
 * A video as a list of frames, all the same size, in order. The engine samples them per the model's
 * video_preprocessor_config.json (its fps, min and max frame counts) and writes each temporal
 * patch's time into the prompt, as the Python processor does. Give the clip's frame rate, or the
 * time of every frame (live captures); with neither, frames are taken to be 24 fps apart.
 */
export interface VideoInput {
  frames: (RawImage | string)[];
  fps?: number;
  /** Seconds from the start of the clip, one per frame, non-decreasing. */
  timestamps?: number[];
}

/** OpenAI-shaped chat message; `reasoning_content` carries an assistant turn's thinking. */
export interface ChatMessage {
  role: ChatRole;
  content: string | ContentPart[];
  reasoning_content?: string;
}

/** Sampling and generation options; anything unset falls back to the repo's generation_config.json. */
export interface ChatOptions {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  repetition_penalty?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  /** Tokens to generate at most (default 1024). */
  max_tokens?: number;
  /** Passed to the chat template; unset uses the template's own default. */
  enable_thinking?: boolean;
  seed?: number;
  /**
   * Most placeholder tokens all images and videos of the request may take together (each costs
   * Tp·p²·m² pixels' worth). Larger inputs are scaled down to fit, as a smaller max_pixels would;
   * the context size and the GPU's binding limit cap it as well.
   */
  max_visual_tokens?: number;
}

/** The sampler's settings as the engine passes them to the GPU (and the CPU reference checks them). */
export interface SamplingParams {
  /** 0 = greedy. */
  temperature: number;
  /** 0 (or ≥ vocabulary size) = no top-k filter. */
  topK: number;
  /** 1 = no nucleus filter. */
  topP: number;
  /** 1 = off. */
  repetitionPenalty: number;
  presencePenalty: number;
  frequencyPenalty: number;
}

/** One piece of streamed output: decoded text, routed to the thinking block or the answer. */
export interface ChatChunk {
  channel: 'thinking' | 'answer';
  text: string;
  /** Token ids this text came from (a multi-byte character can span several). */
  tokenIds: number[];
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface GenerationStatsSnapshot {
  promptTokens: number;
  generatedTokens: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  timeToFirstTokenMs: number;
}

export interface ChatResult {
  thinking: string;
  answer: string;
  tokenIds: number[];
  finishReason: FinishReason;
  stats: GenerationStatsSnapshot;
}

export interface LoadProgress {
  /** Which file of the repo this is about. */
  file: string;
  loadedBytes: number;
  totalBytes: number;
  /** All files together. */
  overallLoadedBytes: number;
  overallTotalBytes: number;
  /** 'cache' when the bytes came from the local cache. */
  from: 'network' | 'cache';
}

export interface ModelFit {
  fits: boolean;
  /** Bytes the engine will hold on the GPU (weights, caches, scratch). */
  requiredBytes: number;
  /** Bytes a load reads: the weights it uses, the checkpoint headers and the tokenizer files. */
  downloadBytes: number;
  /** Of those, the bytes already in the local cache (equal: loads without the network). */
  cachedBytes: number;
  /** Why it does not fit, or what limits it (empty when it fits comfortably). */
  reasons: string[];
  /** Not in the way of loading, but worth saying (storage too small to cache the download, say). */
  warnings: string[];
  /** The GPU this was checked against, as the adapter describes itself. */
  gpu: string;
}

export interface ModelInfo {
  /** The repo id or base URL it was loaded from. */
  model: string;
  modelType: string;
  numLayers: number;
  hiddenSize: number;
  vocabSize: number;
  maxContext: number;
  gpuBytes: number;
  /** The weight format every matrix was loaded in (LoadOptions.quant, f16 when unset). */
  quant: NonNullable<LoadOptions['quant']>;
  /** Whether the chat template thinks unless told not to. */
  thinkingByDefault: boolean;
  /** Image and video input, when the model has a vision tower; null for text-only models. */
  vision: VisionInfo | null;
  /** Content part types chat() accepts for this model ('text'; vision models add 'image_url', 'video'). */
  accepts: ContentPart['type'][];
  /** Set when the download could not be cached (quota): the model runs, but will not load offline. */
  cacheError: { code: string; message: string } | null;
}

/** What a page needs to prepare images and videos for the loaded model. */
export interface VisionInfo {
  /** Resized sides are multiples of this (patch size × merge size); one token covers factor² pixels. */
  factor: number;
  image: { minPixels: number; maxPixels: number };
  /** The video processor's settings: frames are sampled at `fps`, between minFrames and maxFrames. */
  video: {
    fps: number; minFrames: number; maxFrames: number; sampleFrames: boolean; temporalPatchSize: number;
    minPixels: number; maxPixels: number; resample: 'bicubic' | 'bilinear';
  };
  /** Visual tokens one request can hold on this GPU (the context size limits it further). */
  maxVisualTokens: number;
}

export interface EngineStats {
  loaded: ModelInfo | null;
  gpuBytes: number;
  last: GenerationStatsSnapshot | null;
  busy: boolean;
}

export interface LoadOptions {
  /** Tokens the KV cache holds (default 4096). */
  maxContext?: number;
  /**
   * How weights are kept on the GPU: 'f16' (default, exact for BF16 checkpoints), 'q8' or 'q4'
   * (quantized while loading: about 1/2 or 1/4 the memory and bytes read per token), or 'f32'.
   */
  quant?: 'f16' | 'q8' | 'q4' | 'f32';
  /**
   * GPU memory the model may take. WebGPU does not tell how much memory a GPU has, so the engine
   * checks only the adapter's buffer limits unless told: with a budget, a model that needs more is
   * refused before anything is downloaded, and the reason gives the numbers.
   */
  memoryBudgetBytes?: number;
}

/**
 * The engine as a page sees it. `chat` streams through `onChunk` as tokens are sampled and resolves
 * with the whole result; a second `chat` while one runs is rejected with EngineBusyError.
 * Callbacks are top-level arguments because comlink proxies only those across the worker boundary.
 */
export interface EngineApi {
  /** Whether `model` (repo id or base URL) fits this GPU, from its config and checkpoint headers alone. */
  checkFit(model: string, options?: LoadOptions): Promise<ModelFit>;
  load(model: string, options?: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo>;
  chat(messages: ChatMessage[], options: ChatOptions, onChunk: (chunk: ChatChunk) => void): Promise<ChatResult>;
  /** Stops the running chat (it resolves with finishReason 'abort') or an in-progress load. */
  abort(): Promise<void>;
  unload(): Promise<void>;
  stats(): Promise<EngineStats>;
}
