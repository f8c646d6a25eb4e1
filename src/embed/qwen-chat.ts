import type { ChatMessage, ChatOptions, ModelInfo } from '../api.ts';
import { createWorkerEngine, type EngineClient } from '../worker/client.ts';
import { createFramesWorker, type FramesWorker } from '../worker/frames-client.ts';
import { discard, messageOf, type UserTurn } from './attachments.ts';
import { CameraDialog } from './camera.ts';
import { displayName } from './catalog.ts';
import { Composer, type Draft } from './composer.ts';
import { Conversation } from './conversation.ts';
import { ModelPicker, SettingsDialog, type ChatSettings } from './dialogs.ts';
import { h, icon } from './dom.ts';
import { dropMessage, dropZone } from './drop-zone.ts';
import { FitChecks } from './fit-checks.ts';
import { asErrorLike, formatMemory, percent, type ErrorLike } from './format.ts';
import type { WeightFormat } from './load-settings.ts';
import { ModelCard } from './model-card.ts';
import { STYLES } from './styles.ts';
import { welcomeView } from './welcome.ts';

type Phase = 'idle' | 'checking' | 'choose' | 'loading' | 'ready' | 'error';

/**
 * `<qwen-chat model="Qwen/Qwen3.5-0.8B">`: a complete chat UI in a shadow root, with the engine in a
 * Web Worker. Attributes: `model` (repo id or base URL), `autoload` (download without asking once the
 * fit check passes; a fully cached model always loads), `picker` (let the user choose the model),
 * `system` (a system prompt), `theme` (light or dark), `full` (no frame, for full-page use),
 * `weights` (f16, q8 or q4: the format loaded) and `memory-budget` (GPU memory the model may take:
 * bytes or "8GiB", "6 GB"…); a value of those two it cannot read is warned about on the console and
 * ignored. Changing either checks the fit again. The card's weights choice is reflected to `weights`.
 * Events (bubbling, composed): qwen-model {model}, qwen-load-options {model, weights, memoryBudget}
 * (the user changed either; memoryBudget is the attribute's text or null), qwen-load {ModelInfo},
 * qwen-answer {ChatResult}, qwen-error {name, code, message}.
 */
export class QwenChatElement extends HTMLElement {
  static observedAttributes = ['model', 'picker', 'system', 'weights', 'memory-budget'];

  /** Set before the element connects to share one engine (one worker, one GPU device) between elements. */
  engine: EngineClient | null = null;
  private ownsEngine = false;
  private built = false;
  private selected = '';
  private phase: Phase = 'idle';
  /** The weight format and budget loads use, and the selected model's fit in each format. */
  private readonly checks = new FitChecks();
  private info: ModelInfo | null = null;
  /** The conversation so far; user turns keep their attachments, made into messages at each send. */
  private history: (UserTurn | ChatMessage)[] = [];
  /** Resizes video frames off the main thread; started with the first clip. */
  private frames: FramesWorker | null = null;
  /** Bumped by clear(): an answer still finishing from before does not join the new conversation. */
  private epoch = 0;
  private generating = false;
  /** The running load or chat, so a model switch can stop it and wait before starting its own. */
  private running: Promise<void> | null = null;
  private settings: ChatSettings = { temperature: null, topP: null, maxTokens: 1024, system: '', maxVisualTokens: null };
  private stickToBottom = true;

  private readonly statusEl = h('span', { class: 'status', role: 'status' });
  private readonly modelButton = h('button', { type: 'button', class: 'model-button', 'aria-haspopup': 'dialog' });
  private readonly notice = h('div', { class: 'notice', role: 'status', hidden: true });
  private readonly scroller = h('main', { class: 'scroller' });
  private readonly welcome = welcomeView((text) => void this.send(text));
  private readonly live = h('div', { class: 'visually-hidden', 'aria-live': 'polite' });
  private readonly card = new ModelCard({
    load: () => void this.load(),
    cancel: () => void this.engine?.abort(),
    retry: (what) => void (what === 'check' ? this.select(this.selected, true) : this.load()),
    weights: (format) => this.chooseWeights(format),
    choose: () => this.openPicker(),
  });
  private readonly conversation = new Conversation((text) => (this.live.textContent = text), () => this.followOutput());
  private readonly composer = new Composer({
    send: (draft) => void this.send(draft),
    stop: () => void this.stop(),
    record: () => this.info?.vision && void this.camera.open(this.info.vision),
    fitter: () => this.fitter(),
  });
  private readonly camera = new CameraDialog((clip) => this.composer.add(clip), () => this.fitter());
  private readonly picker = new ModelPicker((model) => this.setAttribute('model', model), {
    current: () => ({ weights: this.checks.quant, budget: this.checks.budget }),
    setWeights: (format) => this.userSets('weights', format),
    setBudget: (text) => this.userSets('memory-budget', text),
  });
  private readonly settingsDialog = new SettingsDialog(this.settings);

  get model(): string {
    return this.getAttribute('model') ?? '';
  }

  set model(value: string) {
    this.setAttribute('model', value);
  }

  /** The `weights` attribute as read (f16 when it is absent or unreadable). */
  get weights(): WeightFormat { return this.checks.quant; }
  set weights(value: WeightFormat) { this.setAttribute('weights', value); }
  /** The `memory-budget` attribute in bytes (null: none); set a number, or null to remove it. */
  get memoryBudget(): number | null { return this.checks.budget; }
  set memoryBudget(bytes: number | null) { if (bytes === null) this.removeAttribute('memory-budget'); else this.setAttribute('memory-budget', String(bytes)); }

  /** The loaded model's description, once loaded. */
  get loaded(): ModelInfo | null {
    return this.info;
  }

  connectedCallback(): void {
    if (!this.built) this.build();
    if (!this.engine) {
      this.engine = createWorkerEngine();
      this.ownsEngine = true;
    }
    this.modelButton.disabled = !this.hasAttribute('picker');
    if (this.model && this.model !== this.selected) void this.select(this.model);
    else this.render();
  }

  disconnectedCallback(): void {
    // Moving the element fires disconnect then connect; only a real removal ends its worker.
    queueMicrotask(() => {
      if (this.isConnected || !this.ownsEngine || !this.engine) return;
      this.engine.terminate();
      this.engine = null;
      this.frames?.terminate();
      this.frames = null;
      this.ownsEngine = false;
      this.info = null;
      this.selected = '';
      this.phase = 'idle';
    });
  }

  attributeChangedCallback(name: string): void {
    if (!this.isConnected || !this.built) return;
    if (name === 'model' && this.model !== this.selected) void this.select(this.model);
    if (name === 'picker') this.modelButton.disabled = !this.hasAttribute('picker');
    if (name === 'system') this.settings.system = this.getAttribute('system') ?? '';
    if ((name === 'weights' || name === 'memory-budget') && this.checks.readAttributes(this) && this.selected) void this.select(this.selected, true);
  }

  /** The card's choice (before a load, or after one failed): reflected to the attribute, which then changes nothing. */
  private chooseWeights(format: WeightFormat): void {
    if (format === this.checks.quant || (this.phase !== 'choose' && this.phase !== 'error')) return;
    this.checks.quant = format;
    this.phase = 'choose';
    this.userSets('weights', format);
    this.showFit();
  }

  /** A load setting the user changed (card or picker): reflected to its attribute, and announced. */
  private userSets(name: 'weights' | 'memory-budget', value: string): void {
    if (value) this.setAttribute(name, value);
    else this.removeAttribute(name);
    this.emit('qwen-load-options', { model: this.selected, weights: this.checks.quant, memoryBudget: this.getAttribute('memory-budget') });
  }

  private showFit(): void {
    this.card.show(this.selected, { kind: 'fit', fit: this.checks.fit, weights: this.checks.view() });
  }

  /** Loads the selected model now (what the card's button does). */
  load(): Promise<void> {
    if (!this.selected || !this.engine || this.phase === 'loading') return this.running ?? Promise.resolve();
    return this.track(this.runLoad(this.selected, this.engine));
  }

  private async runLoad(model: string, engine: EngineClient): Promise<void> {
    this.phase = 'loading';
    this.card.show(model, { kind: 'loading', fit: this.checks.fit, weights: this.checks.view() });
    this.render();
    try {
      const info = await engine.load(model, {
        ...this.checks.options(),
        onProgress: (p) => {
          this.card.progress(p);
          this.setStatus('busy', `${p.from === 'network' ? 'Downloading' : 'Loading'} ${percent(p.overallLoadedBytes, p.overallTotalBytes)}%`);
        },
      });
      if (model !== this.selected) return;
      this.info = info;
      this.phase = 'ready';
      this.composer.thinking = info.thinkingByDefault;
      this.showNotice(info.cacheError);
      this.emit('qwen-load', info);
      this.composer.focus();
    } catch (e) {
      if (model !== this.selected) return;
      const error = asErrorLike(e);
      if (error.code === 'aborted' && this.checks.fit) {
        this.phase = 'choose';
        this.showFit();
      } else {
        this.phase = 'error';
        this.card.show(model, { kind: 'error', error, fit: this.checks.fit, retry: 'load', weights: this.checks.view() });
        this.emit('qwen-error', error);
      }
    }
    this.render();
  }

  /** Sends a message as if typed (with no attachments). */
  send(draft: Draft | string): Promise<void> {
    if (!this.engine || this.phase !== 'ready' || this.generating) return Promise.resolve();
    return this.track(this.runChat(typeof draft === 'string' ? { text: draft, attachments: [] } : draft, this.engine));
  }

  private async runChat({ text, attachments }: Draft, engine: EngineClient): Promise<void> {
    const epoch = this.epoch;
    const turn: UserTurn = { role: 'user', text, attachments };
    const system: ChatMessage[] = this.settings.system.trim() ? [{ role: 'system', content: this.settings.system.trim() }] : [];
    this.conversation.addUser(text, attachments);
    const userBubble = this.conversation.element.lastElementChild;
    const answer = this.conversation.startAssistant();
    this.generating = true;
    this.stickToBottom = true;
    this.render();
    const options: ChatOptions = { max_tokens: this.settings.maxTokens, enable_thinking: this.composer.thinking };
    if (this.settings.temperature !== null) options.temperature = this.settings.temperature;
    if (this.settings.topP !== null) options.top_p = this.settings.topP;
    if (this.settings.maxVisualTokens !== null) options.max_visual_tokens = this.settings.maxVisualTokens;
    try {
      // Every send is the whole conversation; clips' frames are read afresh and transferred, not copied.
      const made = await Promise.all([...this.history, turn].map((t) => ('text' in t ? messageOf(t) : { message: t, transfer: [] })));
      const stream = engine.chat([...system, ...made.map((m) => m.message)], options, made.flatMap((m) => m.transfer));
      for await (const chunk of stream) answer.push(chunk);
      const result = await stream.result;
      answer.finish(result);
      if (epoch === this.epoch) this.history.push(turn, { role: 'assistant', content: result.answer, reasoning_content: result.thinking || undefined });
      else attachments.forEach(discard);
      this.emit('qwen-answer', result);
    } catch (e) {
      const error = asErrorLike(e);
      answer.fail();
      userBubble?.remove();
      this.conversation.addError(error);
      this.composer.restore({ text, attachments });
      this.emit('qwen-error', error);
      // The model is gone with the GPU device: back to the card, which offers to load it again.
      if (error.code === 'device-lost' || error.code === 'no-model') {
        this.info = null;
        this.phase = 'error';
        this.card.show(this.selected, { kind: 'error', error, fit: this.checks.fit, retry: 'load', weights: this.checks.view() });
      }
    } finally {
      this.generating = false;
      this.render();
    }
  }

  async stop(): Promise<void> {
    if (this.generating) await this.engine?.abort();
  }

  /** A new conversation (the model stays loaded). */
  clear(): void {
    void this.stop();
    this.epoch++;
    for (const t of this.history) if ('attachments' in t) t.attachments.forEach(discard);
    this.history = [];
    this.conversation.clear();
    this.render();
  }

  private build(): void {
    this.built = true;
    this.settings.system = this.getAttribute('system') ?? '';
    this.checks.readAttributes(this);
    const root = this.attachShadow({ mode: 'open' });
    this.modelButton.addEventListener('click', () => this.openPicker());
    const newChat = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'New chat', title: 'New chat', onclick: () => this.clear() }, icon('plus', 20));
    const settings = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Settings', title: 'Settings', onclick: () => this.settingsDialog.open(this.info?.vision ?? null) }, icon('gear', 20));
    this.scroller.addEventListener('scroll', () => {
      const { scrollTop, scrollHeight, clientHeight } = this.scroller;
      this.stickToBottom = scrollHeight - scrollTop - clientHeight < 80;
    }, { passive: true });
    this.scroller.append(h('div', { class: 'column' }, this.card.element, this.welcome, this.conversation.element));
    const app = h('div', { class: 'app', part: 'app' });
    const overlay = dropZone(app, () => (this.phase === 'ready' ? dropMessage(this.info) : null), (files) => this.composer.addFiles(files));
    app.append(
      h('header', { class: 'bar' }, h('slot', { name: 'brand' }), this.modelButton, this.statusEl, h('span', { class: 'spacer' }), newChat, settings),
      this.notice,
      this.scroller,
      h('footer', { class: 'composer-wrap' }, this.composer.element,
        h('p', { class: 'fineprint' }, 'Runs locally with WebGPU: nothing you type or attach leaves this device.')),
      this.live,
      overlay);
    root.append(h('style', {}, STYLES), app, this.picker.element, this.settingsDialog.element, this.camera.element);
  }

  private fitter() {
    this.frames ??= createFramesWorker();
    return this.frames.fit;
  }

  /** Shows a model: its fit check, then (if allowed) its load. An already loaded model is ready at once. */
  private async select(model: string, force = false): Promise<void> {
    const engine = this.engine;
    if (!engine || (!force && model === this.selected)) return;
    // One request at a time: a running load or answer is stopped, and finishes, before anything else starts.
    if (this.running) {
      await engine.abort();
      await this.running;
    }
    this.selected = model;
    this.checks.reset();
    this.showNotice(null);
    this.emit('qwen-model', { model });
    if (!model) {
      this.phase = 'idle';
      return this.render();
    }
    if (this.info?.model === model && this.info.quant === this.checks.quant) {
      this.phase = 'ready';
      return this.render();
    }
    this.phase = 'checking';
    this.card.show(model, { kind: 'checking' });
    this.render();
    try {
      const fit = await this.checks.checkChosen(engine, model);
      if (!fit) return;
      this.phase = 'choose';
      this.showFit();
      this.render();
      // The other formats' needs fill in the card's choice, while the chosen one loads if it may.
      const others = this.checks.checkOthers(engine, model).then((current) => current && (this.phase === 'choose' ? this.showFit() : this.card.updateWeights(this.checks.view())));
      if (fit.fits && (this.hasAttribute('autoload') || fit.cachedBytes >= fit.downloadBytes)) await this.load();
      else await others;
    } catch (e) {
      if (model !== this.selected) return;
      const error = asErrorLike(e);
      this.phase = 'error';
      this.card.show(model, { kind: 'error', error, fit: null, retry: 'check' });
      this.emit('qwen-error', error);
      this.render();
    }
  }

  private track(work: Promise<void>): Promise<void> {
    const running = work.finally(() => {
      if (this.running === running) this.running = null;
    });
    this.running = running;
    return running;
  }

  private render(): void {
    const ready = this.phase === 'ready';
    this.modelButton.replaceChildren(icon('chip', 18), h('span', { class: 'name' }, this.selected ? displayName(this.selected) : 'Choose a model'));
    if (ready && this.info) this.modelButton.append(h('span', { class: 'model-quant', title: `${this.info.quant} weights` }, `· ${this.info.quant}`));
    if (this.hasAttribute('picker')) this.modelButton.append(h('span', { class: 'chevron' }, icon('chevron', 16)));
    this.modelButton.title = this.selected;
    this.card.element.hidden = ready || this.phase === 'idle';
    this.conversation.element.hidden = !ready;
    this.welcome.hidden = !ready || !this.conversation.isEmpty;
    this.composer.setModel(ready ? this.info : null);
    this.composer.setState({ ready, generating: this.generating });
    if (this.generating) this.setStatus('busy', 'Generating…');
    else if (ready) this.setStatus('ready', 'Ready', `${formatMemory(this.info?.gpuBytes ?? 0)} on the GPU`);
    else if (this.phase === 'checking') this.setStatus('busy', 'Checking…');
    else if (this.phase === 'error') this.setStatus('error', 'Error');
    else if (this.phase !== 'loading') this.setStatus('idle', 'Not loaded');
  }

  private setStatus(state: string, text: string, detail = ''): void {
    this.statusEl.dataset.state = state;
    this.statusEl.title = detail || text;
    this.statusEl.replaceChildren(h('span', { class: 'status-text' }, text));
    this.statusEl.setAttribute('aria-label', detail ? `${text}, ${detail}` : text);
  }

  private showNotice(error: ErrorLike | null): void {
    this.notice.hidden = !error;
    if (!error) return;
    const dismiss = h('button', { type: 'button', 'aria-label': 'Dismiss', onclick: () => (this.notice.hidden = true) }, icon('close', 16));
    this.notice.replaceChildren(icon('alert', 18), h('p', {}, h('strong', {}, 'Not cached. '), error.message), dismiss);
  }

  private openPicker(): void {
    if (this.hasAttribute('picker')) this.picker.open(this.selected);
  }

  private followOutput(): void {
    if (this.stickToBottom) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

/** Registers the element (once) under `name`. */
export function defineQwenChat(name = 'qwen-chat'): void {
  if (!customElements.get(name)) customElements.define(name, class extends QwenChatElement {});
}

declare global {
  interface HTMLElementTagNameMap {
    'qwen-chat': QwenChatElement;
  }
}
