import type {
  ChatChunk, ChatMessage, ChatOptions, ChatResult, EngineApi, EngineStats, FinishReason, GenerationStatsSnapshot,
  LoadOptions, LoadProgress, ModelFit, ModelInfo,
} from '../api.ts';
import { loadChatTemplate, promptEndsInThinking, type ChatTemplate } from '../chat/chat-template.ts';
import { loadGenerationConfig, type GenerationConfig } from '../chat/generation-config.ts';
import { ThinkingSplitter } from '../chat/thinking.ts';
import { loadTokenizer, type ChatTokenizer } from '../chat/tokenizer.ts';
import { TextGenerator } from '../generate/generator.ts';
import type { SamplingParams } from '../api.ts';
import { requestEngineDevice } from '../gpu/device.ts';
import { CachedSource, CacheStorageBlockStore, type BlockStore } from '../loader/cached-source.ts';
import { openCheckpoint } from '../loader/checkpoint.ts';
import { parseQwen35Config } from '../loader/config.ts';
import { AbortError, DeviceLostError, ModelTooLargeError, UnsupportedModelError } from '../loader/errors.ts';
import { FetchSource } from '../loader/fetch-source.ts';
import { readJsonFile, type FileSource } from '../loader/file-source.ts';
import { resolveModelSource } from '../loader/hub.ts';
import { estimateModelFit } from '../model/fit.ts';
import { Qwen35Model } from '../model/qwen35.ts';
import { EngineBusyError, NoModelError } from './errors.ts';
import { snapshot } from './stats.ts';

const DEFAULT_CONTEXT = 4096;
const DEFAULT_MAX_TOKENS = 1024;
const PREFILL_CHUNK = 128;
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'generation_config.json'];

interface Loaded {
  info: ModelInfo;
  model: Qwen35Model;
  generator: TextGenerator;
  tokenizer: ChatTokenizer;
  template: ChatTemplate;
  generation: GenerationConfig;
}

/**
 * The engine behind the public API: resolves a repo id or URL, downloads through the block cache,
 * checks the model fits, loads weights, tokenizer and chat template, and runs one chat at a time,
 * streaming thinking and answer text as tokens are sampled. Browser-free apart from forBrowser().
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

  async checkFit(model: string, options: { maxContext?: number } = {}): Promise<ModelFit> {
    const device = await this.gpu();
    const source = this.sourceFor(model);
    const config = parseQwen35Config(await readJsonFile(source, 'config.json'));
    const checkpoint = await openCheckpoint(source);
    const fit = estimateModelFit(config, checkpoint, device.limits, {
      maxContext: options.maxContext ?? DEFAULT_CONTEXT, prefillChunk: PREFILL_CHUNK, storage: 'f16',
    });
    return { fits: fit.fits, requiredBytes: fit.requiredBytes, reasons: fit.reasons };
  }

  async load(model: string, options: LoadOptions = {}, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
    this.claim(`loading ${model}`);
    const controller = (this.controller = new AbortController());
    try {
      await this.release_model();
      const device = await this.gpu();
      const source = this.sourceFor(model, onProgress);
      const config = parseQwen35Config(await readJsonFile(source, 'config.json'));
      const checkpoint = await openCheckpoint(source);
      const maxContext = Math.min(options.maxContext ?? DEFAULT_CONTEXT, config.maxPositionEmbeddings);
      const fit = estimateModelFit(config, checkpoint, device.limits, { maxContext, prefillChunk: PREFILL_CHUNK, storage: 'f16', quant: options.quant });
      if (!fit.fits) throw new ModelTooLargeError(`${model} does not fit this GPU: ${fit.reasons.join('; ')}`);
      // Announce every byte the load will read, so progress has its total from the start.
      const shards = [...new Set([...checkpoint.tensors.values()].map((t) => t.file))];
      const files = [...shards, ...TOKENIZER_FILES];
      const sizes = await Promise.all(files.map(async (path) => ({ path, size: (await source.size(path)) ?? 0 })));
      source.planDownload(sizes.filter((f) => f.size > 0));

      const tokenizer = await loadTokenizer(source);
      const template = await loadChatTemplate(source, tokenizer.config);
      const generation = await loadGenerationConfig(source, [tokenizer.special.eos]);
      const qwen = await Qwen35Model.load(device, source, { maxContext, prefillChunk: PREFILL_CHUNK, quant: options.quant, signal: controller.signal });
      const info: ModelInfo = {
        model, modelType: config.modelType, numLayers: config.numLayers, hiddenSize: config.hiddenSize, vocabSize: config.vocabSize,
        maxContext, gpuBytes: qwen.gpuBytes, thinkingByDefault: template.thinkingByDefault(),
      };
      this.loaded = { info, model: qwen, generator: new TextGenerator(qwen), tokenizer, template, generation };
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
      for (const m of messages) {
        if (typeof m.content !== 'string' && m.content.some((part) => part.type !== 'text')) {
          throw new UnsupportedModelError('Image and video input need the vision tower, which this engine does not run yet');
        }
      }
      const { tokenizer, template, generation, generator } = loaded;
      const prompt = template.render(messages, { enableThinking: options.enable_thinking });
      const ids = tokenizer.encode(prompt);
      const splitter = new ThinkingSplitter(tokenizer, {
        startInThinking: promptEndsInThinking(prompt), thinkStartId: tokenizer.special.thinkStart, thinkEndId: tokenizer.special.thinkEnd,
      });
      const stop = new Set(generation.eosTokenIds);
      const room = loaded.info.maxContext - ids.length;
      const maxTokens = Math.max(1, Math.min(options.max_tokens ?? DEFAULT_MAX_TOKENS, room));
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
        const stream = generator.generate(ids, { maxTokens, sampling: sampling(options, generation), stopTokens: [...stop], seed: options.seed, signal: controller.signal });
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
    await this.release_model();
  }

  async stats(): Promise<EngineStats> {
    return { loaded: this.loaded?.info ?? null, gpuBytes: this.loaded?.model.gpuBytes ?? 0, last: this.last, busy: this.busyWith !== null };
  }

  private sourceFor(model: string, onProgress?: (p: LoadProgress) => void): CachedSource {
    const { baseUrl, label } = resolveModelSource(model);
    const network: FileSource = new FetchSource(baseUrl);
    return new CachedSource(network, { model: label, store: this.store, onProgress });
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

  private async release_model(): Promise<void> {
    this.loaded?.model.destroy();
    this.loaded = null;
  }
}

function sampling(options: ChatOptions, generation: GenerationConfig): SamplingParams {
  const d = generation.defaults;
  return {
    temperature: options.temperature ?? (d.do_sample ? d.temperature : 0),
    topK: options.top_k ?? d.top_k,
    topP: options.top_p ?? d.top_p,
    repetitionPenalty: options.repetition_penalty ?? d.repetition_penalty,
    presencePenalty: options.presence_penalty ?? d.presence_penalty,
    frequencyPenalty: options.frequency_penalty ?? 0,
  };
}
