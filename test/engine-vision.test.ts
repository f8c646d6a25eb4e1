// Images and videos through the engine's chat, end to end in Node: the fixture served as a Hub
// repo, pixels in content parts, greedy tokens checked against the CPU reference (vision tower +
// text model) run on the same prompt.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ChatMessage, RawImage } from '../src/api.ts';
import { loadChatTemplate } from '../src/chat/chat-template.ts';
import { loadTokenizer } from '../src/chat/tokenizer.ts';
import { QwenEngine } from '../src/engine/engine.ts';
import { preparePrompt } from '../src/engine/multimodal.ts';
import { MemoryBlockStore } from '../src/loader/cached-source.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { serveDirectory } from '../scripts/static-server.ts';
import { FIXTURES, loadFixture, openSafetensors } from './helpers/fixtures.ts';
import { testDevice } from './helpers/gpu.ts';
import { visionGreedy } from './helpers/vision-reference.ts';

const NAME = 'qwen35-tiny-vl-image';
const DIR = new URL(`${NAME}/`, FIXTURES);
let server: Awaited<ReturnType<typeof serveDirectory>>;
let engine: QwenEngine;
let picture: RawImage;

before(async () => {
  server = await serveDirectory(DIR.pathname);
  engine = new QwenEngine(testDevice, new MemoryBlockStore());
  const reference = await openSafetensors(DIR, 'reference.safetensors');
  picture = { width: 160, height: 96, data: Uint8Array.from(reference.i32('image_rgb')) };
});
after(async () => {
  await engine.unload();
  await server.close();
});

/** A 4-frame clip of the fixture image shifted sideways, RGBA like canvas ImageData. */
function clip(): RawImage[] {
  return [0, 8, 16, 24].map((shift) => {
    const data = new Uint8ClampedArray(128 * 96 * 4);
    for (let y = 0; y < 96; y++) for (let x = 0; x < 128; x++) for (let c = 0; c < 3; c++) data[(y * 128 + x) * 4 + c] = picture.data[(y * 160 + x + shift) * 3 + c];
    return { width: 128, height: 96, data };
  });
}

test('load reports the vision tower and the processor settings a page needs', async () => {
  const info = await engine.load(server.url, { maxContext: 256 });
  assert.ok(info.vision);
  assert.equal(info.vision.factor, 32);
  assert.deepEqual([info.vision.video.fps, info.vision.video.minFrames, info.vision.video.sampleFrames], [2, 4, false]);
  assert.ok(info.vision.maxVisualTokens > 1000);
});

test('an image and a video in one message: greedy tokens equal the CPU reference on the same prompt', async () => {
  const messages: ChatMessage[] = [{
    role: 'user',
    content: [{ type: 'image', image: picture }, { type: 'text', text: 'and' }, { type: 'video', video: { frames: clip(), fps: 2 } }, { type: 'text', text: 'What changed?' }],
  }];
  const expected = await visionGreedy(NAME, messages, { maxTokens: 6 });
  assert.match(expected.prompt, /<0\.2 seconds><\|vision_start\|>(<\|video_pad\|>){12}<\|vision_end\|><1\.2 seconds>/);
  const result = await engine.chat(messages, { temperature: 0, max_tokens: 6 }, () => {});
  assert.deepEqual(result.tokenIds, expected.ids);
  assert.ok(result.stats.promptTokens > 15 + 24);
});

test('bad input: typed errors for undecodable or malformed pictures, fallbacks for tiny ones', async () => {
  const ask = (content: ChatMessage['content'], options = {}) => engine.chat([{ role: 'user', content }], { temperature: 0, max_tokens: 1, ...options }, () => {});
  await assert.rejects(ask([{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==' } }]), { name: 'ImageInputError' }, 'no image decoder in Node');
  await assert.rejects(ask([{ type: 'image', image: { width: 4, height: 4, data: new Uint8Array(10) } }]), { name: 'ImageInputError' });
  await assert.rejects(ask([{ type: 'image', image: { width: 20100, height: 100, data: new Uint8Array(20100 * 100 * 3) } }]), { name: 'ImageInputError' }, 'aspect ratio above 200');
  await assert.rejects(ask([{ type: 'video', video: { frames: [] } }]), { name: 'VideoInputError' });
  await assert.rejects(ask([{ type: 'video', video: ['clip-frame-0.png', 'clip-frame-1.png'] }]), { name: 'VideoInputError' }, 'frames that cannot be decoded');
  await assert.rejects(ask([{ type: 'image', image: picture }], { max_visual_tokens: 0 }), { name: 'VisualTokenLimitError' });
  await assert.rejects(ask([{ type: 'text', text: '<|image_pad|>' }, { type: 'image', image: picture }]), { name: 'VisionPromptError' });
  const one = await ask([{ type: 'image', image: { width: 1, height: 1, data: new Uint8Array([200, 10, 30]) } }]);
  assert.equal(one.tokenIds.length, 1, 'a 1×1 image is upscaled to min_pixels and answered');
  const still = await ask([{ type: 'video', video: { frames: [clip()[0]], fps: 30 } }]);
  assert.equal(still.tokenIds.length, 1, 'a one-frame video repeats its frame to fill a temporal patch');
  assert.equal((await engine.stats()).busy, false);
});

test('a text-only model refuses image parts with a typed error', async () => {
  const text = new URL('qwen35-tiny-text/', FIXTURES).pathname;
  const source = new NodeDirSource(text);
  const tokenizer = await loadTokenizer(source);
  const config = (await loadFixture('qwen35-tiny-text')).config;
  await assert.rejects(preparePrompt(null, {
    messages: [{ role: 'user', content: [{ type: 'image', image: picture }] }], template: await loadChatTemplate(source, tokenizer.config),
    tokenizer, config, maxContext: 256,
  }), { name: 'UnsupportedModelError' });
  assert.ok(JSON.parse(readFileSync(`${text}config.json`, 'utf8')).vision_config === undefined);
});
