import type { VisionInfo } from '../api.ts';
import { captureWebcam, type FrameFitter } from '../vision/browser-capture.ts';
import { clock, pendingVideo, storeClip, type VideoAttachment } from './attachments.ts';
import { dialogShell } from './dialogs.ts';
import { h, icon } from './dom.ts';

/** The longest clip the camera records (frames are taken at the model's video fps). */
export const MAX_CLIP_SECONDS = 10;

/**
 * Records a clip from the camera: a live preview, Record, then Stop (or the time limit). Frames
 * are taken live at the model's video rate, each with its capture time, and become a video
 * attachment. Closing the dialog stops the camera.
 */
export class CameraDialog {
  readonly element: HTMLDialogElement;
  private readonly preview = h('video', { class: 'camera-preview', muted: true, playsinline: true, autoplay: true, 'aria-label': 'Camera preview' });
  private readonly button = h('button', { type: 'button', class: 'primary record', disabled: true }, icon('record', 16), 'Record');
  private readonly meter = h('span', { class: 'fill' });
  private readonly status = h('p', { class: 'camera-status', role: 'status' });
  private readonly alert = h('div', { class: 'alert', role: 'alert', hidden: true });
  private stream: MediaStream | null = null;
  private cancel: AbortController | null = null;
  private session = 0;

  constructor(private readonly onClip: (clip: VideoAttachment) => void, private readonly fitter: () => FrameFitter) {
    this.element = dialogShell('Record a clip',
      h('div', { class: 'camera-stage' }, this.preview),
      h('div', { class: 'track', 'aria-hidden': 'true' }, this.meter),
      this.status,
      this.alert,
      h('div', { class: 'actions' }, this.button));
    this.element.classList.add('camera');
    this.element.addEventListener('close', () => this.release());
  }

  async open(vision: VisionInfo): Promise<void> {
    const session = ++this.session;
    this.alert.hidden = true;
    this.meter.style.width = '0';
    this.setButton('record', true);
    this.status.textContent = 'Starting the camera…';
    this.element.showModal();
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
      if (session !== this.session || !this.element.open) return void stream.getTracks().forEach((t) => t.stop());
      this.stream = stream;
      this.preview.srcObject = stream;
      this.status.textContent = `Up to ${MAX_CLIP_SECONDS} seconds; the model sees ${vision.video.fps} frame${vision.video.fps === 1 ? '' : 's'} a second.`;
      this.setButton('record', false);
      this.button.onclick = () => void this.record(vision, stream, session);
      this.button.focus();
    } catch (e) {
      const name = (e as Error).name;
      this.fail(name === 'NotAllowedError' ? 'Camera access was denied. Allow it in the browser’s site settings and try again.'
        : name === 'NotFoundError' ? 'No camera was found on this device.'
        : `The camera could not start (${(e as Error).message}).`);
    }
  }

  private async record(vision: VisionInfo, stream: MediaStream, session: number): Promise<void> {
    const stop = new AbortController();
    const cancel = (this.cancel = new AbortController());
    this.setButton('stop', false);
    this.button.onclick = () => stop.abort();
    const clip = pendingVideo(`Camera clip ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`, 'camera');
    const started = performance.now();
    let frames = 0;
    const show = () => {
      const seconds = Math.min(MAX_CLIP_SECONDS, (performance.now() - started) / 1000);
      this.meter.style.width = `${(100 * seconds) / MAX_CLIP_SECONDS}%`;
      this.status.textContent = `Recording ${clock(seconds)} of ${clock(MAX_CLIP_SECONDS)} · ${frames} frame${frames === 1 ? '' : 's'}`;
    };
    show();
    const timer = setInterval(show, 250);
    try {
      const video = await captureWebcam(stream, MAX_CLIP_SECONDS, vision, {
        stop: stop.signal, signal: cancel.signal, fit: this.fitter(),
        onProgress: (done) => {
          frames = Math.max(frames, done);
          show();
        },
      });
      clearInterval(timer);
      if (session !== this.session) return;
      await storeClip(clip, video, vision);
      this.onClip(clip);
      this.element.close();
    } catch (e) {
      clearInterval(timer);
      if (session === this.session && !cancel.signal.aborted) this.fail(`Recording failed: ${(e as Error).message.split('. Attach')[0]}.`);
    }
  }

  private setButton(mode: 'record' | 'stop', disabled: boolean): void {
    this.button.replaceChildren(icon(mode === 'record' ? 'record' : 'stop', 16), mode === 'record' ? 'Record' : 'Stop and attach');
    this.button.dataset.mode = mode;
    this.button.disabled = disabled;
  }

  private fail(message: string): void {
    this.alert.replaceChildren(icon('alert'), h('p', {}, message));
    this.alert.hidden = false;
    this.status.textContent = '';
    this.setButton('record', true);
  }

  private release(): void {
    this.session++;
    this.cancel?.abort();
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.preview.srcObject = null;
  }
}
