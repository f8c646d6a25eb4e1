// The decoder's visual input (the hook the vision tower plugs into): embeddings placed at the
// placeholder rows and DeepStack levels added after the first layers, across prefill chunks, for
// images and videos in one prompt, then decode continuing from the M-RoPE offset; and its checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readF32 } from '../src/gpu/buffers.ts';
import { GREEDY } from '../src/kernels/sample.ts';
import { Qwen35Model } from '../src/model/qwen35.ts';
import { placeholderRows, type VisualSegment } from '../src/model/visual-input.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { FIXTURES, loadFixture } from './helpers/fixtures.ts';
import { maxAbsDiff, seededValues, testDevice, upload } from './helpers/gpu.ts';

const source = (name: string) => new NodeDirSource(new URL(`${name}/`, FIXTURES).pathname);

async function load(name: string, prefillChunk: number) {
  const model = await Qwen35Model.load(await testDevice(), source(name), { storage: 'f32', maxContext: 80, prefillChunk });
  model.configureSampling(GREEDY);
  return model;
}

/** The fixture's image rows with their reference embeddings and DeepStack features, uploaded. */
async function referenceImage(model: Qwen35Model) {
  const { reference } = await loadFixture('qwen3vl-tiny-image');
  const H = model.config.hiddenSize;
  const ids = reference.i32('input_ids');
  const rows = placeholderRows(ids, model.config.imageTokenId);
  const embeddings = reference.f32('embeddings');
  const picked = new Float32Array(rows.length * H);
  rows.forEach((row, i) => picked.set(embeddings.subarray(row * H, (row + 1) * H), i * H));
  const segment: VisualSegment = { rows, embeddings: upload(model.ctx, picked), deepstack: upload(model.ctx, reference.f32('image_deepstack_features')) };
  return { reference, ids, segment };
}

test('image rows and DeepStack across prefill chunks equal one chunk and the reference; decode continues after them', async () => {
  const V = 512;
  const results: Float32Array[] = [];
  // Chunks of 5 tokens split the 6 image rows (4..9) over two programs; most chunks have none.
  for (const chunk of [64, 5]) {
    const model = await load('qwen3vl-tiny-image', chunk);
    const { reference, ids, segment } = await referenceImage(model);
    const T = ids.length;
    assert.ok(Math.floor(segment.rows[0] / 5) !== Math.floor(segment.rows[segment.rows.length - 1] / 5), 'the image spans chunks');
    const first = await model.prefill(ids, { positions: reference.i32('position_ids'), visual: [segment] });
    const generated = reference.i32('generated_ids');
    assert.equal(first, generated[0]);
    const last = await readF32(model.ctx.device, model.logitsBuffer);
    assert.ok(maxAbsDiff(last, reference.f32('logits').subarray((T - 1) * V)) < 2e-3, `chunk ${chunk}: prompt logits`);
    results.push(last);
    // Decode positions continue from max(position_ids) + 1, not from the token count.
    assert.equal(await model.decodeOne(generated[0]), generated[1]);
    assert.ok(maxAbsDiff(await readF32(model.ctx.device, model.logitsBuffer), reference.f32('decode_logits').subarray(0, V)) < 2e-3, `chunk ${chunk}: decode`);
    model.destroy();
  }
  assert.ok(maxAbsDiff(results[0], results[1]) < 1e-4, 'chunked = one chunk');
});

test('images and videos in one prompt, rows in any order: the GPU equals the CPU reference', async () => {
  const name = 'qwen3vl-tiny-fp8';
  const { config, create } = await loadFixture(name);
  const { hiddenSize: H, vocabSize: V } = config;
  const levels = config.deepstackVisualIndexes.length;
  const img = config.imageTokenId!;
  const vid = config.videoTokenId!;
  // text, 3 video rows, text, 4 image rows, text, 2 video rows: videos come before the image.
  const ids = Int32Array.from([5, 9, 17, vid, vid, vid, 40, img, img, img, img, 77, 3, vid, vid, 101, 12]);
  const T = ids.length;
  const positions = Int32Array.from({ length: 3 * T }, (_, i) => (i % T) + 2 * Math.floor(i / T) * (i % 3));
  const imageRows = placeholderRows(ids, img);
  const videoRows = placeholderRows(ids, vid);
  const imageEmb = seededValues(imageRows.length * H, 1);
  const videoEmb = seededValues(videoRows.length * H, 2);
  const imageDs = seededValues(levels * imageRows.length * H, 3, 0.5);
  const videoDs = seededValues(levels * videoRows.length * H, 4, 0.5);

  // CPU: the token embeddings with the visual rows written in, DeepStack rows joined per level.
  const inputs = create().forward(ids).embeddings;
  imageRows.forEach((row, i) => inputs.set(imageEmb.subarray(i * H, (i + 1) * H), row * H));
  videoRows.forEach((row, i) => inputs.set(videoEmb.subarray(i * H, (i + 1) * H), row * H));
  const N = imageRows.length + videoRows.length;
  const joined = new Float32Array(levels * N * H);
  for (let k = 0; k < levels; k++) {
    joined.set(imageDs.subarray(k * imageRows.length * H, (k + 1) * imageRows.length * H), k * N * H);
    joined.set(videoDs.subarray(k * videoRows.length * H, (k + 1) * videoRows.length * H), (k * N + imageRows.length) * H);
  }
  const want = create().forward(ids, positions, inputs, { rows: Int32Array.from([...imageRows, ...videoRows]), features: joined, levels }).logits;

  // The video segment lists its rows back to front, with its features in the same order.
  const reversed = Int32Array.from(videoRows).reverse();
  const flip = (values: Float32Array, rows: number, blocks: number) => {
    const out = new Float32Array(values.length);
    for (let b = 0; b < blocks; b++) for (let r = 0; r < rows; r++) out.set(values.subarray((b * rows + r) * H, (b * rows + r + 1) * H), (b * rows + rows - 1 - r) * H);
    return out;
  };
  const whole = await load(name, 32);
  const logits = whole.ctx.pool.storage('test.logits', T * V * 4);
  await whole.prefill(ids, {
    positions, allLogits: logits,
    visual: [
      { rows: reversed, embeddings: upload(whole.ctx, flip(videoEmb, videoRows.length, 1)), deepstack: upload(whole.ctx, flip(videoDs, videoRows.length, levels)) },
      { rows: imageRows, embeddings: upload(whole.ctx, imageEmb), deepstack: upload(whole.ctx, imageDs) },
    ],
  });
  const d = maxAbsDiff(await readF32(whole.ctx.device, logits), want);
  assert.ok(d < 2e-3, `logits differ by ${d}`);
  whole.destroy();
});

test('visual input is checked against the prompt and the model', async () => {
  const model = await load('qwen3vl-tiny-image', 64);
  const { reference, ids, segment } = await referenceImage(model);
  const positions = reference.i32('position_ids');
  const bad = async (visual: VisualSegment[], pattern: RegExp) => assert.rejects(model.prefill(ids, { positions, visual }), (e: unknown) => e instanceof RangeError && pattern.test(e.message));
  await bad([{ ...segment, rows: Int32Array.from(segment.rows, (r, i) => (i === 0 ? ids.length : r)) }], /outside the 36-token prompt/);
  await bad([{ ...segment, rows: Int32Array.from(segment.rows, (r) => r - 1) }], /not an image or video placeholder/);
  await bad([segment, segment], /given twice/);
  await bad([{ ...segment, deepstack: undefined }], /3 DeepStack levels, but none/);
  await bad([{ ...segment, embeddings: upload(model.ctx, new Float32Array(8)) }], /\[6, 64\] f32 needs 1536/);
  assert.equal(model.position, 0, 'a refused prefill runs nothing');
  model.destroy();
});
