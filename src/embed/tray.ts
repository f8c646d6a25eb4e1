import { clock, describeAttachment, type Attachment } from './attachments.ts';
import { h, icon } from './dom.ts';

/** A poster or picture with, for a clip, its length on it. */
export function thumbnail(a: Attachment, size: 'small' | 'large'): HTMLElement {
  const src = a.kind === 'image' ? a.url : a.poster;
  const picture = src && a.state === 'ready' ? h('img', { src, alt: '', decoding: 'async' }) : h('span', { class: 'thumb-placeholder' }, icon(a.state === 'error' ? 'alert' : a.kind === 'video' ? 'film' : 'image', size === 'small' ? 18 : 24));
  return h('span', { class: `thumb ${size}`, 'data-kind': a.kind }, picture,
    a.kind === 'video' && a.state === 'ready'
      ? h('span', { class: 'badge' }, icon('play', 10), size === 'large' ? clock(a.seconds) : null,
        size === 'large' ? h('span', { class: 'badge-frames' }, ` · ${a.frames} frame${a.frames === 1 ? '' : 's'}`) : null)
      : null);
}

/** What a screen reader hears for an attachment. */
export function spoken(a: Attachment): string {
  const what = a.kind === 'image' ? 'Image' : a.from === 'camera' ? 'Camera clip' : 'Video';
  if (a.state === 'error') return `${what} ${a.name}: ${a.error}`;
  if (a.state === 'loading') return `${what} ${a.name}, decoding`;
  return `${what} ${a.name}, ${describeAttachment(a)}`;
}

/**
 * The composer's row of attachments: a chip per item with its thumbnail, name and size in tokens,
 * decode progress for a clip, its own error, and a remove button (which also stops a decode).
 */
export class AttachmentTray {
  readonly element = h('ul', { class: 'tray', 'aria-label': 'Attachments', hidden: true });
  items: Attachment[] = [];

  constructor(private readonly onRemove: (a: Attachment) => void) {}

  get busy(): boolean {
    return this.items.some((a) => a.state === 'loading');
  }

  get failed(): boolean {
    return this.items.some((a) => a.state === 'error');
  }

  render(): void {
    this.element.hidden = this.items.length === 0;
    this.element.replaceChildren(...this.items.map((a) => this.chip(a)));
  }

  private chip(a: Attachment): HTMLElement {
    const remove = h('button', { type: 'button', class: 'remove', 'aria-label': `Remove ${a.name}`, title: a.state === 'loading' ? 'Stop and remove' : 'Remove' }, icon('close', 14));
    remove.addEventListener('click', () => this.onRemove(a));
    let detail: HTMLElement;
    if (a.state === 'error') detail = h('span', { class: 'chip-detail error-text' }, a.error);
    else if (a.state === 'loading' && a.kind === 'video') {
      const { done, total } = a.progress;
      detail = h('span', { class: 'chip-detail' },
        h('span', { class: 'chip-progress', role: 'progressbar', 'aria-label': `Decoding ${a.name}`, 'aria-valuemin': 0, 'aria-valuemax': total || 1, 'aria-valuenow': done },
          h('span', { style: `width:${total ? (100 * done) / total : 0}%` })),
        total ? `${done}/${total} frames` : 'Opening…');
    } else if (a.state === 'loading') detail = h('span', { class: 'chip-detail' }, 'Checking…');
    else detail = h('span', { class: 'chip-detail' }, describeAttachment(a));
    return h('li', { class: 'chip', 'data-state': a.state, 'data-kind': a.kind, title: a.state === 'error' ? a.error : a.name, 'aria-label': spoken(a) },
      thumbnail(a, 'small'),
      h('span', { class: 'chip-text' }, h('span', { class: 'chip-name' }, a.name), detail),
      remove);
  }
}
