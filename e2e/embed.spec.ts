// The library as other sites use it: one <script type="module"> from another origin (as from a
// CDN) and a <qwen-chat> tag in a plain page; its worker must start and the model chat. Then the
// npm package's declarations, compiled by a consumer.
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { greedyAnswer } from './expected.ts';
import { FIXTURES, ROOT, TINY, finishedAnswer, screenshot, send, setSettings, waitReady } from './helpers.ts';
import { startServers, type Servers } from './server.ts';

let servers: Servers;
test.beforeAll(async () => {
  servers = await startServers(resolve(ROOT, 'dist'), FIXTURES);
});
test.afterAll(async () => {
  await servers.close();
});

test('<qwen-chat> in a plain page on another origin loads its worker and chats, its styles contained', async ({ page }) => {
  servers.pages.set('/', `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Docs</title>
<style>
  body { font: 17px/1.6 Georgia, serif; color: #222; background: #faf7f2; max-width: 860px; margin: 32px auto; padding: 0 20px; }
  button { background: red !important; font-family: fantasy; }
  p, div { letter-spacing: 0.02em; }
  qwen-chat { height: 560px; margin-top: 24px; }
</style></head>
<body>
  <h1>Acme Docs</h1>
  <p>Questions about our product? Ask the assistant below. It runs in your browser.</p>
  <script type="module" src="${servers.app}lib/qwen-chat.js"></script>
  <qwen-chat model="${servers.models}${TINY}/" autoload></qwen-chat>
</body></html>`);
  await page.addInitScript(() => document.addEventListener('qwen-load', (e) => Object.assign(window, { loadedType: (e as CustomEvent).detail.modelType })));
  await page.goto(servers.other);
  await waitReady(page);
  expect(await page.evaluate(() => (window as unknown as { loadedType: string }).loadedType), 'the qwen-load event').toBe('qwen3_5_text');
  // The page's own button rule does not reach into the element.
  const send_ = page.locator('qwen-chat').getByRole('button', { name: 'Send message' });
  expect(await send_.evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe('rgb(255, 0, 0)');

  await setSettings(page, { temperature: '0', maxTokens: '8' });
  const prompt = 'What does Acme make?';
  const reference = await greedyAnswer(TINY, resolve(FIXTURES, TINY), [{ role: 'user', content: prompt }], { maxTokens: 8 });
  await send(page, prompt);
  expect(await finishedAnswer(page)).toBe(reference.answer);
  await screenshot(page, 'embed-1-third-party-page');
});

test('the npm package: ES modules plus declarations a TypeScript consumer compiles against', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qwen-consumer-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'qwen-webgpu'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'], strict: true, noEmit: true, types: [] },
      files: ['app.ts'],
    }));
    writeFileSync(join(dir, 'app.ts'), `
import { createWorkerEngine, QwenError, type ChatMessage, type EngineClient, type QwenChatElement } from 'qwen-webgpu';
import 'qwen-webgpu/embed';

const engine: EngineClient = createWorkerEngine();
const messages: ChatMessage[] = [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }];
export async function run(): Promise<string> {
  const fit = await engine.checkFit('Qwen/Qwen3.5-0.8B');
  if (!fit.fits) return fit.reasons.join('; ');
  const info = await engine.load('Qwen/Qwen3.5-0.8B', { onProgress: (p) => console.log(p.file, p.overallLoadedBytes / p.overallTotalBytes) });
  const stream = engine.chat(messages, { max_tokens: 64, enable_thinking: info.thinkingByDefault });
  for await (const chunk of stream) if (chunk.channel === 'answer') console.log(chunk.text);
  const result = await stream.result;
  return \`\${result.answer} (\${result.stats.decodeTokensPerSecond.toFixed(1)} tok/s)\`;
}
export function isBusy(e: unknown): boolean {
  return e instanceof QwenError && e.code === 'busy';
}
const chat: QwenChatElement = document.createElement('qwen-chat');
chat.model = 'Qwen/Qwen3.5-0.8B';
// @ts-expect-error temperature is a number
engine.chat(messages, { temperature: 'warm' });
`);
    execFileSync(process.execPath, [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`the consumer does not compile:\n${(e as { stdout?: Buffer }).stdout?.toString() ?? e}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
