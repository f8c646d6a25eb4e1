// Image and video preprocessing against the Python processors' rules: smart_resize, Pillow-exact
// resampling, frame sampling, timestamps, processor defaults, placeholder expansion, positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseQwen35Config } from '../src/loader/config.ts';
import { ConfigError, UnsupportedModelError } from '../src/loader/errors.ts';
import type { VisionConfig } from '../src/loader/vision-config.ts';
import { ImageInputError, VideoInputError, VisionPromptError, VisualTokenLimitError } from '../src/vision/errors.ts';
import { selectFrames } from '../src/vision/inputs.ts';
import { multimodalPositions, tokenTypes } from '../src/vision/positions.ts';
import { normalizationFor, prepareVisuals, type ProcessorConfigs } from '../src/vision/preprocess.ts';
import { parseImageProcessorConfig, parseVideoProcessorConfig } from '../src/vision/processor-config.ts';
import { expandVisionPlaceholders } from '../src/vision/prompt.ts';
import { resizeRgb } from '../src/vision/resize.ts';
import { roundHalfEven, smartResize, smartResizeVideo } from '../src/vision/smart-resize.ts';
import { linspace, sampleFrameIndices, temporalPatchTimes, timestampText } from '../src/vision/video-sampling.ts';
import { FIXTURES, openSafetensors } from './helpers/fixtures.ts';

const fixtureConfig = (name: string) => parseQwen35Config(JSON.parse(readFileSync(new URL(`${name}/config.json`, FIXTURES), 'utf8')));
const vision = fixtureConfig('qwen35-tiny-vl-image').vision as VisionConfig;
const PUBLISHED = new URL('../../shared/qwen35-tokenizer/', import.meta.url);
const published = (file: string) => JSON.parse(readFileSync(new URL(file, PUBLISHED), 'utf8'));
const configs: ProcessorConfigs = {
  image: parseImageProcessorConfig(published('preprocessor_config.json'), vision),
  video: parseVideoProcessorConfig(published('video_preprocessor_config.json'), vision),
};

/** A deterministic test picture; the Pillow goldens below were made from the same formula. */
function pattern(h: number, w: number) {
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = ((y * 131 + x * 71 + c * 29) ^ (y * x)) & 255;
  return { width: w, height: h, data };
}

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

test('resampling is bit-exact with Pillow (9.4, Image.resize) for bicubic and bilinear, down, up and mixed', () => {
  // From Python: Image.frombytes('RGB', (w, h), pattern).resize((W, H), resample=...).tobytes(), FNV-1a.
  const goldens: [number, number, number, number, 'bicubic' | 'bilinear', number][] = [
    [37, 53, 32, 64, 'bicubic', 0xd7b8cae4], [37, 53, 32, 64, 'bilinear', 0xe5675743],
    [100, 300, 64, 96, 'bicubic', 0xfb5d3821], [100, 300, 64, 96, 'bilinear', 0xb3826088],
    [17, 9, 96, 32, 'bicubic', 0x891750e3], [17, 9, 96, 32, 'bilinear', 0x1f5c9b9c],
    [1000, 31, 992, 32, 'bicubic', 0xf4cdb2b4], [1000, 31, 992, 32, 'bilinear', 0xb1cf4dad],
    [1, 1, 32, 32, 'bicubic', 0x721689c5],
  ];
  for (const [h, w, H, W, filter, hash] of goldens) {
    const out = resizeRgb(pattern(h, w), W, H, filter, 'pil');
    assert.equal(fnv1a(out.data), hash, `${h}x${w} -> ${H}x${W} ${filter}`);
  }
  const small = resizeRgb(pattern(4, 5), 7, 3, 'bicubic', 'pil');
  assert.deepEqual(Array.from(small.data.subarray(0, 12)), [39, 65, 98, 80, 109, 89, 112, 140, 111, 104, 132, 161]);
});

test("torchvision's integer weights differ from Pillow's only in rounding: within one level, same size returns the input", () => {
  const image = pattern(37, 53);
  assert.equal(resizeRgb(image, 53, 37, 'bicubic', 'torch'), image);
  const pil = resizeRgb(image, 64, 32, 'bicubic', 'pil').data;
  const torch = resizeRgb(image, 64, 32, 'bicubic', 'torch').data;
  assert.ok(pil.every((v, i) => Math.abs(v - torch[i]) <= 1));
  const flat = { width: 9, height: 7, data: new Uint8Array(9 * 7 * 3).fill(77) };
  assert.ok(resizeRgb(flat, 40, 33, 'bicubic', 'torch').data.every((v) => v === 77), 'normalised weights keep a flat picture flat');
});

test('smart_resize rounds halves to even, scales into [min, max] pixels, and bounds the aspect ratio', () => {
  assert.deepEqual([2.5, 3.5, 0.5, 6.5, 2.4999, 7].map(roundHalfEven), [2, 4, 0, 6, 2, 7]);
  // Python: smart_resize(h, w, factor=32, min_pixels, max_pixels).
  assert.deepEqual(smartResize(80, 208, 32, 1024, 16777216), [64, 192], 'grid 4×12, not transformers.js 6×14');
  assert.deepEqual(smartResize(80, 208, 32, 65536, 16777216), [160, 416]);
  assert.deepEqual(smartResize(720, 1280, 32, 65536, 16777216), [704, 1280]);
  assert.deepEqual(smartResize(6000, 8000, 32, 65536, 16777216), [3520, 4704]);
  assert.deepEqual(smartResize(1, 1, 32, 65536, 16777216), [256, 256], 'a 1×1 image is upscaled to the minimum, as in Python');
  assert.deepEqual(smartResize(100, 20000, 32, 65536, 16777216), [96, 20000], '20000×100 is exactly 200:1, which Python accepts');
  assert.throws(() => smartResize(100, 20100, 32, 65536, 16777216), ImageInputError);
  assert.deepEqual(smartResizeVideo(4, 96, 128, 2, 32, 1024, 25165824), [96, 128]);
  assert.deepEqual(smartResizeVideo(4, 20, 40, 2, 32, 4096, 25165824), [32, 64], 'sides below the factor are scaled up first');
  assert.throws(() => smartResizeVideo(1, 96, 128, 2, 32, 1024, 25165824), VideoInputError);
});

test('frame sampling, timestamps and their text follow numpy and Python formatting', () => {
  assert.deepEqual(linspace(0, 9, 4), [0, 3, 6, 9]);
  const video = { ...configs.video, fps: 2, minFrames: 4, maxFrames: 768 };
  assert.deepEqual(sampleFrameIndices(6, 24, video), [0, 2, 3, 5], 'linspace(0, 5, 4).round(): 1.67 → 2, 3.33 → 3');
  assert.deepEqual(sampleFrameIndices(4, 24, { ...video, minFrames: 3 }), [0, 2, 3], '1.5 rounds to 2 (half to even)');
  assert.deepEqual(sampleFrameIndices(13, 1, { ...video, maxFrames: 8 }), [0, 2, 3, 5, 7, 9, 10, 12], 'max_frames caps the 26 frames 13 s at 2 fps want');
  assert.deepEqual(sampleFrameIndices(2, 24, video), [0, 1], 'never more frames than the clip has');
  assert.deepEqual(temporalPatchTimes([0, 0.5, 1, 1.5, 2], 2), [0.25, 1.25, 2]);
  const blank = (n: number) => Array.from({ length: n }, () => ({ width: 1, height: 1, data: new Uint8Array(3) }));
  assert.deepEqual(selectFrames({ frames: blank(48), fps: 24 }, video), { indices: [0, 16, 31, 47], times: [0, 16 / 24, 31 / 24, 47 / 24] });
  assert.deepEqual(selectFrames({ frames: blank(5) }, video).indices, [0, 1, 3, 4], 'no fps: 24 is assumed, as transformers does');
  // What browser-capture produces (frames at the processor's rate, with times) is kept as is.
  const times = linspace(0, 9.999, 20);
  assert.deepEqual(selectFrames({ frames: blank(20), timestamps: times }, video), { indices: times.map((_, i) => i), times });
  assert.throws(() => selectFrames({ frames: blank(3), timestamps: [0, 2, 1] }, video), VideoInputError);
  assert.throws(() => selectFrames({ frames: blank(3), fps: -1 }, video), VideoInputError);
  assert.deepEqual([0.25, 0.75, 1.25, 0.05, 0.35, 2.45, 1 / 3, 12].map(timestampText), [
    '<0.2 seconds>', '<0.8 seconds>', '<1.2 seconds>', '<0.1 seconds>', '<0.3 seconds>', '<2.5 seconds>', '<0.3 seconds>', '<12.0 seconds>',
  ]);
});

test('processor configs: the published files take the Python defaults; bad values are typed errors', () => {
  assert.equal(configs.image.doNormalize, true);
  assert.equal(configs.image.doRescale, true);
  assert.equal(configs.image.resample, 'bicubic');
  assert.deepEqual([configs.image.minPixels, configs.image.maxPixels], [65536, 16777216]);
  assert.deepEqual([configs.video.fps, configs.video.minFrames, configs.video.maxFrames, configs.video.doSampleFrames], [2, 4, 768, true]);
  assert.deepEqual(normalizationFor(configs.image), { scale: 1, mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] });
  assert.deepEqual(normalizationFor({ ...configs.image, doNormalize: false }), { scale: Math.fround(1 / 255), mean: [0, 0, 0], std: [1, 1, 1] });
  const empty = parseImageProcessorConfig({}, vision);
  assert.deepEqual(empty.imageMean, [0.48145466, 0.4578275, 0.40821073], 'Qwen2VLImageProcessor defaults to the CLIP mean');
  assert.equal(empty.patchSize, 16, "a missing patch_size is the tower's own");
  assert.throws(() => parseImageProcessorConfig({ patch_size: 14 }, vision), ConfigError);
  assert.throws(() => parseImageProcessorConfig({ size: { shortest_edge: 5000, longest_edge: 100 } }, vision), ConfigError);
  assert.throws(() => parseImageProcessorConfig({ image_std: [0.5, 0, 0.5] }, vision), ConfigError);
  assert.throws(() => parseImageProcessorConfig({ resample: 1 }, vision), UnsupportedModelError);
  assert.throws(() => parseVideoProcessorConfig({ min_frames: 10, max_frames: 4 }, vision), ConfigError);
});

test('vision_config parsing: the MoE form, defaults, and typed errors for towers that cannot run', () => {
  const moe = fixtureConfig('qwen35-tiny-moe').vision!;
  assert.deepEqual([moe.depth, moe.hiddenSize, moe.numHeads, moe.headDim, moe.gridPerSide, moe.outHiddenSize, moe.hiddenAct], [1, 32, 2, 16, 4, 64, 'gelu_tanh']);
  assert.equal(fixtureConfig('qwen35-tiny-text').vision, null);
  const base = JSON.parse(readFileSync(new URL('qwen35-tiny-vl-image/config.json', FIXTURES), 'utf8'));
  const withVision = (v: Record<string, unknown>) => parseQwen35Config({ ...base, vision_config: { ...base.vision_config, ...v } });
  assert.throws(() => withVision({ out_hidden_size: 48 }), ConfigError);
  assert.throws(() => withVision({ num_position_embeddings: 60 }), ConfigError);
  assert.throws(() => withVision({ num_heads: 8 }), ConfigError, 'head dim 6 is not a multiple of 4');
  assert.throws(() => withVision({ hidden_act: 'relu' }), UnsupportedModelError);
  assert.throws(() => withVision({ rope_parameters: { rope_type: 'default', rope_theta: 10000 } }), ConfigError);
  assert.deepEqual(withVision({ deepstack_visual_indexes: [0, 1] }).vision!.deepstackVisualIndexes, [0, 1]);
  assert.throws(() => withVision({ deepstack_visual_indexes: [2] }), ConfigError);
});

test('sizing: a visual-token cap scales inputs down; 1×1 images, panoramas and one-frame videos', () => {
  const image = (w: number, h: number) => ({ kind: 'image' as const, image: { width: w, height: h, data: new Uint8Array(w * h * 3) } });
  const [tiny] = prepareVisuals([image(1, 1)], configs);
  assert.deepEqual([tiny.width, tiny.height, tiny.tokens], [256, 256, 64], 'upscaled to min_pixels, a documented fallback');
  const [wide] = prepareVisuals([image(20000, 100)], configs);
  assert.deepEqual([wide.grid.h, wide.grid.w, wide.tokens], [6, 1250, 1875]);
  assert.throws(() => prepareVisuals([image(20100, 100)], configs), ImageInputError);
  const [capped] = prepareVisuals([image(1280, 720)], configs, { maxTokens: 200 });
  assert.ok(capped.tokens <= 200 && capped.tokens > 150, `${capped.tokens} tokens under a cap of 200`);
  assert.throws(() => prepareVisuals([image(64, 64), image(64, 64)], configs, { maxTokens: 1 }), VisualTokenLimitError);
  const frame = { width: 64, height: 48, data: new Uint8Array(64 * 48 * 3).fill(9) };
  const [single] = prepareVisuals([{ kind: 'video', frames: [frame], frameTimes: [0] }], configs);
  assert.deepEqual([single.frameCount, single.grid.t, single.times], [1, 1, [0]], 'one frame fills a temporal patch by repetition');
  assert.throws(() => prepareVisuals([{ kind: 'video', frames: [], frameTimes: [] }], configs), VideoInputError);
  assert.throws(() => prepareVisuals([{ kind: 'video', frames: [frame, pattern(48, 65)], frameTimes: [0, 1] }], configs), VideoInputError);
});

test('placeholder expansion: image pads per merged token, video groups with their times', () => {
  const image = { kind: 'image', tokens: 3, grid: { t: 1, h: 2, w: 6 }, times: [] } as never;
  const video = { kind: 'video', tokens: 4, grid: { t: 2, h: 2, w: 4 }, times: [0.25, 1.5] } as never;
  const prompt = 'a<|vision_start|><|image_pad|><|vision_end|>b<|vision_start|><|video_pad|><|vision_end|>c';
  assert.equal(
    expandVisionPlaceholders(prompt, [image], [video]),
    'a<|vision_start|><|image_pad|><|image_pad|><|image_pad|><|vision_end|>b'
      + '<0.2 seconds><|vision_start|><|video_pad|><|video_pad|><|vision_end|><1.5 seconds><|vision_start|><|video_pad|><|video_pad|><|vision_end|>c',
  );
  assert.throws(() => expandVisionPlaceholders(prompt, [], [video]), VisionPromptError);
  assert.throws(() => expandVisionPlaceholders(prompt + '<|image_pad|>', [image], [video]), VisionPromptError);
});

test("get_rope_index reproduces the fixtures' position ids, rope deltas and token types", async () => {
  for (const name of ['qwen35-tiny-vl-image', 'qwen35-tiny-vl-video', 'qwen35-tiny-moe']) {
    const c = fixtureConfig(name);
    const ref = await openSafetensors(new URL(`${name}/`, FIXTURES), 'reference.safetensors');
    const ids = ref.i32('input_ids');
    const types = tokenTypes(ids, c.imageTokenId, c.videoTokenId);
    assert.deepEqual(types, ref.i32('mm_token_type_ids'), name);
    const grid = (key: string) => (ref.has(key) ? [{ t: ref.i32(key)[0], h: ref.i32(key)[1], w: ref.i32(key)[2] }] : []);
    const { positions, ropeDelta } = multimodalPositions(types, grid('image_grid_thw'), grid('video_grid_thw'), c.vision!.spatialMergeSize);
    assert.deepEqual(positions, ref.i32('position_ids'), name);
    assert.equal(ropeDelta, ref.i32('rope_deltas')[0], name);
  }
  assert.throws(() => multimodalPositions(Int32Array.from([0, 1, 1, 0]), [], [], 2), VisionPromptError, 'placeholders without an image');
});
