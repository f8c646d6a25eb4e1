import type { LoadProgress, ModelFit } from '../api.ts';
import { displayName } from './catalog.ts';
import { errorCard } from './conversation.ts';
import { h, icon, logoMark, replace, type IconName } from './dom.ts';
import { formatBytes, percent, type ErrorLike } from './format.ts';

export type CardState =
  | { kind: 'checking' }
  | { kind: 'fit'; fit: ModelFit }
  | { kind: 'loading'; fit: ModelFit | null }
  | { kind: 'error'; error: ErrorLike; fit: ModelFit | null; retry: 'check' | 'load' };

export interface CardHandlers {
  load(): void;
  cancel(): void;
  retry(what: 'check' | 'load'): void;
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
    const head = h('div', { class: 'card-head' }, logoMark(),
      h('div', {}, h('h2', {}, displayName(model)), h('p', {}, model)));
    const choose = this.handlers.choose && h('button', { type: 'button', class: 'secondary', onclick: () => this.handlers.choose!() }, 'Choose another model');
    switch (state.kind) {
      case 'checking':
        replace(this.element, head, h('ul', { class: 'facts', 'aria-busy': 'true' },
          h('li', {}, icon('chip'), 'Checking whether it fits this GPU…'),
          h('li', {}, h('div', { class: 'skeleton', style: 'width:70%' })),
          h('li', {}, h('div', { class: 'skeleton', style: 'width:45%' }))));
        break;
      case 'fit': {
        const { fit } = state;
        const cached = fit.cachedBytes >= fit.downloadBytes;
        const load = h('button', { type: 'button', class: 'primary', disabled: !fit.fits, onclick: () => this.handlers.load() },
          icon(cached ? 'spark' : 'download'), cached ? 'Load model' : `Download ${formatBytes(fit.downloadBytes - fit.cachedBytes)} and load`);
        replace(this.element, head, facts(fit), h('div', { class: 'actions' }, load, choose));
        break;
      }
      case 'loading':
        this.resetProgress();
        replace(this.element, head, state.fit ? facts(state.fit) : null, this.progressView(),
          h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => this.handlers.cancel() }, 'Cancel')));
        break;
      case 'error': {
        // Trying again helps when something broke on the way (network, GPU); not when the model is wrong.
        const transient = !PERMANENT.has(state.error.code ?? '');
        const retry = h('button', { type: 'button', class: transient || !choose ? 'primary' : 'secondary', onclick: () => this.handlers.retry(state.retry) }, icon('refresh'), 'Try again');
        if (choose && !transient) choose.className = 'primary';
        replace(this.element, head, state.fit ? facts(state.fit) : null, errorCard(state.error),
          h('div', { class: 'actions' }, ...(transient || !choose ? [retry, choose] : [choose, retry])));
        break;
      }
    }
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

/** The fit check, in words: GPU verdict, download size and cache state, the adapter, warnings. */
function facts(fit: ModelFit): HTMLElement {
  const left = fit.downloadBytes - fit.cachedBytes;
  const download = left <= 0 ? `Stored on this device (${formatBytes(fit.downloadBytes)}): loads without the network`
    : fit.cachedBytes > 0 ? `${formatBytes(left)} of ${formatBytes(fit.downloadBytes)} left to download; the rest is stored on this device`
      : `${formatBytes(fit.downloadBytes)} to download once, then stored on this device`;
  return h('ul', { class: 'facts', 'data-fits': String(fit.fits) },
    fit.fits
      ? fact('check', 'ok', `Fits this GPU: needs ${formatBytes(fit.requiredBytes)} of GPU memory`)
      : fact('alert', 'bad', 'Doesn’t fit this GPU', h('ul', {}, ...fit.reasons.map((r) => h('li', {}, r)))),
    fact('download', null, download),
    fact('chip', null, fit.gpu),
    ...fit.warnings.map((w) => fact('alert', 'warn', w)));
}
