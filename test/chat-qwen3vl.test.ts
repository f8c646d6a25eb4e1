// Qwen3-VL Instruct and Thinking through each repo's own chat template: rendering a conversation,
// then the engine end to end on a Qwen3-VL fixture served as a Hub repo (greedy chat = the CPU
// reference on the rendered prompt; a Thinking template's output lands on the thinking channel;
// generation stops at the config's eos ids).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatMessage } from '../src/api.ts';
import { loadChatTemplate, promptEndsInThinking } from '../src/chat/chat-template.ts';
import { loadTokenizer } from '../src/chat/tokenizer.ts';
import { QwenEngine } from '../src/engine/engine.ts';
import { MemoryBlockStore } from '../src/loader/cached-source.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { serveDirectory } from '../scripts/static-server.ts';
import { FIXTURES, loadFixture } from './helpers/fixtures.ts';
import { testDevice } from './helpers/gpu.ts';

const NAME = 'qwen3vl-tiny-image';
const FIXTURE = new URL(`${NAME}/`, FIXTURES).pathname;
const INSTRUCT = readFileSync(new URL('../../shared/qwen3vl-tokenizer/chat_template.jinja', import.meta.url), 'utf8');
/**
 * The published Thinking repos' template is not among the files available here. What the engine
 * relies on is how it ends a prompt: the Thinking models' generation prompt opens a `<think>` block
 * (they always reason first). This stand-in is the Instruct template with exactly that change.
 */
const THINKING = INSTRUCT.replace("{{- '<|im_start|>assistant\\n' }}", "{{- '<|im_start|>assistant\\n<think>\\n' }}");

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of the fixture repo with some files replaced. */
function repo(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'qwen3vl-'));
  dirs.push(dir);
  cpSync(FIXTURE, dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const conversation: ChatMessage[] = [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: [{ type: 'image_url', image_url: { url: 'cat.png' } }, { type: 'text', text: 'What is this?' }] },
  { role: 'assistant', content: 'A cat.' },
  { role: 'user', content: 'And its colour?' },
];

test('Instruct and Thinking templates render a conversation with images, ending as each variant generates', async () => {
  assert.notEqual(THINKING, INSTRUCT, 'the stand-in differs from the Instruct template');
  const body = '<|im_start|>system\nAnswer briefly.<|im_end|>\n' +
    '<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>What is this?<|im_end|>\n' +
    '<|im_start|>assistant\nA cat.<|im_end|>\n<|im_start|>user\nAnd its colour?<|im_end|>\n';
  for (const [template, tail, thinking] of [[INSTRUCT, '<|im_start|>assistant\n', false], [THINKING, '<|im_start|>assistant\n<think>\n', true]] as const) {
    const source = new NodeDirSource(repo({ 'chat_template.jinja': template }));
    const tokenizer = await loadTokenizer(source);
    const chat = await loadChatTemplate(source, tokenizer.config);
    const prompt = chat.render(conversation);
    assert.equal(prompt, body + tail);
    assert.equal(chat.render(conversation, { addGenerationPrompt: false }), body);
    assert.equal(chat.thinkingByDefault(), thinking);
    assert.equal(promptEndsInThinking(prompt), thinking);
    const ids = tokenizer.encode(prompt);
    assert.equal(ids.filter((id) => id === tokenizer.tokenId('<|image_pad|>')).length, 1, 'one placeholder per image, expanded later by the processor');
    if (thinking) assert.equal(ids.at(-2), tokenizer.special.thinkStart);
  }
  // The fixture ships the published Instruct template itself.
  assert.equal(readFileSync(join(FIXTURE, 'chat_template.jinja'), 'utf8'), INSTRUCT);
});

const ask: ChatMessage[] = [{ role: 'user', content: 'Describe the sea in one line.' }];

/** Greedy decoding of the rendered prompt on the CPU reference model, up to `max` tokens or an eos. */
async function referenceGreedy(dir: string, max: number, eos: Set<number>): Promise<number[]> {
  const source = new NodeDirSource(dir);
  const tokenizer = await loadTokenizer(source);
  const prompt = (await loadChatTemplate(source, tokenizer.config)).render(ask);
  const { config, create } = await loadFixture(NAME);
  const model = create();
  let logits = model.forward(Int32Array.from(tokenizer.encode(prompt))).logits;
  const out: number[] = [];
  while (out.length < max) {
    const row = logits.subarray(logits.length - config.vocabSize);
    const next = row.indexOf(Math.max(...row));
    if (eos.has(next)) break;
    out.push(next);
    logits = model.forward(Int32Array.of(next)).logits;
  }
  return out;
}

/** The fixture served as a Hub repo, loaded by the engine; `run` gets both. */
async function withEngine(dir: string, run: (engine: QwenEngine) => Promise<void>): Promise<void> {
  const server = await serveDirectory(dir);
  const engine = new QwenEngine(testDevice, new MemoryBlockStore());
  try {
    const info = await engine.load(server.url, { maxContext: 128 });
    assert.equal(info.modelType, 'qwen3_vl');
    await run(engine);
  } finally {
    await engine.unload();
    await server.close();
  }
}

test('engine, Qwen3-VL Instruct: greedy chat as the CPU reference, stopping at an eos id of config.json', async () => {
  // Make a later greedy token an eos of text_config: the chat must stop just before it.
  const free = await referenceGreedy(FIXTURE, 8, new Set());
  const stopAt = free.findIndex((id, i) => i > 0 && !free.slice(0, i).includes(id));
  assert.ok(stopAt > 0, 'a token that first appears after the first one');
  const config = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8'));
  config.text_config.eos_token_id = [221, free[stopAt]];
  await withEngine(repo({ 'config.json': JSON.stringify(config) }), async (engine) => {
    assert.equal((await engine.stats()).loaded?.thinkingByDefault, false);
    const result = await engine.chat(ask, { temperature: 0, max_tokens: 8 }, () => {});
    assert.deepEqual(result.tokenIds, free.slice(0, stopAt));
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.thinking, '');
    const tokenizer = await loadTokenizer(new NodeDirSource(FIXTURE));
    assert.equal(result.answer, tokenizer.decode(result.tokenIds, { skipSpecialTokens: true }).replace(/^\n+/, ''));
  });
});

test('engine, Qwen3-VL Thinking: the open <think> of its template routes the output to the thinking channel', async () => {
  const dir = repo({ 'chat_template.jinja': THINKING });
  await withEngine(dir, async (engine) => {
    assert.equal((await engine.stats()).loaded?.thinkingByDefault, true);
    const result = await engine.chat(ask, { temperature: 0, max_tokens: 8 }, () => {});
    assert.deepEqual(result.tokenIds, await referenceGreedy(dir, 8, new Set([219, 221])));
    assert.equal(result.answer, '', 'no </think> yet: everything is reasoning');
    assert.ok(result.thinking.length > 0);
  });
});
