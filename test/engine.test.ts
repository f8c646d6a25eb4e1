// The engine behind the public API, end to end in Node: a fixture repo served over loopback HTTP as
// if it were the Hub, downloaded through the block cache, chatted with through the chat template.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatChunk } from '../src/api.ts';
import { loadChatTemplate } from '../src/chat/chat-template.ts';
import { loadTokenizer } from '../src/chat/tokenizer.ts';
import { QwenEngine } from '../src/engine/engine.ts';
import { MemoryBlockStore } from '../src/loader/cached-source.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { serveDirectory } from '../scripts/static-server.ts';
import { loadFixture } from './helpers/fixtures.ts';
import { testDevice } from './helpers/gpu.ts';

const FIXTURE = new URL('../../shared/fixtures/qwen35-tiny-text/', import.meta.url).pathname;
const messages = [{ role: 'user' as const, content: 'Write a short line about the sea.' }];
const store = new MemoryBlockStore();
let server: Awaited<ReturnType<typeof serveDirectory>>;
let engine: QwenEngine;

before(async () => {
  server = await serveDirectory(FIXTURE);
  engine = new QwenEngine(testDevice, store);
});
after(async () => {
  await engine.unload();
  await server.close();
});

test('checkFit and load report the model, with progress up to the whole download', async () => {
  const fit = await engine.checkFit(server.url, { maxContext: 256 });
  assert.equal(fit.fits, true, fit.reasons.join('; '));
  assert.ok(fit.requiredBytes > 1e6);
  const events: { overallLoadedBytes: number; overallTotalBytes: number }[] = [];
  const info = await engine.load(server.url, { maxContext: 256 }, (p) => events.push(p));
  assert.equal(info.modelType, 'qwen3_5_text');
  assert.equal(info.thinkingByDefault, false);
  assert.ok(events.length > 0);
  const last = events[events.length - 1];
  assert.equal(last.overallLoadedBytes, last.overallTotalBytes);
  assert.ok(events.every((e, i) => i === 0 || e.overallLoadedBytes >= events[i - 1].overallLoadedBytes));
});

test('a greedy chat streams the tokens the CPU reference model produces for the templated prompt', async () => {
  const chunks: ChatChunk[] = [];
  const result = await engine.chat(messages, { temperature: 0, max_tokens: 10 }, (c) => chunks.push(c));
  // Independently: template + tokenizer from disk, then greedy decoding on the CPU reference.
  const source = new NodeDirSource(FIXTURE);
  const tokenizer = await loadTokenizer(source);
  const prompt = (await loadChatTemplate(source, tokenizer.config)).render(messages, {});
  assert.ok(prompt.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
  const fixture = await loadFixture('qwen35-tiny-text');
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
  await assert.rejects(engine.chat(messages, {}, () => {}), { name: 'EngineBusyError' });
  const result = await running;
  assert.equal(result.finishReason, 'abort');
  assert.ok(result.tokenIds.length < 200);
  assert.equal((await engine.stats()).busy, false);
});

test('image input to a text-only model is refused with a typed error', async () => {
  await assert.rejects(
    engine.chat([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x.png' } }] }], {}, () => {}),
    { name: 'UnsupportedModelError' },
  );
});

test('a cached model loads and chats with the network gone', async () => {
  await server.close();
  const offline = new QwenEngine(testDevice, store);
  const events: { from: string }[] = [];
  await offline.load(server.url, { maxContext: 256 }, (p) => events.push(p));
  assert.ok(events.every((e) => e.from === 'cache'));
  const result = await offline.chat(messages, { temperature: 0, max_tokens: 4 }, () => {});
  assert.ok(result.tokenIds.length > 0);
  await offline.unload();
  await assert.rejects(offline.chat(messages, {}, () => {}), { name: 'NoModelError' });
});
