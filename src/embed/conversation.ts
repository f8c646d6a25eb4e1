import type { ChatChunk, ChatResult } from '../api.ts';
import type { Attachment } from './attachments.ts';
import { h, icon, logoMark, replace } from './dom.ts';
import { errorTitle, formatDuration, formatRate, type ErrorLike } from './format.ts';
import { parseMarkdown } from './markdown.ts';
import { renderMarkdown } from './markdown-dom.ts';
import { spoken, thumbnail } from './tray.ts';

/** An error shown as a card: the title from its code, then the engine's message. */
export function errorCard(error: ErrorLike, ...actions: HTMLElement[]): HTMLElement {
  return h('div', { class: 'alert', role: 'alert' }, icon('alert'), h('div', {},
    h('strong', {}, errorTitle(error)),
    h('p', {}, error.message),
    actions.length ? h('div', { class: 'actions', style: 'margin-top:10px' }, ...actions) : null,
  ));
}

/**
 * The message list. Streaming text lands in an element marked aria-busy, so screen readers read an
 * answer once it is complete instead of token by token; `announce` says when it is.
 */
export class Conversation {
  readonly element = h('div', { class: 'log', role: 'log', 'aria-label': 'Conversation', 'aria-live': 'polite' });

  constructor(private readonly announce: (text: string) => void, private readonly onGrow: () => void) {}

  get isEmpty(): boolean {
    return this.element.childElementCount === 0;
  }

  addUser(text: string, attachments: Attachment[]): void {
    const thumbs = attachments.length
      ? h('ul', { class: 'thumbs', 'aria-label': 'Attachments' }, ...attachments.map((a) => h('li', { 'aria-label': spoken(a), title: a.name }, thumbnail(a, 'large'))))
      : null;
    this.element.append(h('article', { class: 'msg user', 'aria-label': 'You' }, h('div', {}, thumbs, text ? h('div', { class: 'bubble' }, text) : null)));
    this.onGrow();
  }

  startAssistant(): AssistantMessage {
    const message = new AssistantMessage(this.announce, this.onGrow);
    this.element.append(message.element);
    this.onGrow();
    return message;
  }

  addError(error: ErrorLike): void {
    this.element.append(h('div', { class: 'msg error' }, errorCard(error)));
    this.onGrow();
  }

  clear(): void {
    this.element.replaceChildren();
  }
}

/** One answer as it streams: a collapsible thinking block, the Markdown answer, then its stats. */
export class AssistantMessage {
  readonly element: HTMLElement;
  private readonly answerEl = h('div', { class: 'answer markdown' });
  private readonly meta = h('div', { class: 'meta' });
  private thinkingEl: HTMLDetailsElement | null = null;
  private thinkingText: HTMLElement | null = null;
  private preview: HTMLElement | null = null;
  private thinking = '';
  private answer = '';
  private frame = 0;
  private readonly started = performance.now();
  private thinkingEnded: number | null = null;

  constructor(private readonly announce: (text: string) => void, private readonly onGrow: () => void) {
    this.answerEl.append(h('div', { class: 'pending', 'aria-label': 'Waiting for the first token' }, h('span'), h('span'), h('span')));
    this.element = h('article', { class: 'msg assistant', 'aria-label': 'Qwen', 'aria-busy': 'true' },
      logoMark('small'),
      h('div', { class: 'body' }, this.answerEl, this.meta));
  }

  push(chunk: ChatChunk): void {
    if (chunk.channel === 'thinking') this.thinking += chunk.text;
    else {
      if (this.thinking && this.thinkingEnded === null) this.thinkingEnded = performance.now();
      this.answer += chunk.text;
    }
    this.frame ||= requestAnimationFrame(() => this.render(true));
  }

  finish(result: ChatResult): void {
    cancelAnimationFrame(this.frame);
    this.thinking = result.thinking;
    this.answer = result.answer;
    this.thinkingEnded ??= performance.now();
    this.render(false);
    const s = result.stats;
    const facts = [
      `${s.generatedTokens} token${s.generatedTokens === 1 ? '' : 's'}`,
      s.decodeTokensPerSecond > 0 ? `${formatRate(s.decodeTokensPerSecond)} tok/s` : null,
      s.timeToFirstTokenMs > 0 ? `first token ${formatDuration(s.timeToFirstTokenMs)}` : null,
    ];
    if (s.prefillTokensPerSecond > 0) this.meta.title = `Prompt: ${s.promptTokens} tokens at ${formatRate(s.prefillTokensPerSecond)} tok/s`;
    const finish = result.finishReason === 'abort' ? 'Stopped' : result.finishReason === 'length' ? 'Reached the token limit' : null;
    const copy = h('button', { type: 'button', 'aria-label': 'Copy answer' }, icon('copy', 14), 'Copy');
    copy.addEventListener('click', () => void navigator.clipboard?.writeText(this.answer));
    replace(this.meta, h('span', { class: 'stats' }, ...facts.filter(Boolean).map((f) => h('span', { class: 'stat' }, f!))),
      finish ? h('span', { class: 'finish' }, finish) : null, this.answer ? copy : null);
    this.element.setAttribute('aria-busy', 'false');
    this.element.dataset.finish = result.finishReason;
    this.announce(finish ? `Answer ${finish.toLowerCase()}` : 'Answer complete');
  }

  /** The request failed: an answer that never started is removed (the error card says why). */
  fail(): void {
    cancelAnimationFrame(this.frame);
    if (!this.thinking && !this.answer) this.element.remove();
    else {
      this.render(false);
      this.element.setAttribute('aria-busy', 'false');
    }
  }

  private render(live: boolean): void {
    this.frame = 0;
    if (this.thinking) this.renderThinking(live && this.thinkingEnded === null);
    if (this.answer || !live) {
      this.answerEl.replaceChildren(renderMarkdown(parseMarkdown(this.answer)));
      this.answerEl.dataset.raw = this.answer;
      this.answerEl.classList.toggle('cursor', live);
      if (!live && !this.answer && !this.thinking) this.answerEl.append(h('p', { class: 'muted' }, '(no answer)'));
    }
    this.onGrow();
  }

  private renderThinking(live: boolean): void {
    if (!this.thinkingEl) {
      this.preview = h('span', { class: 'preview' });
      this.thinkingText = h('div', { class: 'thinking-text' });
      this.thinkingEl = h('details', { class: 'thinking' },
        h('summary', {}, icon('brain', 16), h('span', { class: 'label' }), this.preview, h('span', { class: 'chevron' }, icon('chevron', 16))),
        this.thinkingText);
      this.answerEl.before(this.thinkingEl);
      if (!this.answer) this.answerEl.replaceChildren();
    }
    this.thinkingEl.toggleAttribute('data-live', live);
    const seconds = ((this.thinkingEnded ?? performance.now()) - this.started) / 1000;
    this.thinkingEl.querySelector('.label')!.textContent = live ? 'Thinking…' : `Thought for ${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
    this.preview!.textContent = live ? this.thinking.slice(-120).replace(/\s+/g, ' ') : '';
    this.thinkingText!.textContent = this.thinking;
  }
}
