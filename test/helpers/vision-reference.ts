// The greedy answer a multimodal fixture gives to chat messages, computed without the engine: the
// fixture's template and tokenizer, our preprocessing (src/vision), then the plain-TypeScript CPU
// vision tower and decoder (src/reference), DeepStack included. Used by the engine and e2e tests.
import type { ChatMessage, ContentPart } from '../../src/api.ts';
import { loadChatTemplate, promptEndsInThinking } from '../../src/chat/chat-template.ts';
import { loadGenerationConfig } from '../../src/chat/generation-config.ts';
import { ThinkingSplitter } from '../../src/chat/thinking.ts';
import { loadTokenizer } from '../../src/chat/tokenizer.ts';
import { ReferenceVisionTower } from '../../src/reference/vision-model.ts';
import { patchify } from '../../src/reference/vision-ops.ts';
import { decodeImagePart, decodeVideoPart, templateMessages } from '../../src/vision/inputs.ts';
import { promptPlacement } from '../../src/vision/positions.ts';
import { prepareVisuals } from '../../src/vision/preprocess.ts';
import { loadProcessorConfigs } from '../../src/vision/processor-config.ts';
import { expandVisionPlaceholders } from '../../src/vision/prompt.ts';
import { NodeDirSource } from '../../scripts/node-file-source.ts';
import { FIXTURES, loadFixture, openSafetensors } from './fixtures.ts';

export interface VisionGreedy {
  prompt: string;
  /** Generated ids up to (not including) an end-of-turn id, at most maxTokens. */
  ids: number[];
  answer: string;
  thinking: string;
}

export async function visionGreedy(name: string, messages: ChatMessage[], options: { maxTokens: number; enableThinking?: boolean; fixtures?: URL }): Promise<VisionGreedy> {
  const dir = new URL(`${name}/`, options.fixtures ?? FIXTURES);
  const source = new NodeDirSource(dir.pathname);
  const fixture = await loadFixture(name);
  const c = fixture.config;
  const v = c.vision!;
  const tokenizer = await loadTokenizer(source);
  const template = await loadChatTemplate(source, tokenizer.config);
  const stop = new Set((await loadGenerationConfig(source, [tokenizer.special.eos])).eosTokenIds);
  const processors = await loadProcessorConfigs(source, v);
  const parts = messages.flatMap((m) => (typeof m.content === 'string' ? [] : m.content));
  const of = <T extends ContentPart['type']>(...types: T[]) => parts.filter((p): p is Extract<ContentPart, { type: T }> => (types as string[]).includes(p.type));
  const sources = [
    ...(await Promise.all(of('image', 'image_url').map((p, i) => decodeImagePart(p, i)))),
    ...(await Promise.all(of('video').map((p, i) => decodeVideoPart(p, i, processors.video)))),
  ];
  const prepared = prepareVisuals(sources, processors);
  const images = prepared.filter((p) => p.kind === 'image');
  const videos = prepared.filter((p) => p.kind === 'video');
  const prompt = expandVisionPlaceholders(template.render(templateMessages(messages), { enableThinking: options.enableThinking }), images, videos);
  const ids = Int32Array.from(tokenizer.encode(prompt));
  const { positions, imageRows, videoRows, ropeDelta } = promptPlacement(ids, c, images, videos, v.spatialMergeSize);

  const weights = await openSafetensors(dir, 'model.safetensors');
  const tower = new ReferenceVisionTower(v, (n) => weights.f32(n));
  const H = c.hiddenSize;
  const outputs = [...images, ...videos].map((item) => {
    const { pixels } = patchify(item.frames, item.frameCount, item.height, item.width, v.patchSize, v.temporalPatchSize, v.spatialMergeSize, item.normalization);
    return tower.forward(pixels, [item.grid]);
  });
  // Image tokens first, then video tokens, each onto its placeholder rows in order.
  const rows = Int32Array.from([...imageRows, ...videoRows]);
  const model = fixture.create();
  const embeds = model.forward(ids, positions).embeddings;
  model.reset();
  const visual = concat(outputs.map((o) => o.embeddings));
  rows.forEach((row, i) => embeds.set(visual.subarray(i * H, (i + 1) * H), row * H));
  const levels = c.deepstackVisualIndexes.length;
  const deepstack = levels && rows.length ? { rows, levels, features: concat(Array.from({ length: levels }, (_, k) => concat(outputs.map((o) => o.deepstack[k])))) } : undefined;
  let logits = model.forward(ids, positions, embeds, deepstack).logits;
  const out: number[] = [];
  const V = c.vocabSize;
  while (out.length < options.maxTokens) {
    const row = logits.subarray(logits.length - V);
    let next = 0;
    for (let i = 1; i < V; i++) if (row[i] > row[next]) next = i;
    if (stop.has(next)) break;
    out.push(next);
    const p = ids.length + out.length - 1 + ropeDelta;
    logits = model.forward(Int32Array.of(next), Int32Array.of(p, p, p)).logits;
  }
  const splitter = new ThinkingSplitter(tokenizer, { startInThinking: promptEndsInThinking(prompt), thinkStartId: tokenizer.special.thinkStart, thinkEndId: tokenizer.special.thinkEnd });
  const chunks = [...out.flatMap((id) => splitter.push(id)), ...splitter.flush()];
  const text = (channel: string) => chunks.filter((ch) => ch.channel === channel).map((ch) => ch.text).join('');
  return { prompt, ids: out, answer: text('answer'), thinking: text('thinking') };
}

function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  arrays.reduce((at, a) => (out.set(a, at), at + a.length), 0);
  return out;
}
