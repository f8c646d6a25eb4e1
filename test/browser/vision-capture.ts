// Runs in headless Chromium for test/vision-browser.test.ts: image decoding and the video/webcam
// helpers on real browser APIs, including inputs that must fail with typed errors.
import { decodeImageUrl } from '../../src/vision/decode.ts';
import { captureWebcam, decodeVideoFile } from '../../src/vision/browser-capture.ts';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

declare global {
  interface Window {
    checksDone?: (results: CheckResult[]) => Promise<void>;
  }
}

// ModelInfo.vision of a Qwen3.5 checkpoint with the published processor files.
const info = {
  factor: 32, image: { minPixels: 65536, maxPixels: 16777216 }, maxVisualTokens: 4096,
  video: { fps: 2, minFrames: 4, maxFrames: 768, sampleFrames: true, temporalPatchSize: 2, minPixels: 4096, maxPixels: 25165824, resample: 'bicubic' as const },
};
const results: CheckResult[] = [];

async function check(name: string, body: () => Promise<string>): Promise<void> {
  try {
    results.push({ name, ok: true, detail: await body() });
  } catch (e) {
    results.push({ name, ok: false, detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
}

async function rejectsWith(name: string, promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof Error && e.name === name) return e.message;
    throw e;
  }
  throw new Error(`expected ${name}, but it resolved`);
}

/** A canvas painting a moving square, frame `i` of an animation. */
function paint(canvas: HTMLCanvasElement, i: number): void {
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#204080';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = '#f0c020';
  g.fillRect((i * 7) % (canvas.width - 16), 8, 16, 16);
}

await check('a PNG decodes to its exact pixels', async () => {
  const canvas = new OffscreenCanvas(3, 2);
  const g = canvas.getContext('2d')!;
  const data = new ImageData(new Uint8ClampedArray([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10, 20, 30, 255, 40, 50, 60, 255, 70, 80, 90, 255]), 3, 2);
  g.putImageData(data, 0, 0);
  const url = URL.createObjectURL(await canvas.convertToBlob({ type: 'image/png' }));
  const image = await decodeImageUrl(url);
  URL.revokeObjectURL(url);
  const got = Array.from(image.data).join(',');
  if (image.width !== 3 || image.height !== 2 || got !== '255,0,0,0,255,0,0,0,255,10,20,30,40,50,60,70,80,90') throw new Error(`got ${image.width}x${image.height} ${got}`);
  return 'rgb ok';
});

await check('a corrupt image is an ImageInputError', () => rejectsWith('ImageInputError', decodeImageUrl('data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB')));

await check('a missing image is an ImageInputError', () => rejectsWith('ImageInputError', decodeImageUrl(`${location.origin}/no-such-image.png`)));

await check('a file that is not a video is a VideoInputError', () => rejectsWith('VideoInputError', decodeVideoFile(new Blob([new Uint8Array(4096).fill(7)], { type: 'video/webm' }), info, { timeoutMs: 10000 })));

await check('a recorded WebM clip is sampled at the processor rate with its times', async () => {
  const canvas = document.createElement('canvas');
  canvas.width = 64;
  canvas.height = 48;
  paint(canvas, 0);
  const recorder = new MediaRecorder(canvas.captureStream(30), { mimeType: 'video/webm' });
  const chunks: Blob[] = [];
  recorder.ondataavailable = (e) => chunks.push(e.data);
  const stopped = new Promise((resolve) => (recorder.onstop = resolve));
  recorder.start();
  for (let i = 0; i < 45; i++) {
    paint(canvas, i);
    await new Promise((resolve) => setTimeout(resolve, 1000 / 30));
  }
  recorder.stop();
  await stopped;
  const video = await decodeVideoFile(new Blob(chunks, { type: 'video/webm' }), info, { timeoutMs: 15000 });
  const sizes = new Set(video.frames.map((f) => typeof f === 'string' ? 'url' : `${f.width}x${f.height}`));
  // 64×48 frames at the processor's size: sides rounded to multiples of 32.
  if (video.frames.length < 4 || sizes.size !== 1 || !sizes.has('64x64')) throw new Error(`${video.frames.length} frames of ${[...sizes]}`);
  const t = video.timestamps!;
  if (t[0] !== 0 || !t.every((x, i) => i === 0 || x > t[i - 1])) throw new Error(`times ${t}`);
  return `${video.frames.length} frames at ${t.map((x) => x.toFixed(2))}`;
});

await check('a live stream is captured at the processor rate', async () => {
  const canvas = document.createElement('canvas');
  canvas.width = 32;
  canvas.height = 32;
  paint(canvas, 0);
  const stream = canvas.captureStream(30);
  const timer = setInterval(() => paint(canvas, Math.floor(performance.now() / 30)), 30);
  try {
    const video = await captureWebcam(stream, 1.5, info, { timeoutMs: 10000 });
    const t = video.timestamps!;
    if (video.frames.length !== 4 || (video.frames[0] as { width: number }).width !== 32 || !t.every((x, i) => i === 0 || x > t[i - 1])) throw new Error(`${video.frames.length} frames at ${t}`);
    return `${video.frames.length} frames at ${t.map((x) => x.toFixed(2))}`;
  } finally {
    clearInterval(timer);
    stream.getTracks().forEach((track) => track.stop());
  }
});

await window.checksDone?.(results);
