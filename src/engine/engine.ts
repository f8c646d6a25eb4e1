import type {
  ChatChunk, ChatMessage, ChatOptions, ChatResult, EngineApi, EngineStats, FinishReason, GenerationStatsSnapshot,
  LoadOptions, LoadProgress, ModelFit, ModelInfo,
} from '../api.ts';
import { loadChatTemplate, promptEndsInThinking, type ChatTemplate } from '../chat/chat-template.ts';
import { loadGenerationConfig, type GenerationConfig } from '../chat/generation-config.ts';
import { ThinkingSplitter } from '../chat/thinking.ts';
import { loadTokenizer, type ChatTokenizer } from '../chat/tokenizer.ts';
import { TextGenerator } from '../generate/generator.ts';
import { requestEngineDevice } from '../gpu/device.ts';
import { CachedSource, CacheStorageBlockStore, type BlockStore } from '../loader/cached-source.ts';
import type { Checkpoint } from '../loader/checkpoint.ts';
import { openCheckpoint } from '../loader/checkpoint.ts';
import type { Qwen35Config } from '../loader/config.ts';
import { parseQwen35Config } from '../loader/config.ts';
import { AbortError, ContextLengthError, DeviceLostError, ModelTooLargeError } from '../loader/errors.ts';
import { FetchSource, HttpStatusError } from '../loader/fetch-source.ts';
import { readJsonFile } from '../loader/file-source.ts';
import { resolveModelSource } from '../loader/hub.ts';
import { checkpointWeightNames } from '../loader/expert-layout.ts';
import { visionWeightNames } from '../loader/vision-names.ts';
import { estimateModelFit, formatBytes } from '../model/fit.ts';
import { Qwen35Model } from '../model/qwen35.ts';
import { EngineBusyError, ModelNotFoundError, NoModelError, StorageError } from './errors.ts';
import { loadVisionSupport, preparePrompt, type VisionSupport } from './multimodal.ts';
import { samplingFor, validateMessages } from './request.ts';
import { snapshot } from './stats.ts';

const DEFAULT_CONTEXT = 4096;
const DEFAULT_MAX_TOKENS = 1024;
const PREFILL_CHUNK = 128;
/** The repo's small files a load reads besides the weights (the processor configs only exist for vision models). */
const REPO_FILES = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'generation_config.json', 'preprocessor_config.json', 'video_preprocessor_config.json'];
/** Content part types by what the model can read: text models text only, vision models images and video too. */
const TEXT_ONLY: ModelInfo['accepts'] = ['text'];
const MULTIMODAL: ModelInfo['accepts'] = ['text', 'image_url', 'image', 'video'];

interface Loaded {
  info: ModelInfo;
  model: Qwen35Model;
  generator: TextGenerator;
  tokenizer: ChatTokenizer;
  template: ChatTemplate;
  generation: GenerationConfig;
  vision: VisionSupport | null;
}

/** A model repo opened far enough to know what it is: config and checkpoint headers, no weights. */
interface OpenedRepo {
  label: string;
  source: CachedSource;
  config: Qwen35Config;
  checkpoint: Checkpoint;
}

/** A byte range a load reads. */
interface Read {
  path: string;
  start: number;
  end: number;
}

/**
 * The engine behind the public API: resolves a repo id or URL, downloads through the block cache,
 * checks the model fits, loads weights, tokenizer and chat template, and runs one request at a
 * time, streaming thinking and answer text as tokens are sampled. Browser-free apart from forBrowser().
 */
export class QwenEngine implements EngineApi {
  private loaded: Loaded | null = null;
  private device: GPUDevice | null = null;
  private busyWith: string | null = null;
  private controller: AbortController | null = null;
  private last: GenerationStatsSnapshot | null = null;

  constructor(
    private readonly createDevice: () => Promise<GPUDevice>,
    private readonly store: BlockStore,
  ) {}

  /** navigator.gpu for the device, Cache Storage for the downloads: in a page or a worker. */
  static forBrowser(): QwenEngine {
    return new QwenEngine(async () => requestEngineDevice(await navigator.gpu?.requestAdapter()), new CacheStorageBlockStore());
  }

  async checkFit(model: string, options: LoadOptions = {}): Promise<ModelFit> {
    const device = await this.gpu();
    // Peeking reads config.json and the checkpoint headers without filling cache blocks: checking
    // costs kilobytes, not the first block of every shard.
    const repo = await this.open(model, { peek: true });
    const fit = fitOf(repo, device, options);
    const reads = await plannedReads(repo);
    const downloadBytes = reads.reduce((sum, r) => sum + r.end - r.start, 0);
    const cachedBytes = await repo.source.storedBytes(reads);
    const warnings: string[] = [];
    const storage = await this.store.estimate?.();
    const free = storage ? storage.quota - storage.usage : Infinity;
    if (downloadBytes - cachedBytes > free) {
      warnings.push(`This site may store ${formatBytes(Math.max(0, free))} more, less than the ${formatBytes(downloadBytes - cachedBytes)} left to download: the model will run but not be fully cached, so it will not load offline`);
    }
    return { fits: fit.fits, requiredBytes: fit.requiredBytes, downloadBytes, cachedBytes, reasons: fit.reasons, warnings, gpu: describeGpu(device) };
  }

  async load(model: string, options: LoadOptions = {}, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
    this.claim(`loading ${model}`);
    const controller = (this.controller = new AbortController());
    const aborted = () => {
      if (controller.signal.aborted) throw new AbortError('Loading the model');
    };
    try {
      const device = await this.gpu();
      // Everything up to the weights runs before the loaded model is let go: a wrong id, an
      // unsupported or too large model leaves the current one in place.
      // The fit is decided from peeked headers, so a refused model costs no cache block of weights.
      const fit = fitOf(await this.open(model, { peek: true }), device, options);
      if (!fit.fits) throw new ModelTooLargeError(`${model} does not fit this GPU: ${fit.reasons.join('; ')}`);
      const repo = await this.open(model, { onProgress });
      const { config, source } = repo;
      const maxContext = contextOf(config, options);
      // Announce every byte the load will read, so progress has its totals from the start.
      source.planDownload(totalsByFile(await plannedReads(repo)));
      aborted();
      const tokenizer = await loadTokenizer(source);
      const template = await loadChatTemplate(source, tokenizer.config);
      const generation = await loadGenerationConfig(source, [tokenizer.special.eos]);
      aborted();
      this.releaseModel();
      const qwen = await Qwen35Model.load(device, source, { maxContext, prefillChunk: PREFILL_CHUNK, quant: options.quant, signal: controller.signal });
      const vision = await loadVisionSupport(qwen.ctx, source, repo.checkpoint, config, tokenizer.config, { signal: controller.signal }).catch((e) => {
        qwen.destroy();
        throw e;
      });
      const info: ModelInfo = {
        model, modelType: config.modelType, numLayers: config.numLayers, hiddenSize: config.hiddenSize, vocabSize: config.vocabSize,
        maxContext, gpuBytes: qwen.gpuBytes, quant: options.quant ?? 'f16', thinkingByDefault: template.thinkingByDefault(), vision: vision?.info ?? null,
        accepts: vision ? MULTIMODAL : TEXT_ONLY,
        cacheError: source.storeError ? errorRecord(new StorageError(source.storeError)) : null,
      };
      this.loaded = { info, model: qwen, generator: new TextGenerator(qwen), tokenizer, template, generation, vision };
      return info;
    } finally {
      this.release();
    }
  }

  async chat(messages: ChatMessage[], options: ChatOptions, onChunk: (chunk: ChatChunk) => void): Promise<ChatResult> {
    const loaded = this.loaded;
    if (!loaded) throw new NoModelError();
    this.claim('a chat');
    const controller = (this.controller = new AbortController());
    try {
      validateMessages(messages, new Set(loaded.info.accepts), loaded.info.model);
      const { tokenizer, template, generation, generator } = loaded;
      const params = samplingFor(options ?? {}, generation);
      const request = await preparePrompt(loaded.vision, {
        messages, template, tokenizer, config: loaded.model.config, enableThinking: options?.enable_thinking,
        maxVisualTokens: options?.max_visual_tokens, maxContext: loaded.info.maxContext, signal: controller.signal,
      });
      const { prompt, ids } = request;
      // At least one token must fit after the prompt; say so before running anything.
      if (ids.length >= loaded.info.maxContext) {
        request.release();
        throw new ContextLengthError(ids.length + 1, loaded.info.maxContext);
      }
      const splitter = new ThinkingSplitter(tokenizer, {
        startInThinking: promptEndsInThinking(prompt), thinkStartId: tokenizer.special.thinkStart, thinkEndId: tokenizer.special.thinkEnd,
      });
      const stop = new Set(generation.eosTokenIds);
      const maxTokens = Math.min(options?.max_tokens ?? DEFAULT_MAX_TOKENS, loaded.info.maxContext - ids.length);
      let thinking = '';
      let answer = '';
      const tokenIds: number[] = [];
      const emit = (chunks: ChatChunk[]) => {
        for (const chunk of chunks) {
          if (chunk.channel === 'thinking') thinking += chunk.text;
          else answer += chunk.text;
          onChunk(chunk);
        }
      };
      let finishReason: FinishReason = 'length';
      // Each request is a whole conversation: the cache starts empty (prefix reuse is future work).
      generator.reset();
      try {
        const stream = generator.generate(ids, { maxTokens, sampling: params, stopTokens: [...stop], seed: options?.seed, signal: controller.signal, prefill: request.prefill });
        for await (const id of stream) {
          if (stop.has(id)) {
            finishReason = 'stop';
            break;
          }
          tokenIds.push(id);
          emit(splitter.push(id));
        }
      } catch (e) {
        if (!(e instanceof AbortError)) throw e;
        finishReason = 'abort';
      } finally {
        request.release();
      }
      emit(splitter.flush());
      this.last = snapshot(generator.stats);
      return { thinking, answer, tokenIds, finishReason, stats: this.last };
    } finally {
      this.release();
    }
  }

  async abort(): Promise<void> {
    this.controller?.abort();
  }

  async unload(): Promise<void> {
    if (this.busyWith) throw new EngineBusyError(this.busyWith);
    this.releaseModel();
  }

  async stats(): Promise<EngineStats> {
    return { loaded: this.loaded?.info ?? null, gpuBytes: this.loaded?.model.gpuBytes ?? 0, last: this.last, busy: this.busyWith !== null };
  }

  /** Resolves the model string and reads config.json and the checkpoint headers (through the cache). */
  private async open(model: string, options: { onProgress?: (p: LoadProgress) => void; peek?: boolean }): Promise<OpenedRepo> {
    const { baseUrl, label } = resolveModelSource(model);
    const source = new CachedSource(new FetchSource(baseUrl), { model: label, store: this.store, ...options });
    let configSize: number | null;
    try {
      configSize = await source.size('config.json');
    } catch (e) {
      // The Hub answers 401 for a repo that does not exist (or is private) when asked without a token.
      if (e instanceof HttpStatusError && [401, 403, 404].includes(e.status)) throw new ModelNotFoundError(label, e.problem);
      throw e;
    }
    if (configSize === null) throw new ModelNotFoundError(label, `${baseUrl}config.json answered HTTP 404`);
    const config = parseQwen35Config(await readJsonFile(source, 'config.json'));
    return { label, source, config, checkpoint: await openCheckpoint(source) };
  }

  private async gpu(): Promise<GPUDevice> {
    if (this.device) return this.device;
    const device = await this.createDevice();
    this.device = device;
    // A lost device takes the model with it; the next load makes a new device.
    void device.lost.then((info) => {
      if (this.device !== device) return;
      this.device = null;
      this.loaded = null;
      this.controller?.abort(new DeviceLostError(info.message || info.reason));
    });
    return device;
  }

  private claim(what: string): void {
    if (this.busyWith) throw new EngineBusyError(this.busyWith);
    this.busyWith = what;
  }

  private release(): void {
    this.busyWith = null;
    this.controller = null;
  }

  private releaseModel(): void {
    this.loaded?.model.destroy();
    this.loaded = null;
  }
}

/**
 * The byte ranges a load reads: each checkpoint file's header, the tensors the text model uses
 * (not mtp.*), the vision tower's when the checkpoint has one, and the tokenizer and processor files that exist.
 */
async function plannedReads({ config, checkpoint, source }: OpenedRepo): Promise<Read[]> {
  const reads: Read[] = [];
  const dataStart = new Map<string, number>();
  for (const t of checkpoint.tensors.values()) dataStart.set(t.file, Math.min(dataStart.get(t.file) ?? Infinity, t.begin));
  for (const [path, end] of dataStart) reads.push({ path, start: 0, end });
  const names = [...checkpointWeightNames(config, checkpoint).expectedShapes.keys()];
  if (config.vision && checkpoint.has('model.visual.patch_embed.proj.weight')) names.push(...visionWeightNames(config.vision).expectedShapes.keys());
  for (const name of names) {
    const t = checkpoint.get(name);
    reads.push({ path: t.file, start: t.begin, end: t.end });
  }
  for (const path of REPO_FILES) {
    const size = await source.size(path);
    if (size) reads.push({ path, start: 0, end: size });
  }
  return reads;
}

function totalsByFile(reads: Read[]): { path: string; size: number }[] {
  const totals = new Map<string, number>();
  for (const r of reads) totals.set(r.path, (totals.get(r.path) ?? 0) + r.end - r.start);
  return [...totals].map(([path, size]) => ({ path, size }));
}

function describeGpu(device: GPUDevice): string {
  const info = device.adapterInfo;
  const parts = info ? [info.vendor, info.architecture, info.description].filter(Boolean) : [];
  return `${parts.length ? parts.join(' ') : 'WebGPU adapter'} (buffers up to ${formatBytes(device.limits.maxStorageBufferBindingSize)})`;
}

function errorRecord(e: StorageError): { code: string; message: string } {
  return { code: e.code, message: e.message };
}

function contextOf(config: Qwen35Config, options: LoadOptions): number {
  return Math.min(options.maxContext ?? DEFAULT_CONTEXT, config.maxPositionEmbeddings);
}

function fitOf(repo: OpenedRepo, device: GPUDevice, options: LoadOptions) {
  return estimateModelFit(repo.config, repo.checkpoint, device.limits, {
    maxContext: contextOf(repo.config, options), prefillChunk: PREFILL_CHUNK, storage: 'f16', vision: true,
    quant: options.quant, memoryBudgetBytes: options.memoryBudgetBytes,
  });
}
