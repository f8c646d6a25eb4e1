// The vision tower as a whole on the GPU: the fixtures' own pixel values through every block, the
// fit estimate of its weights, and a failed load that frees what it made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openCheckpoint } from '../src/loader/checkpoint.ts';
import { Fields, parseQwen35Config } from '../src/loader/config.ts';
import { parseVisionConfig } from '../src/loader/vision-config.ts';
import { CheckpointError } from '../src/loader/errors.ts';
import { MemorySource } from '../src/loader/file-source.ts';
import { readSafetensorsHeader } from '../src/loader/safetensors.ts';
import { estimateRequiredBytes } from '../src/model/fit.ts';
import { VisionTower } from '../src/model/vision.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { prepareVisuals, type VisualSource } from '../src/vision/preprocess.ts';
import { loadProcessorConfigs } from '../src/vision/processor-config.ts';
import { FIXTURES, openSafetensors } from './helpers/fixtures.ts';
import { readF32, testContext } from './helpers/gpu.ts';
import { packTensors } from './helpers/safetensors.ts';

const NAME = 'qwen35-tiny-vl-video';
const DIR = new URL(`${NAME}/`, FIXTURES);
const config = parseQwen35Config(JSON.parse(readFileSync(new URL('config.json', DIR), 'utf8')));

test('the tower reproduces every vision tensor of the fixture; the fit estimate counts its weights exactly', async () => {
  const ctx = await testContext('f16');
  const checkpoint = await openCheckpoint(new NodeDirSource(DIR.pathname));
  const tower = await VisionTower.load(ctx, checkpoint, config.vision!);
  const options = { maxContext: 64, prefillChunk: 16, storage: 'f16' as const };
  assert.equal(estimateRequiredBytes(config, checkpoint, { ...options, vision: true }).weights - estimateRequiredBytes(config, checkpoint, options).weights, tower.weightBytes);
  const ref = await openSafetensors(DIR, 'reference.safetensors');
  const [t, h, w] = ref.i32('video_grid_thw');
  const frames = Uint8Array.from(ref.i32('video_rgb'));
  const run = await tower.run([{ frames, frameCount: 4, width: w * 16, height: h * 16, grid: { t, h, w }, normalization: { scale: 1, mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] } }], { capture: true });
  const rel = async (buffer: GPUBuffer, name: string) => {
    const expected = ref.f32(name);
    const got = await readF32(ctx.device, buffer);
    let max = 0;
    let scale = 0;
    expected.forEach((v, i) => {
      max = Math.max(max, Math.abs(v - got[i]));
      scale = Math.max(scale, Math.abs(v));
    });
    return max / scale;
  };
  assert.ok(await rel(run.capture!.pixels, 'pixel_values_videos') < 1e-6);
  assert.ok(await rel(run.capture!.input, 'video_vision_input') < 5e-5);
  assert.ok(await rel(run.capture!.blockOutputs, 'video_vision_block_outputs') < 5e-5);
  assert.ok(await rel(run.embeddings, 'video_embeddings') < 5e-5);
  assert.equal(run.tokens, 24);
  const before = ctx.pool.allocatedBytes;
  run.destroy();
  assert.ok(ctx.pool.allocatedBytes < before, 'a run frees its activations');
  tower.destroy();
  assert.equal(ctx.pool.allocatedBytes, 0);
});

test('resizing on the GPU gives the pixel values of the CPU path, bit for bit', async () => {
  const ctx = await testContext('f16');
  const tower = await VisionTower.load(ctx, await openCheckpoint(new NodeDirSource(DIR.pathname)), config.vision!);
  const processors = await loadProcessorConfigs(new NodeDirSource(DIR.pathname), config.vision!);
  const picture = (w: number, h: number) => ({ width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 2654435761) >>> 24) });
  const sources: VisualSource[] = [
    { kind: 'image', image: picture(150, 100) },
    { kind: 'video', frames: [picture(70, 45), picture(70, 45), picture(70, 45)], frameTimes: [0, 0.5, 1] },
  ];
  const pixels: Float32Array[] = [];
  for (const resizeOnGpu of [() => false, () => true]) {
    const items = prepareVisuals(sources, processors, { resizeOnGpu });
    assert.equal(items.every((item) => item.resize !== undefined), resizeOnGpu(), 'every item needs resizing');
    const run = await tower.run(items, { capture: true });
    pixels.push(await readF32(ctx.device, run.capture!.pixels));
    run.destroy();
  }
  assert.deepEqual(pixels[1], pixels[0]);
  tower.destroy();
});

test('the same tower with DeepStack mergers (Qwen3-VL config) reproduces its embeddings and DeepStack rows', async () => {
  const dir = new URL('qwen3vl-tiny-image/', FIXTURES);
  const json = JSON.parse(readFileSync(new URL('config.json', dir), 'utf8'));
  const v = parseVisionConfig(new Fields('config.json', json.vision_config, 'vision_config.'), json.text_config.hidden_size)!;
  assert.deepEqual(v.deepstackVisualIndexes, [1, 2, 3]);
  const ctx = await testContext('f16');
  const source = new NodeDirSource(dir.pathname);
  const tower = await VisionTower.load(ctx, await openCheckpoint(source), v);
  const ref = await openSafetensors(dir, 'reference.safetensors');
  const [h, w] = [64, 96];
  const [item] = prepareVisuals([{ kind: 'image', image: { width: w, height: h, data: Uint8Array.from(ref.i32('image_rgb')) } }], await loadProcessorConfigs(source, v));
  const run = await tower.run([item]);
  const rel = async (buffer: GPUBuffer, name: string) => {
    const expected = ref.f32(name);
    const got = await readF32(ctx.device, buffer);
    return expected.reduce((m, x, i) => Math.max(m, Math.abs(x - got[i])), 0) / expected.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  };
  assert.ok(await rel(run.embeddings, 'image_embeddings') < 5e-5);
  assert.ok(await rel(run.deepstack!, 'image_deepstack_features') < 5e-5);
  run.destroy();
  tower.destroy();
});

test('a load that fails midway (a bias of the wrong dtype) frees every buffer it made', async () => {
  const ctx = await testContext('f16');
  const file = new Uint8Array(readFileSync(new URL('model.safetensors', DIR)));
  const header = await readSafetensorsHeader(new MemorySource(new Map([['model.safetensors', file]])), 'model.safetensors');
  const tensors: Record<string, { dtype: string; shape: number[]; data: Uint8Array }> = {};
  for (const [name, info] of header.tensors) {
    const broken = name === 'model.visual.merger.linear_fc2.bias';
    tensors[name] = { dtype: broken ? 'I16' : info.dtype, shape: info.shape, data: file.slice(info.begin, info.end) };
  }
  const checkpoint = await openCheckpoint(new MemorySource(new Map([['model.safetensors', packTensors(tensors)]])));
  await assert.rejects(VisionTower.load(ctx, checkpoint, config.vision!), CheckpointError);
  assert.equal(ctx.pool.allocatedBytes, 0);
});
