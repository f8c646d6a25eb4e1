// Image decoding and the video-file / webcam helpers in headless Chromium, where createImageBitmap,
// HTMLVideoElement and MediaRecorder are real: valid inputs decode exactly, broken ones fail with
// typed errors instead of hanging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { CheckResult } from './browser/vision-capture.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'];

test('browser decoding: images, video files, live streams and broken inputs', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}` }, async () => {
  const { createServer } = await import('vite');
  const { chromium } = await import('playwright-core');
  const server = await createServer({
    configFile: `${REPO}vite.config.ts`, root: REPO, logLevel: 'warn', clearScreen: false,
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
    optimizeDeps: { entries: ['test/browser/vision-capture.html'] },
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    await server.listen();
    const { port } = server.httpServer!.address() as AddressInfo;
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`[page] ${e.stack ?? e.message}`));
    const done = new Promise<CheckResult[]>((resolve) => void page.exposeFunction('checksDone', resolve));
    await page.goto(`http://127.0.0.1:${port}/test/browser/vision-capture.html`);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the page reported nothing within 120 s')), 120_000).unref());
    const results = await Promise.race([done, timeout]);
    for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`);
    assert.equal(results.length, 6);
    for (const r of results) assert.ok(r.ok, `${r.name}: ${r.detail}`);
  } finally {
    await browser.close();
    await server.close();
  }
});
