/**
 * The engine's public, transferable API: what a page talks to, directly or across the worker
 * boundary (comlink). Everything here is plain data or a function, so it survives structured clone.
 */

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string } }
  | { type: 'video'; video: string[] };

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
  /** Why it does not fit, or what limits it (empty when it fits comfortably). */
  reasons: string[];
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
  /** Whether the chat template thinks unless told not to. */
  thinkingByDefault: boolean;
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
}

/**
 * The engine as a page sees it. `chat` streams through `onChunk` as tokens are sampled and resolves
 * with the whole result; a second `chat` while one runs is rejected with EngineBusyError.
 * Callbacks are top-level arguments because comlink proxies only those across the worker boundary.
 */
export interface EngineApi {
  /** Whether `model` (repo id or base URL) fits this GPU, from its config and checkpoint headers alone. */
  checkFit(model: string, options?: { maxContext?: number }): Promise<ModelFit>;
  load(model: string, options?: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo>;
  chat(messages: ChatMessage[], options: ChatOptions, onChunk: (chunk: ChatChunk) => void): Promise<ChatResult>;
  /** Stops the running chat (it resolves with finishReason 'abort') or an in-progress load. */
  abort(): Promise<void>;
  unload(): Promise<void>;
  stats(): Promise<EngineStats>;
}
