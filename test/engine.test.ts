// The engine behind the public API, end to end in Node: fixture repos served over loopback HTTP as
// if they were the Hub (with faults switched on at will), downloaded through the block cache,
// chatted with through the chat template; then every way a request or a load can go wrong.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatChunk, LoadProgress } from '../src/api.ts';
import { loadChatTemplate } from '../src/chat/chat-template.ts';
import { loadTokenizer } from '../src/chat/tokenizer.ts';
import { QwenEngine } from '../src/engine/engine.ts';
import { MemoryBlockStore } from '../src/loader/cached-source.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { serveControl, serveDirectory } from '../scripts/static-server.ts';
import { loadFixture } from './helpers/fixtures.ts';
import { testDevice } from './helpers/gpu.ts';

const FIXTURES = new URL('../../shared/fixtures/', import.meta.url).pathname;
const TINY = 'qwen35-tiny-text';
const messages = [{ role: 'user' as const, content: 'Write a short line about the sea.' }];
const store = new MemoryBlockStore();
const control = serveControl();
let server: Awaited<ReturnType<typeof serveDirectory>>;
let engine: QwenEngine;
let tiny = '';

before(async () => {
  server = await serveDirectory(FIXTURES, control);
  tiny = `${server.url}${TINY}/`;
  engine = new QwenEngine(testDevice, store);
});
after(async () => {
  await engine.unload();
  await server.close();
});

/** Bytes requested from one file since the log was last cleared. */
function bytesRequested(path: string): number {
  return control.log.filter((l) => l.startsWith(`GET ${path}`)).reduce((sum, line) => {
    const range = / bytes=(\d+)-(\d+)$/.exec(line);
    return sum + (range ? Number(range[2]) - Number(range[1]) + 1 : Infinity);
  }, 0);
}

test('checkFit says what a load costs before downloading it; unknown and unsupported models are typed errors', async () => {
  control.log = [];
  const fit = await engine.checkFit(tiny, { maxContext: 256 });
  assert.equal(fit.fits, true, fit.reasons.join('; '));
  assert.ok(fit.requiredBytes > 1e6);
  assert.ok(fit.downloadBytes > 800_000 && fit.cachedBytes === 0, `${fit.downloadBytes} ${fit.cachedBytes}`);
  assert.match(fit.gpu, /buffers up to/);
  assert.ok(bytesRequested(`/${TINY}/model.safetensors`) < 20_000, 'only the checkpoint header was read');
  // A memory budget decides, with the numbers; q4 weights need less than f16 ones.
  const q4 = await engine.checkFit(tiny, { maxContext: 256, quant: 'q4' });
  assert.ok(q4.fits && q4.requiredBytes < fit.requiredBytes, `${q4.requiredBytes} vs ${fit.requiredBytes}`);
  const budget = { maxContext: 256, memoryBudgetBytes: q4.requiredBytes + 1 };
  const tight = await engine.checkFit(tiny, budget);
  assert.equal(tight.fits, false);
  assert.match(tight.reasons[0], /^The model needs [\d.]+ MiB of GPU memory \(weights .*\), more than the budget of/);
  control.log = [];
  await assert.rejects(engine.load(tiny, budget), { name: 'ModelTooLargeError', code: 'model-too-large', message: /more than the budget/ });
  assert.ok(bytesRequested(`/${TINY}/model.safetensors`) < 20_000, 'a refused load downloads no weights');
  assert.equal((await engine.checkFit(tiny, { ...budget, quant: 'q4' })).fits, true);

  await assert.rejects(engine.checkFit(`${server.url}no-such-model/`), { name: 'ModelNotFoundError', code: 'model-not-found', message: /no-such-model.*HTTP 404/ });
  await assert.rejects(engine.load(`${server.url}no-such-model`), { name: 'ModelNotFoundError' });
  // Every supported family is checked the same way: MoE and Qwen3-VL (with its vision tower) fit too.
  for (const name of ['qwen35-tiny-moe', 'qwen3vl-tiny-image']) {
    const other = await engine.checkFit(`${server.url}${name}/`, { maxContext: 256 });
    assert.equal(other.fits, true, `${name}: ${other.reasons.join('; ')}`);
  }
  // An architecture the engine does not run is refused from config.json alone.
  const foreign = await mkdtemp(join(tmpdir(), 'qwen-foreign-'));
  await writeFile(join(foreign, 'config.json'), JSON.stringify({ model_type: 'llama', hidden_size: 64 }));
  await writeFile(join(foreign, 'model.safetensors'), new Uint8Array(1024));
  const foreignServer = await serveDirectory(foreign, control);
  try {
    control.log = [];
    await assert.rejects(engine.checkFit(foreignServer.url), { name: 'UnsupportedModelError', message: /llama/ });
    await assert.rejects(engine.load(foreignServer.url), { name: 'UnsupportedModelError' });
    assert.equal(bytesRequested('/model.safetensors'), 0, 'nothing of an unsupported model is downloaded');
  } finally {
    await foreignServer.close();
    await rm(foreign, { recursive: true });
  }
  assert.equal((await engine.stats()).busy, false);
});

test('a download cut off mid-file fails with a clear error; loading again resumes and reports full progress', async () => {
  control.cutAfter.set(`/${TINY}/model.safetensors`, 300_000);
  await assert.rejects(engine.load(tiny, { maxContext: 256 }), (e: Error & { code?: string }) =>
    e.name === 'ModelNotCachedError' && e.code === 'not-cached' && /model\.safetensors/.test(e.message) && /broke off/.test(e.message) && /reconnect/.test(e.message));
  assert.equal((await engine.stats()).busy, false);

  const events: LoadProgress[] = [];
  const info = await engine.load(tiny, { maxContext: 256 }, (p) => events.push(p));
  assert.equal(info.modelType, 'qwen3_5_text');
  assert.equal(info.thinkingByDefault, false);
  assert.deepEqual(info.accepts, ['text']);
  assert.equal(info.quant, 'f16', 'the default weight format, as ModelInfo says');
  assert.equal(info.cacheError, null);
  const last = events[events.length - 1];
  assert.equal(last.overallLoadedBytes, last.overallTotalBytes);
  assert.ok(events.every((e, i) => i === 0 || e.overallLoadedBytes >= events[i - 1].overallLoadedBytes));
  const weights = events.filter((e) => e.file === 'model.safetensors');
  assert.equal(weights[weights.length - 1].loadedBytes, weights[weights.length - 1].totalBytes);
  const fit = await engine.checkFit(tiny, { maxContext: 256 });
  assert.equal(fit.cachedBytes, fit.downloadBytes, 'everything the load read is cached');
  assert.equal(last.overallTotalBytes, fit.downloadBytes, 'progress and the fit check count the same bytes');
});

test('a greedy chat streams the tokens the CPU reference model produces for the templated prompt', async () => {
  const chunks: ChatChunk[] = [];
  const result = await engine.chat(messages, { temperature: 0, max_tokens: 10 }, (c) => chunks.push(c));
  // Independently: template + tokenizer from disk, then greedy decoding on the CPU reference.
  const source = new NodeDirSource(FIXTURES + TINY);
  const tokenizer = await loadTokenizer(source);
  const prompt = (await loadChatTemplate(source, tokenizer.config)).render(messages, {});
  assert.ok(prompt.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
  const fixture = await loadFixture(TINY);
  const reference = fixture.create();
  const expected: number[] = [];
  let logits = reference.forward(Int32Array.from(tokenizer.encode(prompt))).logits;
  const V = fixture.config.vocabSize;
  const eos = new Set([tokenizer.special.imEnd, tokenizer.special.endOfText]);
  while (expected.length < 10) {
    const row = logits.subarray(logits.length - V);
    const next = row.indexOf(Math.max(...row));
    if (eos.has(next)) break;
    expected.push(next);
    logits = reference.forward(Int32Array.of(next)).logits;
  }
  assert.deepEqual(result.tokenIds, expected);
  assert.equal(result.finishReason, expected.length === 10 ? 'length' : 'stop');
  assert.equal(chunks.map((c) => c.text).join(''), result.answer + result.thinking);
  assert.equal(result.answer, tokenizer.decode(expected, { skipSpecialTokens: true }).replace(/^\n+/, ''));
  assert.ok(result.stats.decodeTokensPerSecond > 0 && result.stats.promptTokens > 10);
});

test('enable_thinking routes output to the thinking channel', async () => {
  const result = await engine.chat(messages, { temperature: 0, max_tokens: 6, enable_thinking: true }, () => {});
  assert.ok(result.thinking.length > 0 || result.tokenIds.length === 0);
  assert.equal(result.answer, '');
});

test('a second request while one runs is rejected, and abort ends the running one', async () => {
  let first = true;
  const running = engine.chat(messages, { temperature: 1, seed: 3, max_tokens: 200 }, () => {
    if (first) void engine.abort();
    first = false;
  });
  await assert.rejects(engine.chat(messages, {}, () => {}), { name: 'EngineBusyError', code: 'busy' });
  await assert.rejects(engine.load(tiny), { name: 'EngineBusyError' });
  const result = await running;
  assert.equal(result.finishReason, 'abort');
  assert.ok(result.tokenIds.length < 200);
  assert.equal((await engine.stats()).busy, false);
});

test('requests the model cannot serve are refused before anything runs, and the engine stays usable', async () => {
  const image = { type: 'image_url' as const, image_url: { url: 'blob:x' } };
  await assert.rejects(engine.chat([{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, image] }], {}, () => {}),
    { name: 'UnsupportedContentError', code: 'unsupported-content', message: /Message 1, part 2 is an image, but .* reads text only/ });
  await assert.rejects(engine.chat([{ role: 'user', content: [{ type: 'audio' } as never] }], {}, () => {}), { name: 'InvalidRequestError', message: /part 1 has type "audio"/ });
  await assert.rejects(engine.chat([], {}, () => {}), { name: 'InvalidRequestError' });
  await assert.rejects(engine.chat(messages, { temperature: -1 }, () => {}), { name: 'InvalidRequestError', message: /temperature/ });
  await assert.rejects(engine.chat([{ role: 'user', content: 'sea '.repeat(400) }], {}, () => {}), { name: 'ContextLengthError', code: 'context-full', message: /context holds 256/ });
  // A failed load of another model leaves this one loaded.
  await assert.rejects(engine.load(`${server.url}no-such-model/`), { name: 'ModelNotFoundError' });
  assert.equal((await engine.stats()).loaded?.model, tiny);
  const result = await engine.chat([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], { temperature: 0, max_tokens: 2 }, () => {});
  assert.ok(result.tokenIds.length > 0);
});

test('when the browser refuses to store the download, the model still runs and says it is not cached', async () => {
  class FullStore extends MemoryBlockStore {
    override async put(key: string, bytes: Uint8Array): Promise<void> {
      if (key.includes('/block/')) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return super.put(key, bytes);
    }
  }
  class SmallStore extends MemoryBlockStore {
    async estimate() {
      return { quota: 500_000, usage: 100_000 };
    }
  }
  const fit = await new QwenEngine(testDevice, new SmallStore()).checkFit(tiny);
  assert.equal(fit.fits, true);
  assert.match(fit.warnings.join(), /This site may store 390\.6 KiB more, less than the .* left to download: .* will not load offline/);
  const full = new QwenEngine(testDevice, new FullStore());
  const info = await full.load(tiny, { maxContext: 64 });
  assert.equal(info.cacheError?.code, 'storage-quota');
  assert.match(info.cacheError!.message, /not fully cached.*will not work offline/);
  assert.ok((await full.chat(messages, { temperature: 0, max_tokens: 1 }, () => {})).tokenIds.length > 0);
  await full.unload();
});

test('a cached model loads and chats with the network gone', async () => {
  control.offline = true;
  const offline = new QwenEngine(testDevice, store);
  const fit = await offline.checkFit(tiny, { maxContext: 256 });
  assert.equal(fit.cachedBytes, fit.downloadBytes);
  const events: { from: string }[] = [];
  await offline.load(tiny, { maxContext: 256 }, (p) => events.push(p));
  assert.ok(events.every((e) => e.from === 'cache'));
  const result = await offline.chat(messages, { temperature: 0, max_tokens: 4 }, () => {});
  assert.ok(result.tokenIds.length > 0);
  await offline.unload();
  await assert.rejects(offline.chat(messages, {}, () => {}), { name: 'NoModelError' });
  control.offline = false;
});
