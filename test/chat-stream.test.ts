import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MemorySource } from '../src/loader/file-source.ts';
import { loadTokenizer, type ChatTokenizer } from '../src/chat/tokenizer.ts';
import { TextStream, type Detokenizer } from '../src/chat/text-stream.ts';
import { ThinkingSplitter } from '../src/chat/thinking.ts';
import type { ChatChunk } from '../src/api.ts';

const DIR = new URL('../../shared/fixtures/qwen35-realdims-2l/', import.meta.url).pathname;

/** qwen35-realdims-2l has all 256 byte symbols, so any UTF-8 text round-trips. */
async function realdims(): Promise<ChatTokenizer> {
  const files = new Map(['tokenizer.json', 'tokenizer_config.json'].map((f) => [f, new Uint8Array(readFileSync(DIR + f))]));
  return loadTokenizer(new MemorySource(files));
}

const UNICODE = 'Hello 世界! 👩‍👩‍👧 café naïve ✓ — 日本語のテキスト 🎉🎉\n\tEnd ½ € 𝄞.';

function streamAll(stream: TextStream, ids: number[]): string[] {
  return [...ids.map((id) => stream.push(id)), stream.flush()];
}

test('text stream: pieces concatenate to decode(ids) and never split a character', async () => {
  const tok = await realdims();
  const ids = tok.encode(UNICODE);
  assert.equal(tok.decode(ids), UNICODE.normalize('NFC'));
  assert.ok(ids.length > [...UNICODE].length, 'multi-byte characters span several tokens');

  const pieces = streamAll(new TextStream(tok), ids);
  assert.equal(pieces.join(''), tok.decode(ids));
  assert.ok(pieces.includes(''), 'incomplete characters were held back');
  for (const piece of pieces) {
    assert.ok(!piece.includes('\uFFFD'), JSON.stringify(piece));
    assert.doesNotMatch(piece, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/, 'no lone surrogate half');
  }
});

test('text stream: special tokens, padding ids and skipSpecialTokens', async () => {
  const tok = await realdims();
  const ids = [...tok.encode(`<|im_start|>assistant\n${UNICODE}<|im_end|>`), 2047, ...tok.encode('🎉')];
  for (const skipSpecialTokens of [false, true]) {
    const pieces = streamAll(new TextStream(tok, { skipSpecialTokens }), ids);
    assert.equal(pieces.join(''), tok.decode(ids, { skipSpecialTokens }));
  }
  assert.ok(!tok.decode(ids, { skipSpecialTokens: true }).includes('<|im_end|>'));
});

test('text stream: an incomplete or invalid character shows as U+FFFD, as a full decode does', async () => {
  const tok = await realdims();
  const [lead, ...rest] = tok.encode('世');
  assert.ok(rest.length > 0);
  const stream = new TextStream(tok);
  assert.equal(stream.push(lead), '');
  assert.equal(stream.flush(), '\uFFFD');
  assert.equal(stream.flush(), '', 'flush resets');

  // A lone continuation byte followed by text: the text is not held back forever.
  const ids = [rest.at(-1)!, ...tok.encode('ok')];
  const pieces = streamAll(new TextStream(tok), ids);
  assert.equal(pieces.join(''), tok.decode(ids));
  assert.deepEqual(pieces.slice(-2), [tok.decode(ids), '']);
});

/** Feeds ids one by one; returns the channels' texts and the chunks. */
function split(splitter: ThinkingSplitter, ids: number[]) {
  const chunks = [...ids.flatMap((id) => splitter.push(id)), ...splitter.flush()];
  const text = (channel: ChatChunk['channel']) => chunks.filter((c) => c.channel === channel).map((c) => c.text).join('');
  return { thinking: text('thinking'), answer: text('answer'), chunks };
}

test('thinking splitter on token ids: thinking mode, closed block, no block, never closed', async () => {
  const tok = await realdims();
  const options = { thinkStartId: tok.special.thinkStart, thinkEndId: tok.special.thinkEnd };
  const run = (text: string, startInThinking: boolean) => {
    const ids = tok.encode(text);
    const result = split(new ThinkingSplitter(tok, { ...options, startInThinking }), ids);
    // Every id but the tags' own lands in one chunk, in order, up to newlines trimmed at the end.
    const tags = [tok.special.thinkStart, tok.special.thinkEnd];
    const textIds = ids.filter((id) => !tags.includes(id));
    const chunkIds = result.chunks.flatMap((c) => c.tokenIds);
    assert.deepEqual(chunkIds, textIds.slice(0, chunkIds.length));
    assert.match(tok.decode(textIds.slice(chunkIds.length)), /^\n*$/);
    return result;
  };

  const thinkingMode = run('Let me see: 6 × 7 🤔\n\nis 42.\n</think>\n\nThe answer is 42 ✓\n', true);
  assert.deepEqual([thinkingMode.thinking, thinkingMode.answer], ['Let me see: 6 × 7 🤔\n\nis 42.', 'The answer is 42 ✓\n']);
  assert.equal(thinkingMode.chunks[0].channel, 'thinking');

  const opened = run('<think>\n推理 step\n</think>\n\n答案', false);
  assert.deepEqual([opened.thinking, opened.answer], ['推理 step', '答案']);

  const plain = run('Just an answer, no <tags>.\n', false);
  assert.deepEqual([plain.thinking, plain.answer], ['', 'Just an answer, no <tags>.\n']);

  const unfinished = run('still thinking…\n\n', true);
  assert.deepEqual([unfinished.thinking, unfinished.answer], ['still thinking…', '']);

  const empty = run('\n\n</think>\n\nHi', true);
  assert.deepEqual([empty.thinking, empty.answer], ['', 'Hi']);
  assert.ok(empty.chunks.every((c) => c.text !== ''));
});

test('thinking splitter: a byte held back before </think> is flushed into the thinking channel', async () => {
  const tok = await realdims();
  const [lead] = tok.encode('世');
  const splitter = new ThinkingSplitter(tok, { startInThinking: true, thinkStartId: tok.special.thinkStart, thinkEndId: tok.special.thinkEnd });
  const ids = [...tok.encode('a'), lead, tok.special.thinkEnd!, ...tok.encode('b')];
  const { thinking, answer } = split(splitter, ids);
  assert.equal(thinking + '</think>' + answer, tok.decode(ids));
});

/** A tokenizer whose ids are the indexes of arbitrary text pieces, to cut tags anywhere. */
function pieces(...texts: string[]): { tok: Detokenizer; ids: number[] } {
  return { tok: { decode: (ids) => ids.map((id) => texts[id]).join('') }, ids: texts.map((_, i) => i) };
}

test('thinking splitter on text: tags cut across chunks', () => {
  const cuts = [
    ['<th', 'ink', '>\nrea', 'son\n', '\n</', 'think>', '\n', '\nans', 'wer'],
    [...'<think>\nreason\n\n</think>\n\nanswer'],
    ['<think>\nreason\n\n</think>\n\nanswer'],
  ];
  for (const cut of cuts) {
    const { tok, ids } = pieces(...cut);
    const result = split(new ThinkingSplitter(tok, { startInThinking: false }), ids);
    assert.deepEqual([result.thinking, result.answer], ['reason', 'answer'], JSON.stringify(cut));
    assert.deepEqual(result.chunks.flatMap((c) => c.tokenIds), ids);
  }

  const lookalikes = pieces('a <', ' b </th', 'in', 'g> c <thi');
  assert.deepEqual(split(new ThinkingSplitter(lookalikes.tok, { startInThinking: false }), lookalikes.ids).answer, 'a < b </thing> c <thi');

  const thinkingMode = pieces('step 1\n', 'step 2\n</thi', 'nk>\n\nDone');
  const result = split(new ThinkingSplitter(thinkingMode.tok, { startInThinking: true }), thinkingMode.ids);
  assert.deepEqual([result.thinking, result.answer], ['step 1\nstep 2', 'Done']);
});

test('thinking splitter: with tag ids known, tag-like text is ordinary text', () => {
  const { tok, ids } = pieces('<think>', '</think>', 'x', '<think>', 'y');
  const splitter = new ThinkingSplitter(tok, { startInThinking: false, thinkStartId: 0, thinkEndId: 1 });
  const result = split(splitter, [0, 2, 1, ...ids.slice(3)]);
  assert.deepEqual([result.thinking, result.answer], ['x', '<think>y']);
  const chunk: ChatChunk = result.chunks[0];
  assert.deepEqual(chunk, { channel: 'thinking', text: 'x', tokenIds: [2] });
});
