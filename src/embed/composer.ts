import { h, icon } from './dom.ts';
import type { ImageAttachment } from './conversation.ts';

/** What the user is about to send: text and the attachments in the tray. */
export interface Draft {
  text: string;
  images: ImageAttachment[];
}

/**
 * The message box: an attachment tray (images become `image_url` parts; decoding them is the
 * engine's business), the text area, the thinking toggle, and one button that sends or stops.
 * Enter sends, Shift+Enter adds a line, Escape stops a running answer.
 */
export class Composer {
  readonly element: HTMLFormElement;
  readonly textarea: HTMLTextAreaElement;
  private readonly tray = h('div', { class: 'tray', hidden: true, 'aria-label': 'Attachments' });
  private readonly fileInput = h('input', { type: 'file', accept: 'image/*', multiple: true, hidden: true });
  private readonly thinkButton: HTMLButtonElement;
  private readonly sendButton: HTMLButtonElement;
  private images: ImageAttachment[] = [];
  private generating = false;
  private ready = false;

  constructor(private readonly handlers: { send(draft: Draft): void; stop(): void }) {
    this.textarea = h('textarea', { rows: 1, placeholder: 'Message Qwen…', 'aria-label': 'Message', enterkeyhint: 'send' });
    this.thinkButton = h('button', { type: 'button', class: 'toggle', 'aria-pressed': 'false', title: 'Let the model reason before it answers' },
      icon('brain', 17), h('span', { class: 'toggle-text' }, 'Think'));
    this.sendButton = h('button', { type: 'submit', class: 'send', 'aria-label': 'Send message' }, icon('send', 18));
    const attach = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Attach an image', title: 'Attach an image' }, icon('paperclip'));
    this.element = h('form', { class: 'composer' },
      this.tray,
      this.textarea,
      h('div', { class: 'composer-row' }, attach, this.fileInput, this.thinkButton, h('span', { class: 'spacer' }), this.sendButton));

    attach.addEventListener('click', () => this.fileInput.click());
    this.fileInput.addEventListener('change', () => {
      for (const file of this.fileInput.files ?? []) this.images.push({ url: URL.createObjectURL(file), name: file.name });
      this.fileInput.value = '';
      this.renderTray();
    });
    this.thinkButton.addEventListener('click', () => (this.thinking = !this.thinking));
    this.textarea.addEventListener('input', () => {
      this.autosize();
      this.update();
    });
    this.textarea.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        if (!this.generating) this.element.requestSubmit();
      } else if (e.key === 'Escape' && this.generating) this.handlers.stop();
    });
    this.element.addEventListener('submit', (e) => {
      e.preventDefault();
      if (this.generating) return this.handlers.stop();
      const draft = { text: this.textarea.value.trim(), images: this.images };
      if (!this.ready || (!draft.text && !draft.images.length)) return;
      this.textarea.value = '';
      this.images = [];
      this.renderTray();
      this.autosize();
      this.handlers.send(draft);
    });
    this.update();
  }

  get thinking(): boolean {
    return this.thinkButton.getAttribute('aria-pressed') === 'true';
  }

  set thinking(on: boolean) {
    this.thinkButton.setAttribute('aria-pressed', String(on));
  }

  /** `ready`: a model is loaded; `generating`: an answer is streaming (the button stops it). */
  setState(state: { ready: boolean; generating: boolean }): void {
    this.ready = state.ready;
    this.generating = state.generating;
    this.update();
  }

  /** Puts a draft back, after the engine refused it, so nothing typed is lost. */
  restore(draft: Draft): void {
    if (!this.textarea.value) this.textarea.value = draft.text;
    this.images = [...draft.images, ...this.images];
    this.renderTray();
    this.autosize();
    this.update();
  }

  focus(): void {
    this.textarea.focus();
  }

  private update(): void {
    const hasDraft = this.textarea.value.trim() !== '' || this.images.length > 0;
    this.sendButton.dataset.mode = this.generating ? 'stop' : 'send';
    this.sendButton.replaceChildren(icon(this.generating ? 'stop' : 'send', 18));
    this.sendButton.setAttribute('aria-label', this.generating ? 'Stop generating' : 'Send message');
    this.sendButton.disabled = !this.generating && (!this.ready || !hasDraft);
  }

  private renderTray(): void {
    this.tray.hidden = this.images.length === 0;
    this.tray.replaceChildren(...this.images.map((image, i) => {
      const remove = h('button', { type: 'button', 'aria-label': `Remove ${image.name}` }, icon('close', 14));
      remove.addEventListener('click', () => {
        this.images.splice(i, 1);
        this.renderTray();
        this.update();
      });
      return h('div', { class: 'attachment' }, h('img', { src: image.url, alt: '' }), h('span', {}, image.name), remove);
    }));
    this.update();
  }

  private autosize(): void {
    this.textarea.style.height = 'auto';
    this.textarea.style.height = `${Math.min(this.textarea.scrollHeight, 220)}px`;
  }
}
