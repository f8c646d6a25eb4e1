import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { MemorySource } from '../src/loader/file-source.ts';
import { loadTokenizer, TokenizerError } from '../src/chat/tokenizer.ts';
import { loadChatTemplate, promptEndsInThinking, type TemplateMessage } from '../src/chat/chat-template.ts';
import { loadGenerationConfig } from '../src/chat/generation-config.ts';
import type { ChatMessage } from '../src/api.ts';

const FIXTURES = new URL('../../shared/fixtures/', import.meta.url).pathname;
const PUBLISHED = new URL('../../shared/qwen35-tokenizer/', import.meta.url).pathname;
const NAMES: string[] = JSON.parse(readFileSync(FIXTURES + 'index.json', 'utf8')).fixtures;

/** A fixture's repo files (all but the weights), optionally with some replaced or removed (null). */
function fixtureSource(name: string, overrides: Record<string, string | null> = {}): MemorySource {
  const dir = `${FIXTURES}${name}/`;
  const files = new Map<string, Uint8Array>();
  for (const f of readdirSync(dir)) if (!f.endsWith('.safetensors')) files.set(f, new Uint8Array(readFileSync(dir + f)));
  for (const [f, text] of Object.entries(overrides)) {
    if (text === null) files.delete(f);
    else files.set(f, new TextEncoder().encode(text));
  }
  return new MemorySource(files);
}

function specialIds(name: string): Record<string, number> {
  return JSON.parse(readFileSync(`${FIXTURES}${name}/reference.json`, 'utf8')).special_token_ids;
}

const isQwen35 = (name: string) => name.startsWith('qwen35');
const ASCII = 'Hello, world! The quick brown fox (42 + 7 = 49) jumps over\tthe lazy dog.\n\n  Indented line; "quotes" & <tags>?\r\n~`|{}[]';

for (const name of NAMES) {
  test(`${name}: special tokens map to reference ids, ASCII round-trips`, async () => {
    const tok = await loadTokenizer(fixtureSource(name));
    for (const [key, id] of Object.entries(specialIds(name))) {
      assert.deepEqual(tok.encode(`<|${key}|>`), [id], key);
      assert.equal(tok.tokenId(`<|${key}|>`), id, key);
    }
    const ids = specialIds(name);
    assert.deepEqual([tok.special.imStart, tok.special.imEnd, tok.special.endOfText, tok.special.eos], [ids.im_start, ids.im_end, ids.endoftext, ids.im_end]);
    assert.equal(typeof tok.special.thinkStart, 'number');
    assert.equal(tok.special.thinkEnd, tok.special.thinkStart! + 1);

    const encoded = tok.encode(ASCII);
    assert.ok(encoded.length > 0 && encoded.every((id) => id < ids.endoftext), 'ordinary text uses ordinary ids only');
    assert.equal(tok.decode(encoded), ASCII);

    const withSpecial = tok.encode(`<|im_start|>user\n${ASCII}<|im_end|>`);
    assert.equal(withSpecial[0], ids.im_start);
    assert.equal(withSpecial.at(-1), ids.im_end);
    assert.equal(tok.decode(withSpecial, { skipSpecialTokens: true }), `user\n${ASCII}`);
    assert.equal(tok.decode([]), '');
  });

  test(`${name}: rendered prompt tokenizes to ChatML with the template's generation prompt`, async () => {
    const source = fixtureSource(name);
    const tok = await loadTokenizer(source);
    const template = await loadChatTemplate(source, tok.config);
    const ids = specialIds(name);
    const messages: TemplateMessage[] = [{ role: 'user', content: 'What is 2 + 2?' }];
    const prompt = template.render(messages);
    const promptIds = tok.encode(prompt);
    assert.deepEqual(promptIds.slice(0, 1 + tok.encode('user\n').length), [ids.im_start, ...tok.encode('user\n')]);

    const header = '<|im_start|>assistant\n';
    const generation = isQwen35(name) ? `${header}<think>\n\n</think>\n\n` : header;
    assert.ok(prompt.endsWith(generation), JSON.stringify(prompt));
    const generationIds = tok.encode(generation);
    assert.deepEqual(promptIds.slice(-generationIds.length), generationIds);
    assert.equal(template.thinkingByDefault(), false);

    if (isQwen35(name)) {
      const head = [ids.im_start, ...tok.encode('assistant\n'), tok.special.thinkStart];
      assert.deepEqual(generationIds.slice(0, head.length), head);
      const thinking = template.render(messages, { enableThinking: true });
      assert.ok(thinking.endsWith(`${header}<think>\n`));
      assert.ok(promptEndsInThinking(thinking));
      assert.equal(template.render(messages, { enableThinking: false }), prompt);
    }

    const image = template.render([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:,' } }, { type: 'text', text: 'Describe.' }] }]);
    assert.ok(tok.encode(image).join().includes([ids.vision_start, ids.image_pad, ids.vision_end].join()));
    const video = template.render([{ role: 'user', content: [{ type: 'video', video: ['a.png', 'b.png'] }, { type: 'text', text: 'What happens?' }] }]);
    assert.ok(tok.encode(video).join().includes([ids.vision_start, ids.video_pad, ids.vision_end].join()));
  });
}

/** The published templates, with a fixture's tokenizer files. */
async function published(file: string) {
  const source = fixtureSource('qwen35-tiny-text', { 'chat_template.jinja': readFileSync(PUBLISHED + file, 'utf8') });
  const tok = await loadTokenizer(source);
  return { tok, template: await loadChatTemplate(source, tok.config) };
}

test('published templates: thinking default off for 0.8B/2B, on for 4B and larger', async () => {
  const user: TemplateMessage[] = [{ role: 'user', content: 'Hi' }];
  const closed = '<|im_start|>assistant\n<think>\n\n</think>\n\n';
  const open = '<|im_start|>assistant\n<think>\n';
  const small = (await published('chat_template.jinja')).template;
  const large = (await published('chat_template.thinking-default.jinja')).template;
  assert.equal(small.thinkingByDefault(), false);
  assert.equal(large.thinkingByDefault(), true);
  assert.ok(small.render(user).endsWith(closed));
  assert.ok(large.render(user).endsWith(open));
  for (const template of [small, large]) {
    assert.ok(template.render(user, { enableThinking: true }).endsWith(open));
    assert.ok(template.render(user, { enableThinking: false }).endsWith(closed));
  }
});

test('published template: reasoning is kept only for assistant turns after the last user query', async () => {
  const { template } = await published('chat_template.jinja');
  const conversation: TemplateMessage[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'First?' },
    { role: 'assistant', content: 'One.', reasoning_content: 'old reasoning' },
    { role: 'user', content: 'Second?' },
    { role: 'assistant', content: 'Two.', reasoning_content: '\nnew reasoning\n' },
  ];
  assert.equal(
    template.render(conversation, { addGenerationPrompt: false }),
    '<|im_start|>system\nBe brief.<|im_end|>\n' +
      '<|im_start|>user\nFirst?<|im_end|>\n<|im_start|>assistant\nOne.<|im_end|>\n' +
      '<|im_start|>user\nSecond?<|im_end|>\n<|im_start|>assistant\n<think>\nnew reasoning\n</think>\n\nTwo.<|im_end|>\n',
  );

  // Thinking written inline in the content is split off the same way.
  const inline = template.render([conversation[1], { role: 'assistant', content: '<think>\nhmm\n</think>\n\nOne.' }, conversation[3]]);
  assert.ok(inline.includes('<|im_start|>assistant\nOne.<|im_end|>') && !inline.includes('hmm'));

  // A tool result is not a user query: both assistant turns after "Weather?" keep their reasoning.
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const withTool = template.render(
    [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: '', reasoning_content: 'need a tool', tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
      { role: 'tool', content: 'sunny' },
      { role: 'assistant', content: 'Sunny.', reasoning_content: 'got it' },
    ],
    { tools, addGenerationPrompt: false },
  );
  assert.ok(withTool.startsWith('<|im_start|>system\n# Tools\n') && withTool.includes('"get_weather"'));
  assert.ok(withTool.includes('<think>\nneed a tool\n</think>\n\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call><|im_end|>\n'));
  assert.ok(withTool.includes('<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>\n'));
  assert.ok(withTool.endsWith('<|im_start|>assistant\n<think>\ngot it\n</think>\n\nSunny.<|im_end|>\n'));
});

test('chat template lookup: .jinja, then tokenizer_config.json (string or named list)', async () => {
  const jinja = readFileSync(`${FIXTURES}qwen35-tiny-text/chat_template.jinja`, 'utf8');
  const config = JSON.parse(readFileSync(`${FIXTURES}qwen35-tiny-text/tokenizer_config.json`, 'utf8'));
  const messages: TemplateMessage[] = [{ role: 'user', content: 'Hi' }];
  const expected = (await loadChatTemplate(fixtureSource('qwen35-tiny-text'))).render(messages);

  const inline = await loadChatTemplate(fixtureSource('qwen35-tiny-text', { 'chat_template.jinja': null }));
  assert.equal(inline.render(messages), expected);

  const named = { ...config, chat_template: [{ name: 'tool_use', template: 'wrong' }, { name: 'default', template: jinja }] };
  const list = await loadChatTemplate(fixtureSource('qwen35-tiny-text', { 'chat_template.jinja': null, 'tokenizer_config.json': JSON.stringify(named) }));
  assert.equal(list.render(messages), expected);

  const preferred = await loadChatTemplate(fixtureSource('qwen35-tiny-text', { 'chat_template.jinja': 'from jinja file' }));
  assert.equal(preferred.render(messages), 'from jinja file');

  const none = { ...config, chat_template: undefined };
  await assert.rejects(loadChatTemplate(fixtureSource('qwen35-tiny-text', { 'chat_template.jinja': null, 'tokenizer_config.json': JSON.stringify(none) })), TokenizerError);
  await assert.rejects(loadTokenizer(fixtureSource('qwen35-tiny-text', { 'tokenizer.json': null })), TokenizerError);
});

test('engine ChatMessage values render as they are', async () => {
  const { template } = await published('chat_template.jinja');
  const messages: ChatMessage[] = [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }];
  assert.ok(template.render(messages).startsWith('<|im_start|>user\nHi<|im_end|>\n'));
});

test('generation config: repo values, stop tokens, fallbacks', async () => {
  const qwen35 = await loadGenerationConfig(fixtureSource('qwen35-tiny-text'), [238]);
  assert.deepEqual(qwen35.eosTokenIds.sort(), [236, 238]);
  assert.deepEqual(qwen35.defaults, { temperature: 1, top_p: 0.95, top_k: 20, repetition_penalty: 1, presence_penalty: 0, do_sample: true });

  const vl = await loadGenerationConfig(fixtureSource('qwen3vl-tiny-image'));
  assert.deepEqual(vl.eosTokenIds.sort(), [219, 221]);
  assert.deepEqual(vl.defaults, { temperature: 0.7, top_p: 0.8, top_k: 20, repetition_penalty: 1, presence_penalty: 0, do_sample: true });

  // No generation_config.json: config.json's eos (text_config here) plus the tokenizer's, card defaults.
  const bare = await loadGenerationConfig(fixtureSource('qwen35-tiny-vl-image', { 'generation_config.json': null }), [238, undefined]);
  assert.deepEqual(bare.eosTokenIds.sort(), [236, 238]);
  assert.deepEqual(bare.defaults, { temperature: 0.7, top_p: 0.8, top_k: 20, repetition_penalty: 1, presence_penalty: 0, do_sample: true });

  const greedy = await loadGenerationConfig(fixtureSource('qwen35-tiny-text', { 'generation_config.json': JSON.stringify({ do_sample: false, temperature: 0.6, eos_token_id: 238 }) }));
  assert.equal(greedy.defaults.temperature, 0);
  assert.equal(greedy.defaults.do_sample, false);
  assert.deepEqual(greedy.eosTokenIds.sort(), [236, 238]);
});
