// Images and video in the built demo: files attached through the composer (a PNG made from a
// fixture's raw pixels, a WebM clip recorded in the browser from its video frames, the Qwen3-VL
// fixture's own image.png) and a clip from the (fake) camera. Answers stream and equal the greedy
// output of the CPU reference (tower + decoder, DeepStack for Qwen3-VL) on the same pictures with
// our preprocessing, never the engine's.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ChatMessage, ContentPart, RawImage, VideoInput } from '../src/api.ts';
import { decodePng } from '../src/vision/png.ts';
import { openSafetensors } from '../test/helpers/fixtures.ts';
import { rgbPng } from '../test/helpers/png.ts';
import { visionGreedy } from '../test/helpers/vision-reference.ts';
import { FIXTURES, ROOT, finishedAnswer, lastAnswer, screenshot, send, setSettings, waitReady } from './helpers.ts';
import { startServers, type Servers } from './server.ts';

const VL = 'qwen35-tiny-vl-video';
const QWEN3VL = 'qwen3vl-tiny-image';

let servers: Servers;
test.beforeAll(async () => {
  servers = await startServers(resolve(ROOT, 'dist'), FIXTURES);
});
test.afterAll(async () => {
  await servers.close();
});

const fixtureUrl = (name: string) => new URL(`${name}/`, `file://${FIXTURES}/`);

/** The fixture's raw pictures: image_rgb of qwen35-tiny-vl-image, video_rgb of the video fixture. */
async function rawPictures(): Promise<{ image: RawImage; frames: RawImage[] }> {
  const image = (await openSafetensors(fixtureUrl('qwen35-tiny-vl-image'), 'reference.safetensors'));
  const video = (await openSafetensors(fixtureUrl(VL), 'reference.safetensors'));
  const [h, w] = image.raw('image_rgb').info.shape;
  const [f, fh, fw] = video.raw('video_rgb').info.shape;
  const frames = video.i32('video_rgb');
  return {
    image: { width: w, height: h, data: Uint8Array.from(image.i32('image_rgb')) },
    frames: Array.from({ length: f }, (_, i) => ({ width: fw, height: fh, data: Uint8Array.from(frames.subarray(i * fh * fw * 3, (i + 1) * fh * fw * 3)) })),
  };
}

/** Records the frames, each held for half a second, into a WebM in the page (MediaRecorder, VP8). */
async function recordWebm(page: Page, frames: RawImage[]): Promise<Buffer> {
  const bytes = await page.evaluate(async (list) => {
    const canvas = document.createElement('canvas');
    canvas.width = list[0].width;
    canvas.height = list[0].height;
    const g = canvas.getContext('2d')!;
    const paint = (i: number) => {
      const { width, height, data } = list[i];
      const rgba = new Uint8ClampedArray(width * height * 4);
      for (let p = 0; p < width * height; p++) rgba.set([data[p * 3], data[p * 3 + 1], data[p * 3 + 2], 255], p * 4);
      g.putImageData(new ImageData(rgba, width, height), 0, 0);
    };
    paint(0);
    const recorder = new MediaRecorder(canvas.captureStream(10), { mimeType: 'video/webm;codecs=vp8', videoBitsPerSecond: 4e6 });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((done) => (recorder.onstop = done));
    recorder.start();
    for (let i = 0; i < list.length; i++) {
      paint(i);
      await new Promise((done) => setTimeout(done, 500));
    }
    recorder.stop();
    await stopped;
    return Array.from(new Uint8Array(await new Blob(chunks).arrayBuffer()));
  }, frames.map((f) => ({ width: f.width, height: f.height, data: Array.from(f.data) })));
  return Buffer.from(bytes);
}

/**
 * The frames the page's public decodeVideoFile takes from a clip for the loaded model, with the
 * library's default (main-thread) resizing: what the demo's worker-resized clip must equal.
 */
async function framesInPage(page: Page, webm: Buffer): Promise<VideoInput> {
  const video = await page.evaluate(async ([lib, bytes]) => {
    const { decodeVideoFile } = await import(lib);
    const vision = document.querySelector('qwen-chat')!.loaded!.vision!;
    const clip = await decodeVideoFile(new Blob([Uint8Array.from(bytes)], { type: 'video/webm' }), vision);
    return { timestamps: clip.timestamps as number[], frames: (clip.frames as RawImage[]).map((f) => ({ width: f.width, height: f.height, data: Array.from(f.data) })) };
  }, [`${servers.app}lib/qwen-webgpu.js`, Array.from(webm)] as const);
  return { timestamps: video.timestamps, frames: video.frames.map((f) => ({ ...f, data: Uint8Array.from(f.data) })) };
}

const chip = (page: Page, name: string | RegExp) => page.locator('.tray .chip').filter({ hasText: name });

test('a vision model: an image, a recorded clip and a camera clip in the demo; answers equal the CPU reference', async ({ page }) => {
  const { image, frames } = await rawPictures();
  await page.goto(`${servers.app}?model=${encodeURIComponent(`${servers.models}${VL}/`)}`);
  await waitReady(page);
  await setSettings(page, { temperature: '0', maxTokens: '8' });
  const attach = page.getByRole('button', { name: 'Attach images or a video' });
  await expect(attach).toBeVisible();
  await expect(page.getByRole('button', { name: 'Record a clip with the camera' })).toBeVisible();

  // An image from its raw pixels, as a PNG; a damaged one gets its own error and blocks sending until removed.
  await page.locator('input[type=file]').setInputFiles([
    { name: 'harbour.png', mimeType: 'image/png', buffer: Buffer.from(rgbPng(image)) },
    { name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from(rgbPng(image)).subarray(0, 60) },
  ]);
  await expect(chip(page, 'harbour.png')).toContainText(`${image.width}×${image.height}`);
  await expect(chip(page, 'broken.png')).toHaveAttribute('data-state', 'error');
  await expect(chip(page, 'broken.png')).toContainText('can’t be read as an image');
  await page.getByRole('textbox', { name: 'Message' }).fill('What is in this picture?');
  await expect(page.getByRole('button', { name: 'Send message' })).toBeDisabled();
  await screenshot(page, 'vision-1-tray');
  await page.getByRole('button', { name: 'Remove broken.png' }).click();

  const first: ChatMessage = { role: 'user', content: [{ type: 'image', image }, { type: 'text', text: 'What is in this picture?' }] };
  const expectedFirst = await visionGreedy(VL, [first], { maxTokens: 8 });
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect(lastAnswer(page).locator('.answer')).toHaveAttribute('data-raw', /.+/);
  expect(await finishedAnswer(page)).toBe(expectedFirst.answer);
  await expect(page.locator('.msg.user .thumbs img')).toHaveCount(1);

  // A clip recorded from the fixture's frames; the demo decodes it (frames resized in a worker) with progress.
  const webm = await recordWebm(page, frames);
  await page.locator('input[type=file]').setInputFiles({ name: 'clip.webm', mimeType: 'video/webm', buffer: webm });
  await expect(chip(page, 'clip.webm')).toHaveAttribute('data-state', 'ready');
  await expect(chip(page, 'clip.webm')).toContainText(/0:0\d · \d+ frames/);
  const clip = await framesInPage(page, webm);
  await screenshot(page, 'vision-2-clip-attached');
  // The settings offer the visual token limit for a vision model.
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByLabel('Visual token limit')).toBeVisible();
  await screenshot(page, 'vision-2b-settings');
  await page.getByRole('button', { name: 'Done' }).click();
  const second = 'What happens in the video?';
  await send(page, second);
  // The whole conversation is resent: the image turn (from its Blob URL again) and the clip, transferred.
  const history: ChatMessage[] = [first, { role: 'assistant', content: expectedFirst.answer }, { role: 'user', content: [{ type: 'video', video: clip } as ContentPart, { type: 'text', text: second }] }];
  const expectedSecond = await visionGreedy(VL, history, { maxTokens: 8 });
  expect(await finishedAnswer(page)).toBe(expectedSecond.answer);
  await expect(page.locator('.msg.user .thumbs .badge').last()).toContainText(/0:0\d/);
  await screenshot(page, 'vision-3-answers');

  // A clip from the camera (Chromium's fake device): live frames with their times; an answer streams.
  await page.getByRole('button', { name: 'Record a clip with the camera' }).click();
  const record = page.getByRole('button', { name: 'Record', exact: true });
  await expect(record).toBeEnabled();
  await record.click();
  await expect(page.locator('.camera-status')).toContainText(/[2-9] frames/, { timeout: 20_000 });
  await screenshot(page, 'vision-4-camera');
  await page.getByRole('button', { name: 'Stop and attach' }).click();
  await expect(chip(page, 'Camera clip')).toHaveAttribute('data-state', 'ready');
  // A picture dragged onto the chat: an overlay says what dropping does; the drop attaches it.
  const dataTransfer = await page.evaluateHandle((bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([Uint8Array.from(bytes)], 'harbour-2.png', { type: 'image/png' }));
    return data;
  }, Array.from(rgbPng(image)));
  await page.locator('.app').dispatchEvent('dragenter', { dataTransfer });
  await expect(page.locator('.drop-overlay')).toContainText('Drop images or a video to attach');
  await screenshot(page, 'vision-4a-drop');
  await page.locator('.app').dispatchEvent('drop', { dataTransfer });
  await expect(page.locator('.drop-overlay')).toBeHidden();
  await expect(chip(page, 'harbour-2.png')).toHaveAttribute('data-state', 'ready');
  // On a phone-sized screen, with both waiting in the tray.
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'vision-4b-phone-tray');
  // A visual token limit shrinks this turn's pictures (the camera's 640×480 frames most) to fit.
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Visual token limit').fill('96');
  await page.getByLabel('Max new tokens').fill('3');
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByRole('dialog', { name: 'Settings' })).toBeHidden();
  await send(page, 'And these?');
  await expect(page.locator('article.msg.assistant')).toHaveCount(3);
  await finishedAnswer(page);
  await expect(lastAnswer(page)).toHaveAttribute('data-finish', /stop|length/);
  await screenshot(page, 'vision-4c-phone-answer');
});

test('Qwen3-VL: the picker offers 2B/4B/8B; its fixture answers about image.png as the reference does', async ({ page }) => {
  await page.goto(`${servers.app}?model=${encodeURIComponent(`${servers.models}${QWEN3VL}/`)}`);
  await waitReady(page);
  await page.getByRole('button', { name: /qwen3vl-tiny-image/ }).click();
  const picker = page.getByRole('dialog', { name: 'Choose a model' });
  for (const size of ['2B', '4B', '8B']) {
    for (const variant of ['Instruct', 'Thinking']) await expect(picker.getByRole('button', { name: new RegExp(`Qwen3-VL ${size} ${variant}`) })).toBeVisible();
  }
  await page.keyboard.press('Escape');
  await setSettings(page, { temperature: '0', maxTokens: '10' });
  const png = readFileSync(resolve(FIXTURES, QWEN3VL, 'image.png'));
  await page.locator('input[type=file]').setInputFiles({ name: 'image.png', mimeType: 'image/png', buffer: png });
  await expect(chip(page, 'image.png')).toHaveAttribute('data-state', 'ready');
  const question = 'Describe the image.';
  const image = await decodePng(new Uint8Array(png), 'image.png');
  const expected = await visionGreedy(QWEN3VL, [{ role: 'user', content: [{ type: 'image', image }, { type: 'text', text: question }] }], { maxTokens: 10 });
  await send(page, question);
  expect(await finishedAnswer(page)).toBe(expected.answer);
  await screenshot(page, 'vision-5-qwen3vl');
});
