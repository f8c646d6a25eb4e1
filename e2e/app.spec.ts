// The built demo in headless Chromium (WebGPU on SwiftShader), with a fixture model served over
// HTTP as a Hub repo: loading with progress, streamed greedy answers checked against the CPU
// reference, thinking, stopping, and chatting offline after one visit.
import { expect, test } from '@playwright/test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChatMessage } from '../src/api.ts';
import { greedyAnswer } from './expected.ts';
import { FIXTURES, ROOT, TINY, answerStates, finishedAnswer, lastAnswer, recordAnswerStates, screenshot, send, setSettings, waitReady } from './helpers.ts';
import { startServers, type Servers } from './server.ts';

let servers: Servers;
// A model of an architecture the engine does not run (a Llama config), for the unsupported-model error.
const foreign = mkdtempSync(join(tmpdir(), 'qwen-e2e-foreign-'));
test.beforeAll(async () => {
  mkdirSync(foreign, { recursive: true });
  writeFileSync(join(foreign, 'config.json'), JSON.stringify({ model_type: 'llama', hidden_size: 64 }));
  writeFileSync(join(foreign, 'model.safetensors'), new Uint8Array(1024));
  servers = await startServers(resolve(ROOT, 'dist'), FIXTURES, { 'foreign-llama': foreign });
});
test.afterAll(async () => {
  await servers.close();
  rmSync(foreign, { recursive: true, force: true });
});
test.beforeEach(() => {
  Object.assign(servers.control, { offline: false, delayMs: 0, log: [] });
  servers.control.cutAfter.clear();
});

const expected = (messages: ChatMessage[], maxTokens: number, enableThinking = false) =>
  greedyAnswer(TINY, resolve(FIXTURES, TINY), messages, { maxTokens, enableThinking });

test('a shared link loads its model with visible progress; answers stream and equal the greedy reference; thinking; stop', async ({ page }) => {
  const model = `${servers.models}${TINY}/`;
  servers.control.delayMs = 300; // each file arrives slowly enough to watch the progress move
  await page.goto(`${servers.app}?model=${encodeURIComponent(model)}`);
  await expect(page.getByText('Fits this GPU')).toBeVisible();
  const progress = page.getByRole('progressbar', { name: 'Download progress' });
  await expect(progress).toHaveAttribute('aria-valuenow', /^[1-9]\d?$/);
  await expect(page.locator('.files li').first()).toBeVisible();
  await screenshot(page, 'desktop-1-loading');
  await waitReady(page);
  servers.control.delayMs = 0;
  await expect(page.getByRole('heading', { name: 'How can I help?' })).toBeVisible();
  await screenshot(page, 'desktop-2-ready');

  // A greedy answer, streamed: text shows while the message is still being written.
  await setSettings(page, { temperature: '0', maxTokens: '12' });
  const first = 'Write a short line about the sea.';
  const reference = await expected([{ role: 'user', content: first }], 12);
  await recordAnswerStates(page);
  await send(page, first);
  expect(await finishedAnswer(page)).toBe(reference.answer);
  const partial = (await answerStates(page)).filter((state) => state.busy === 'true' && state.raw !== '');
  expect(partial.length, 'text appeared while the answer was still being written').toBeGreaterThan(0);
  expect(partial.every((state) => reference.answer.startsWith(state.raw)), 'each partial text is a prefix of the answer').toBe(true);
  await expect(lastAnswer(page).locator('.meta')).toContainText('tok/s');
  await expect(lastAnswer(page).locator('.meta')).toContainText('first token');
  await screenshot(page, 'desktop-3-answer');

  // Thinking on: the reasoning streams into its own collapsible block, over the whole conversation.
  await page.getByRole('button', { name: 'Think' }).click();
  await setSettings(page, { maxTokens: '8' });
  const second = 'And one about the mountains?';
  const history: ChatMessage[] = [{ role: 'user', content: first }, { role: 'assistant', content: reference.answer }, { role: 'user', content: second }];
  const thought = await expected(history, 8, true);
  await send(page, second);
  expect(await finishedAnswer(page)).toBe(thought.answer);
  const thinking = lastAnswer(page).locator('details.thinking');
  await expect(thinking.locator('summary')).toContainText('Thought for');
  await thinking.locator('summary').click();
  await expect(thinking.locator('.thinking-text')).toHaveText(thought.thinking);
  await screenshot(page, 'desktop-4-thinking');

  // Stop mid-answer: the partial answer stays, marked as stopped, and the chat goes on.
  await page.getByRole('button', { name: 'Think' }).click();
  await setSettings(page, { temperature: '1', maxTokens: '400' });
  await send(page, 'Tell me a long story.');
  await expect(lastAnswer(page).locator('.answer')).toHaveAttribute('data-raw', /.{3}/);
  await page.getByRole('button', { name: 'Stop generating' }).click();
  await finishedAnswer(page);
  await expect(lastAnswer(page)).toHaveAttribute('data-finish', 'abort');
  await expect(lastAnswer(page).locator('.meta')).toContainText('Stopped');
  await expect(page.getByRole('button', { name: 'Send message' })).toBeVisible();
});

test('after one online visit, the app reloads and chats with the network off', async ({ page, context }) => {
  const model = `${servers.models}${TINY}/`;
  await page.goto(`${servers.app}?model=${encodeURIComponent(model)}`);
  await waitReady(page);
  // The service worker has the app shell once it is active; the model sits in the engine's cache.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    const names = await caches.keys();
    if (!names.some((n) => n.startsWith('qwen-webgpu-shell-'))) throw new Error(`no shell cache among ${names.join(', ')}`);
  });

  servers.control.log = [];
  servers.control.offline = true; // the server refuses every connection...
  await context.setOffline(true); // ...and the browser has no network at all
  await page.reload();
  await waitReady(page); // a fully cached model loads without asking
  await setSettings(page, { temperature: '0', maxTokens: '6' });
  const prompt = 'Hello again, offline.';
  const reference = await expected([{ role: 'user', content: prompt }], 6);
  await send(page, prompt);
  expect(await finishedAnswer(page)).toBe(reference.answer);
  // Only the browser's own service-worker update check tries the network (and fails harmlessly):
  // it runs outside the page's network emulation.
  expect(servers.control.log.filter((line) => !line.startsWith('GET /sw.js')), 'nothing else tried the network').toEqual([]);
  await screenshot(page, 'desktop-5-offline');
  await context.setOffline(false);
});

test('bad input gets a clear error in the UI and the engine stays usable', async ({ page }) => {
  // An unknown repo: the fit check says so, and nothing is downloaded.
  await page.goto(`${servers.app}?model=${encodeURIComponent(`${servers.models}no-such-model/`)}`);
  await expect(page.getByRole('alert')).toContainText('Model not found');
  await expect(page.getByRole('alert')).toContainText('HTTP 404');
  await screenshot(page, 'desktop-6-not-found');

  // An architecture the engine does not run says so before any download.
  await page.getByRole('button', { name: 'Choose another model' }).click();
  await page.getByLabel('Repo id or base URL').fill(`${servers.models}foreign-llama/`);
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page.getByRole('alert')).toContainText('Not supported yet');
  await expect(page.getByRole('alert')).toContainText('llama');

  // The connection breaks mid-download: a clear error, then Try again resumes and loads.
  servers.control.cutAfter.set(`/${TINY}/model.safetensors`, 200_000);
  await page.getByRole('button', { name: 'Choose another model' }).click();
  await page.getByLabel('Repo id or base URL').fill(`${servers.models}${TINY}/`);
  await page.getByRole('button', { name: 'Open' }).click();
  await page.getByRole('button', { name: /^Download .* and load$/ }).click();
  await expect(page.getByRole('alert')).toContainText('Couldn’t download the model');
  await expect(page.getByRole('alert')).toContainText('broke off');
  await screenshot(page, 'desktop-7-download-cut');
  await page.getByRole('button', { name: 'Try again' }).click();
  await waitReady(page);

  // A text-only model has no attachment controls and says why; a pasted image is refused with the reason.
  await expect(page.getByRole('button', { name: /^Attach/ })).toHaveCount(0);
  await expect(page.locator('.text-only')).toContainText('this model can’t see images or video');
  await page.getByRole('textbox', { name: 'Message' }).evaluate((box, bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([Uint8Array.from(bytes)], 'photo.png', { type: 'image/png' }));
    box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, Array.from(PNG));
  await expect(page.locator('.composer-hint')).toContainText('This model reads text only, so photo.png can’t be attached');
  await expect(page.locator('.tray')).toBeHidden();
  await screenshot(page, 'desktop-8-attachment-refused');

  // A prompt longer than the context.
  await send(page, 'sea and sky '.repeat(1500));
  await expect(page.locator('.msg.error').last()).toContainText('Too long for the context');

  // And the engine still answers.
  await setSettings(page, { temperature: '0', maxTokens: '3' });
  await send(page, 'Still there?');
  const reference = await expected([{ role: 'user', content: 'Still there?' }], 3);
  expect(await finishedAnswer(page)).toBe(reference.answer);
});

test('a full storage quota: the model still runs, and the UI says it is not cached', async ({ page }) => {
  const cdp = await page.context().newCDPSession(page);
  await page.goto(`${servers.app}?model=`);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(servers.app).origin, quotaSize: 200_000 });
  // (Chromium's navigator.storage.estimate() does not see this override, so the fit check's quota
  // warning cannot show here; test/engine.test.ts checks it.)
  await page.goto(`${servers.app}?model=${encodeURIComponent(`${servers.models}${TINY}/`)}`);
  await waitReady(page);
  await expect(page.locator('.notice')).toContainText('Not cached');
  await expect(page.locator('.notice')).toContainText('storage quota');
  await screenshot(page, 'desktop-9-quota');
  await setSettings(page, { maxTokens: '2' });
  await send(page, 'Hi');
  await finishedAnswer(page);
});

test.describe('on a phone, in dark mode', () => {
  test.use({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'dark' });

  test('the layout fits a narrow screen', async ({ page }) => {
    await page.goto(`${servers.app}?model=${encodeURIComponent(`${servers.models}${TINY}/`)}`);
    await waitReady(page);
    // A text-only model: no attachment buttons, and a note in their place saying why.
    await expect(page.getByRole('button', { name: /^Attach/ })).toHaveCount(0);
    await expect(page.locator('.text-only')).toBeVisible();
    await expect(page.locator('.text-only')).toHaveAttribute('title', /reads text only/);
    await screenshot(page, 'mobile-1-ready');
    await setSettings(page, { temperature: '0', maxTokens: '10' });
    await send(page, 'Write a short line about the sea.');
    await finishedAnswer(page);
    await screenshot(page, 'mobile-2-answer');
    await page.getByRole('button', { name: /qwen35-tiny-text/ }).click();
    await expect(page.getByRole('dialog', { name: 'Choose a model' })).toBeVisible();
    await screenshot(page, 'mobile-3-picker');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, 'no horizontal scrolling').toBeLessThanOrEqual(0);
  });
});

/** A 2×2 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR4nGP4z8DwHwyBNAMDEwMDAwBB9gX7WdoK4QAAAABJRU5ErkJggg==', 'base64');
