import type { LoadProgress, ModelFit } from '../api.ts';
import { displayName } from './catalog.ts';
import { errorCard } from './conversation.ts';
import { h, icon, logoMark, replace, type IconName } from './dom.ts';
import type { WeightsView } from './fit-checks.ts';
import { formatBytes, formatMemory, percent, type ErrorLike } from './format.ts';
import { WEIGHT_FORMATS, type WeightFormat } from './load-settings.ts';
import { keepWeightsFocus, weightsChoice } from './weights-choice.ts';

export type CardState =
  | { kind: 'checking' }
  /** fit null: the chosen format's check has not answered yet. */
  | { kind: 'fit'; fit: ModelFit | null; weights: WeightsView }
  | { kind: 'loading'; fit: ModelFit | null; weights: WeightsView }
  | { kind: 'error'; error: ErrorLike; fit: ModelFit | null; retry: 'check' | 'load'; weights?: WeightsView };

export interface CardHandlers {
  load(): void;
  cancel(): void;
  retry(what: 'check' | 'load'): void;
  /** The user chose another weight format for this load. */
  weights(format: WeightFormat): void;
  /** Absent when there is no picker to choose from. */
  choose?: () => void;
}

/** Error codes that trying again cannot fix: the model itself is the problem. */
const PERMANENT = new Set(['model-not-found', 'unsupported-model', 'model-too-large', 'bad-model-id', 'bad-config', 'malformed-checkpoint', 'bad-tokenizer']);

interface FileProgress {
  loaded: number;
  total: number;
}

/**
 * What the user sees before chatting: the model, whether it fits this GPU and what it costs to
 * download (all known before the download starts), then the download itself, overall and per file.
 */
export class ModelCard {
  readonly element = h('section', { class: 'card', 'aria-label': 'Model' });
  private files = new Map<string, FileProgress>();
  private overall = { loaded: 0, total: 0 };
  private fromNetwork = false;
  private speed = { bytes: 0, since: 0, rate: 0 };
  private bar: HTMLElement | null = null;
  private barFill: HTMLElement | null = null;
  private barText: HTMLElement | null = null;
  private barRight: HTMLElement | null = null;
  private fileList: HTMLElement | null = null;

  constructor(private readonly handlers: CardHandlers) {}

  show(model: string, state: CardState): void {
    keepWeightsFocus(this.element, () => this.render(model, state));
  }

  private render(model: string, state: CardState): void {
    const head = h('div', { class: 'card-head' }, logoMark(),
      h('div', {}, h('h2', {}, displayName(model)), h('p', {}, model)));
    const choose = this.handlers.choose && h('button', { type: 'button', class: 'secondary', onclick: () => this.handlers.choose!() }, 'Choose another model');
    switch (state.kind) {
      case 'checking':
        replace(this.element, head, checkingFacts());
        break;
      case 'fit': {
        const { fit, weights } = state;
        const cached = !!fit && fit.cachedBytes >= fit.downloadBytes;
        const load = h('button', { type: 'button', class: 'primary', disabled: !fit?.fits, onclick: () => this.handlers.load() },
          icon(cached ? 'spark' : 'download'), !fit || cached ? 'Load model' : `Download ${formatBytes(fit.downloadBytes - fit.cachedBytes)} and load`);
        replace(this.element, head, this.choice(weights), fit ? facts(fit, weights, (f) => this.handlers.weights(f)) : checkingFacts(),
          h('div', { class: 'actions' }, load, choose));
        break;
      }
      case 'loading':
        this.resetProgress();
        replace(this.element, head, this.choice(state.weights, true), state.fit ? facts(state.fit, state.weights) : null, this.progressView(),
          h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => this.handlers.cancel() }, 'Cancel')));
        break;
      case 'error': {
        // Trying again helps when something broke on the way (network, GPU); not when the model is wrong.
        const transient = !PERMANENT.has(state.error.code ?? '');
        const retry = h('button', { type: 'button', class: transient || !choose ? 'primary' : 'secondary', onclick: () => this.handlers.retry(state.retry) }, icon('refresh'), 'Try again');
        if (choose && !transient) choose.className = 'primary';
        replace(this.element, head, state.weights && this.choice(state.weights), state.fit ? facts(state.fit, state.weights) : null, errorCard(state.error),
          h('div', { class: 'actions' }, ...(transient || !choose ? [retry, choose] : [choose, retry])));
        break;
      }
    }
  }

  private choice(weights: WeightsView, disabled = false): HTMLElement {
    return weightsChoice(weights.chosen, (f) => this.handlers.weights(f), { fits: weights.fits, disabled });
  }

  /** Fills in the formats' needs while a load runs, leaving the progress view as it is. */
  updateWeights(weights: WeightsView): void {
    const current = this.element.querySelector('fieldset.weights');
    current?.replaceWith(this.choice(weights, (current as HTMLFieldSetElement).disabled));
  }

  progress(p: LoadProgress): void {
    if (!this.bar) return;
    this.files.set(p.file, { loaded: p.loadedBytes, total: p.totalBytes });
    if (p.overallTotalBytes > 0) this.overall = { loaded: p.overallLoadedBytes, total: p.overallTotalBytes };
    if (p.from === 'network') {
      this.fromNetwork = true;
      const now = performance.now();
      if (!this.speed.since) this.speed = { bytes: p.overallLoadedBytes, since: now, rate: 0 };
      else if (now - this.speed.since > 800) {
        this.speed.rate = ((p.overallLoadedBytes - this.speed.bytes) * 1000) / (now - this.speed.since);
        this.speed.bytes = p.overallLoadedBytes;
        this.speed.since = now;
      }
    }
    this.renderProgress();
  }

  private resetProgress(): void {
    this.files = new Map();
    this.overall = { loaded: 0, total: 0 };
    this.fromNetwork = false;
    this.speed = { bytes: 0, since: 0, rate: 0 };
  }

  private progressView(): HTMLElement {
    this.barFill = h('div', { class: 'fill' });
    this.bar = h('div', { class: 'track', role: 'progressbar', 'aria-label': 'Download progress', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 }, this.barFill);
    this.barText = h('span', {}, 'Starting…');
    this.barRight = h('span', {});
    this.fileList = h('ul', {});
    const view = h('div', { class: 'progress' }, this.bar, h('div', { class: 'progress-text' }, this.barText, this.barRight),
      h('details', { class: 'files', open: true }, h('summary', {}, 'Files'), this.fileList));
    this.renderProgress();
    return view;
  }

  private renderProgress(): void {
    const { loaded, total } = this.overall;
    const pct = percent(loaded, total);
    this.barFill!.style.width = `${pct}%`;
    this.bar!.setAttribute('aria-valuenow', String(pct));
    this.bar!.setAttribute('aria-valuetext', `${pct}%, ${formatBytes(loaded)} of ${formatBytes(total)}`);
    const done = total > 0 && loaded >= total;
    this.barText!.textContent = done ? 'Preparing the GPU…' : total === 0 ? 'Starting…'
      : `${this.fromNetwork ? 'Downloading' : 'Loading from this device'} · ${formatBytes(loaded)} of ${formatBytes(total)}`;
    this.barRight!.textContent = `${pct}%${this.speed.rate > 0 && !done ? ` · ${formatBytes(this.speed.rate)}/s` : ''}`;
    this.fileList!.replaceChildren(...[...this.files].map(([name, f]) => h('li', { 'data-file': name },
      h('span', { class: 'file-name', title: name }, name),
      h('div', { class: 'track', role: 'progressbar', 'aria-label': name, 'aria-valuenow': percent(f.loaded, f.total), 'aria-valuemin': 0, 'aria-valuemax': 100 },
        h('div', { class: 'fill', style: `width:${percent(f.loaded, f.total)}%` })),
      h('span', { class: 'file-size' }, `${formatBytes(f.loaded)} / ${formatBytes(f.total)}`))));
  }
}

function fact(iconName: IconName, tone: 'ok' | 'bad' | 'warn' | null, ...content: (string | HTMLElement)[]): HTMLElement {
  return h('li', { 'data-tone': tone }, icon(iconName), h('div', {}, ...content));
}

function checkingFacts(): HTMLElement {
  return h('ul', { class: 'facts', 'aria-busy': 'true' },
    h('li', {}, icon('chip'), 'Checking whether it fits this GPU…'),
    h('li', {}, h('div', { class: 'skeleton', style: 'width:70%' })),
    h('li', {}, h('div', { class: 'skeleton', style: 'width:45%' })));
}

/**
 * The fit check, in words: GPU verdict for the chosen weights (and, when they do not fit, the best
 * format that does, with a button to use it when `use` is given), the memory budget, download size
 * and cache state, the adapter, warnings.
 */
function facts(fit: ModelFit, weights?: WeightsView, use?: (format: WeightFormat) => void): HTMLElement {
  const left = fit.downloadBytes - fit.cachedBytes;
  const download = left <= 0 ? `Stored on this device (${formatBytes(fit.downloadBytes)}): loads without the network`
    : fit.cachedBytes > 0 ? `${formatBytes(left)} of ${formatBytes(fit.downloadBytes)} left to download; the rest is stored on this device`
      : `${formatBytes(fit.downloadBytes)} to download once, then stored on this device`;
  const inFormat = weights ? ` with ${weights.chosen} weights` : '';
  const alternative = !fit.fits && weights && WEIGHT_FORMATS.find((f) => f !== weights.chosen && weights.fits[f]?.fits);
  return h('ul', { class: 'facts', 'data-fits': String(fit.fits) },
    fit.fits
      ? fact('check', 'ok', `Fits this GPU${inFormat}: needs ${formatMemory(fit.requiredBytes)} of GPU memory`)
      : fact('alert', 'bad', `Doesn’t fit this GPU${inFormat}`, h('ul', {}, ...fit.reasons.map((r) => h('li', {}, r)))),
    alternative ? fact('check', 'ok', h('span', { class: 'alternative' },
      `Fits in ${alternative}: needs ${formatMemory(weights.fits[alternative]!.requiredBytes)}`,
      use && h('button', { type: 'button', class: 'secondary small', onclick: () => use(alternative) }, `Use ${alternative}`))) : null,
    weights?.budget != null ? fact('chip', null, `Memory budget: ${formatMemory(weights.budget)}`) : null,
    fact('download', null, download),
    fact('chip', null, fit.gpu),
    ...fit.warnings.map((w) => fact('alert', 'warn', w)));
}
