// Styles of the attachment tray, thumbnails in messages, the drop overlay and the camera dialog
// (appended to STYLES in styles.ts).
export const ATTACHMENT_STYLES = `
.tray { list-style: none; margin: 0; display: flex; flex-wrap: wrap; gap: 8px; padding: 6px 0 4px; }
.chip { position: relative; display: flex; align-items: center; gap: 10px; min-width: 0; max-width: 280px; padding: 5px 34px 5px 5px;
  border: 1px solid var(--line); border-radius: 12px; background: var(--bg-soft); font-size: 12.5px; line-height: 1.35; }
.chip[data-state=error] { border-color: color-mix(in srgb, var(--danger) 45%, var(--line)); background: var(--danger-soft); max-width: 100%; }
.chip-text { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
.chip-name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: var(--text); }
.chip-detail { display: flex; align-items: center; gap: 8px; color: var(--text-soft); font-variant-numeric: tabular-nums; white-space: nowrap; }
.chip-detail.error-text { color: var(--danger); white-space: normal; }
.chip-progress { display: block; width: 64px; height: 4px; border-radius: 99px; background: var(--bg-sunken); overflow: hidden; }
.chip-progress span { display: block; height: 100%; border-radius: inherit; background: var(--accent); transition: width .2s ease; }
.chip .remove { position: absolute; top: 6px; right: 6px; display: grid; place-items: center; width: 24px; height: 24px;
  border: 0; border-radius: 7px; background: none; color: var(--text-faint); }
.chip .remove:hover { background: var(--bg-sunken); color: var(--text); }

.thumb { position: relative; flex: none; display: grid; place-items: center; overflow: hidden; background: var(--bg-sunken); color: var(--text-faint); }
.thumb img { width: 100%; height: 100%; object-fit: cover; display: block; }
.thumb.small { width: 44px; height: 44px; border-radius: 8px; }
.thumb.large { width: 144px; height: 96px; border-radius: 14px; border: 1px solid var(--line); }
.chip[data-state=error] .thumb { background: color-mix(in srgb, var(--danger) 14%, transparent); color: var(--danger); }
.badge { position: absolute; left: 5px; bottom: 5px; display: inline-flex; align-items: center; gap: 3px; padding: 1px 6px 1px 5px;
  border-radius: 99px; background: rgb(10 10 20 / 68%); color: #fff; font-size: 10.5px; font-weight: 600; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge svg { fill: currentColor; stroke-width: 0; }
.thumb.small .badge { left: 3px; bottom: 3px; padding: 3px; }
.thumb.large .badge { font-size: 11.5px; left: 7px; bottom: 7px; padding: 2px 8px 2px 6px; }
.msg .thumbs { list-style: none; padding: 0; margin: 0 0 6px; display: flex; gap: 8px; flex-wrap: wrap; justify-content: flex-end; }

.text-only { display: inline-flex; align-items: center; gap: 6px; margin: 0 6px 0 4px; color: var(--text-faint); font-size: 12.5px; min-width: 0; }
.text-only-long { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.composer-hint { margin: 0; padding: 2px 0; font-size: 12.5px; color: var(--warn); }

.app { position: relative; }
.drop-overlay { position: absolute; inset: 0; z-index: 5; display: grid; place-items: center; padding: 24px;
  background: color-mix(in srgb, var(--bg) 72%, transparent); backdrop-filter: blur(3px); pointer-events: none; }
.drop-box { display: flex; flex-direction: column; align-items: center; gap: 10px; padding: 28px 36px; border: 2px dashed var(--accent);
  border-radius: 20px; background: var(--accent-soft); color: var(--link); font-weight: 600; text-align: center; }
.drop-box p { margin: 0; }
.drop-overlay[data-ok=false] .drop-box { border-color: var(--danger); background: var(--danger-soft); color: var(--danger); }

dialog.camera .dialog-body { gap: 12px; }
.camera-stage { aspect-ratio: 4 / 3; border-radius: 14px; overflow: hidden; background: #0b0b10; }
.camera-preview { width: 100%; height: 100%; object-fit: contain; display: block; }
dialog.camera .track { height: 6px; }
.camera-status { margin: 0; min-height: 1.4em; font-size: 13.5px; color: var(--text-soft); font-variant-numeric: tabular-nums; }
.record[data-mode=record] .icon { fill: #ff5a4e; stroke: none; }
.record[data-mode=stop], .record[data-mode=stop]:not(:disabled):hover { background: var(--danger); }

@container (max-width: 560px) {
  .text-only-long { display: none; }
  .chip { max-width: 100%; }
  .thumb.large { width: 112px; height: 80px; }
  .badge-frames { display: none; }
}
`;
