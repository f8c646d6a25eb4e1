import type { ModelInfo } from '../api.ts';
import type { FrameFitter } from '../vision/browser-capture.ts';
import { checkImage, decodeVideoAttachment, discard, kindOf, pendingImage, pendingVideo, type Attachment } from './attachments.ts';
import { h, icon } from './dom.ts';
import { AttachmentTray } from './tray.ts';

/** What the user is about to send: text and the attachments in the tray. */
export interface Draft {
  text: string;
  attachments: Attachment[];
}

export interface ComposerHandlers {
  send(draft: Draft): void;
  stop(): void;
  /** Opens the camera to record a clip. */
  record(): void;
  /** Where video frames are resized (a worker). */
  fitter(): FrameFitter;
}

/** What the loaded model takes, for the attachment controls. */
type Accepts = { image: boolean; video: boolean };

/**
 * The message box: the attachment tray, the text area, attach and camera buttons (only when the
 * model reads images / video; a text-only model gets a note saying why they are missing), the
 * thinking toggle, and one button that sends or stops. Files also arrive by paste and by drop
 * (addFiles). Enter sends, Shift+Enter adds a line, Escape stops a running answer.
 */
export class Composer {
  readonly element: HTMLFormElement;
  readonly textarea: HTMLTextAreaElement;
  private readonly tray = new AttachmentTray((a) => this.remove(a));
  private readonly fileInput = h('input', { type: 'file', multiple: true, hidden: true, 'aria-hidden': 'true', tabindex: -1 });
  private readonly attachButton = h('button', { type: 'button', class: 'icon-button', hidden: true }, icon('paperclip'));
  private readonly cameraButton = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Record a clip with the camera', title: 'Record a clip with the camera', hidden: true }, icon('camera'));
  private readonly textOnly = h('span', { class: 'text-only', hidden: true },
    icon('image', 15), h('span', { class: 'text-only-short' }, 'Text only'),
    h('span', { class: 'text-only-long' }, ': this model can’t see images or video. Pick a Qwen3-VL model for that.'));
  private readonly hint = h('p', { class: 'composer-hint', role: 'status', hidden: true });
  private readonly thinkButton: HTMLButtonElement;
  private readonly sendButton: HTMLButtonElement;
  private info: ModelInfo | null | undefined;
  private generating = false;
  private ready = false;

  constructor(private readonly handlers: ComposerHandlers) {
    this.textarea = h('textarea', { rows: 1, placeholder: 'Message Qwen…', 'aria-label': 'Message', enterkeyhint: 'send' });
    this.thinkButton = h('button', { type: 'button', class: 'toggle', 'aria-pressed': 'false', title: 'Let the model reason before it answers' },
      icon('brain', 17), h('span', { class: 'toggle-text' }, 'Think'));
    this.sendButton = h('button', { type: 'submit', class: 'send', 'aria-label': 'Send message' }, icon('send', 18));
    this.element = h('form', { class: 'composer' },
      this.tray.element,
      this.textarea,
      this.hint,
      h('div', { class: 'composer-row' }, this.attachButton, this.cameraButton, this.textOnly, this.fileInput, this.thinkButton, h('span', { class: 'spacer' }), this.sendButton));

    this.attachButton.addEventListener('click', () => this.fileInput.click());
    this.cameraButton.addEventListener('click', () => this.handlers.record());
    this.fileInput.addEventListener('change', () => {
      this.addFiles([...(this.fileInput.files ?? [])]);
      this.fileInput.value = '';
    });
    this.textarea.addEventListener('paste', (e) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      e.preventDefault();
      this.addFiles(files);
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
      const draft = { text: this.textarea.value.trim(), attachments: this.tray.items };
      if (!this.canSend()) return;
      this.textarea.value = '';
      this.tray.items = [];
      this.tray.render();
      this.autosize();
      this.update();
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

  /** What the loaded model takes (null: none loaded); attachments it cannot read are dropped from the tray. */
  setModel(info: ModelInfo | null): void {
    if (info === this.info) return;
    this.info = info;
    const can = this.accepts();
    for (const a of [...this.tray.items]) if (!can[a.kind]) this.remove(a);
    const any = can.image || can.video;
    const label = can.image && can.video ? 'Attach images or a video' : can.image ? 'Attach images' : 'Attach a video';
    this.attachButton.hidden = !any;
    this.attachButton.setAttribute('aria-label', label);
    this.attachButton.title = `${label} (or paste or drop them here)`;
    this.fileInput.accept = [can.image ? 'image/*' : '', can.video ? 'video/*' : ''].filter(Boolean).join(',');
    this.cameraButton.hidden = !can.video || !navigator.mediaDevices?.getUserMedia;
    this.textOnly.hidden = !info || any;
    this.textOnly.title = 'This model reads text only, so images and video can’t be attached. Qwen3-VL models can see them.';
  }

  /** `ready`: a model is loaded; `generating`: an answer is streaming (the button stops it). */
  setState(state: { ready: boolean; generating: boolean }): void {
    this.ready = state.ready;
    this.generating = state.generating;
    this.update();
  }

  /** Adds dropped, pasted or chosen files: each image or video the model takes becomes an attachment. */
  addFiles(files: File[]): void {
    const can = this.accepts();
    const refused: string[] = [];
    for (const file of files) {
      const kind = kindOf(file);
      if (!kind || !can[kind] || !this.info?.vision) {
        refused.push(file.name || 'the pasted item');
        continue;
      }
      const vision = this.info.vision;
      // Chips appear at once, in the order given, and fill in as each file is checked or decoded.
      if (kind === 'image') {
        const image = pendingImage(file);
        this.add(image);
        void checkImage(image, file, vision).then(() => this.changed(image));
      } else {
        const video = pendingVideo(file.name || 'Video', 'file');
        this.add(video);
        void decodeVideoAttachment(video, file, vision, this.handlers.fitter(), () => this.changed(video));
      }
    }
    this.say(refused.length === 0 ? ''
      : !can.image && !can.video ? `This model reads text only, so ${refused.join(', ')} can’t be attached.`
      : `${refused.join(', ')}: not ${can.image && can.video ? 'an image or a video' : can.image ? 'an image' : 'a video'} this model can read.`);
  }

  /** Adds an attachment made elsewhere (a camera clip). */
  add(attachment: Attachment): void {
    this.tray.items.push(attachment);
    this.changed(attachment);
  }

  /** Puts a draft back, after the engine refused it, so nothing typed or attached is lost. */
  restore(draft: Draft): void {
    if (!this.textarea.value) this.textarea.value = draft.text;
    this.tray.items = [...draft.attachments, ...this.tray.items];
    this.tray.render();
    this.autosize();
    this.update();
  }

  focus(): void {
    this.textarea.focus();
  }

  private accepts(): Accepts {
    const parts = this.info?.accepts ?? [];
    return { image: parts.includes('image_url'), video: parts.includes('video') };
  }

  private changed(attachment: Attachment): void {
    if (!this.tray.items.includes(attachment)) return;
    this.tray.render();
    this.update();
  }

  private remove(attachment: Attachment): void {
    this.tray.items = this.tray.items.filter((a) => a !== attachment);
    discard(attachment);
    this.tray.render();
    this.update();
    this.focus();
  }

  private say(text: string): void {
    this.hint.textContent = text;
    this.hint.hidden = !text;
  }

  private canSend(): boolean {
    const hasDraft = this.textarea.value.trim() !== '' || this.tray.items.length > 0;
    return this.ready && hasDraft && !this.tray.busy && !this.tray.failed;
  }

  private update(): void {
    this.sendButton.dataset.mode = this.generating ? 'stop' : 'send';
    this.sendButton.replaceChildren(icon(this.generating ? 'stop' : 'send', 18));
    this.sendButton.setAttribute('aria-label', this.generating ? 'Stop generating' : 'Send message');
    this.sendButton.disabled = !this.generating && !this.canSend();
    const blocked = this.tray.failed ? 'Remove the attachment that can’t be read, then send.' : this.tray.busy ? 'Wait for the attachments to finish decoding.' : '';
    this.sendButton.title = this.generating ? 'Stop generating' : blocked || 'Send message';
    if (blocked || this.hint.dataset.kind === 'blocked') {
      this.say(blocked);
      this.hint.dataset.kind = blocked ? 'blocked' : '';
    }
  }

  private autosize(): void {
    this.textarea.style.height = 'auto';
    this.textarea.style.height = `${Math.min(this.textarea.scrollHeight, 220)}px`;
  }
}
