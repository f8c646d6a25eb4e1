import type { ModelInfo } from '../api.ts';
import { h, icon } from './dom.ts';

/** What dropping files would do with this model loaded: attach them, explain why not, or nothing (no model). */
export function dropMessage(info: ModelInfo | null): { text: string; ok: boolean } | null {
  if (!info) return null;
  const image = info.accepts.includes('image_url');
  const video = info.accepts.includes('video');
  if (!image && !video) return { text: 'This model reads text only; images and video can’t be attached.', ok: false };
  return { text: `Drop ${image && video ? 'images or a video' : image ? 'images' : 'a video'} to attach`, ok: true };
}

/**
 * Files dragged over `target` show an overlay saying whether they can be attached; dropped ones
 * go to `onFiles`. `message()` says what the overlay shows (null: nothing can be attached now).
 */
export function dropZone(target: HTMLElement, message: () => { text: string; ok: boolean } | null, onFiles: (files: File[]) => void): HTMLElement {
  const label = h('p', {});
  const overlay = h('div', { class: 'drop-overlay', hidden: true, 'aria-hidden': 'true' }, h('div', { class: 'drop-box' }, icon('image', 28), label));
  let depth = 0;
  const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
  const hide = () => {
    depth = 0;
    overlay.hidden = true;
  };
  target.addEventListener('dragenter', (e) => {
    const what = message();
    if (!hasFiles(e) || !what) return;
    e.preventDefault();
    depth++;
    label.textContent = what.text;
    overlay.dataset.ok = String(what.ok);
    overlay.hidden = false;
  });
  target.addEventListener('dragover', (e) => {
    if (!hasFiles(e) || overlay.hidden) return;
    e.preventDefault();
    e.dataTransfer!.dropEffect = overlay.dataset.ok === 'true' ? 'copy' : 'none';
  });
  target.addEventListener('dragleave', () => {
    if (--depth <= 0) hide();
  });
  target.addEventListener('drop', (e) => {
    if (overlay.hidden) return;
    e.preventDefault();
    const ok = overlay.dataset.ok === 'true';
    hide();
    if (ok) onFiles([...(e.dataTransfer?.files ?? [])]);
  });
  return overlay;
}
