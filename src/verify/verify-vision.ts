import { readJsonFile, type FileSource } from '../loader/file-source.ts';
import { openCheckpoint } from '../loader/checkpoint.ts';
import { readF32 } from '../gpu/buffers.ts';
import type { ForwardOptions, Qwen35Model } from '../model/qwen35.ts';
import { VisionTower, type VisionRun } from '../model/vision.ts';
import type { VisualSegment } from '../model/visual-input.ts';
import { selectFrames } from '../vision/inputs.ts';
import { multimodalPositions, promptPlacement, tokenTypes } from '../vision/positions.ts';
import { prepareVisuals, type VisualSource } from '../vision/preprocess.ts';
import { loadProcessorConfigs } from '../vision/processor-config.ts';
import { compare, describe } from './compare.ts';
import { fixturePictures } from './fixture-pictures.ts';
import type { ReferenceTensors } from './reference-tensors.ts';

/** The vision part of the JSON line `npm run verify` prints last. */
export interface VisionOutcome {
  pass: boolean;
  /** Our preprocessing of image_rgb / video_rgb against the processor's pixel values. */
  pixel_max_abs: number | null;
  /** Worst of vision input, each block's output, the merged tokens and the DeepStack features, relative to the tensor's max. */
  vision_max_rel: number | null;
  /** Where the pictures came from: the fixture's PNG files (checked exactly against the raw tensors) or the raw tensors. */
  pictures: 'png' | 'reference' | null;
  /** mm_token_type_ids, position_ids, rope_deltas and the patch grids, all exact. */
  positions_exact: boolean;
}

const PIXEL_TOLERANCE = 1e-6;

interface Options {
  verbose: boolean;
  log: (line: string) => void;
  visionRel: number;
}

/**
 * Checks a multimodal fixture's vision path end to end, starting from its raw pixels: the
 * processor configs it ships, our resizing and patching (pixel values), the tower on the GPU
 * (input, every block, merged tokens), the placeholder placement and the M-RoPE positions.
 * Returns what the prefill needs; release() frees the tower and its outputs afterwards.
 */
export async function verifyVision(model: Qwen35Model, source: FileSource, reference: ReferenceTensors, ids: Int32Array, o: Options): Promise<{
  positions: Int32Array; visual?: ForwardOptions['visual']; release: () => void; outcome: VisionOutcome;
}> {
  const { log } = o;
  const c = model.config;
  const exact = (name: string, ref: ArrayLike<number>, got: ArrayLike<number>): boolean => {
    const same = ref.length === got.length && Array.from(ref).every((v, i) => v === got[i]);
    log(`${same ? 'TENSOR OK ' : 'TENSOR BAD'} ${name.padEnd(22)} ${same ? 'exact' : `differs: ref [${Array.from(ref).slice(0, 12)}…] got [${Array.from(got).slice(0, 12)}…]`}`);
    return same;
  };
  let positionsOk = true;
  const checkTypes = async (types: Int32Array) => {
    if (reference.has('mm_token_type_ids')) positionsOk = exact('mm_token_type_ids', await reference.i32('mm_token_type_ids'), types) && positionsOk;
  };
  const checkPositions = async (positions: Int32Array, ropeDelta: number) => {
    positionsOk = exact('position_ids', await reference.i32('position_ids'), positions) && positionsOk;
    if (reference.has('rope_deltas')) positionsOk = exact('rope_deltas', await reference.i32('rope_deltas'), [ropeDelta]) && positionsOk;
    // Decode step i sits at T + i + rope delta on every axis (Qwen35Model keeps the delta from the prefill).
    if (reference.has('decode_position_ids')) {
      const steps = await reference.i32('decode_position_ids');
      positionsOk = exact('decode_position_ids', steps, steps.map((_, i) => ids.length + i + ropeDelta)) && positionsOk;
    }
  };

  const pictures = await fixturePictures(source, reference, log);
  const { images, videos } = pictures;
  const v = c.vision;
  if (images.length + videos.length === 0 || !v) {
    const types = tokenTypes(ids, c.imageTokenId, c.videoTokenId);
    await checkTypes(types);
    const { positions, ropeDelta } = multimodalPositions(types, [], [], v?.spatialMergeSize ?? 1);
    await checkPositions(positions, ropeDelta);
    return { positions, release: () => {}, outcome: { pass: positionsOk, pixel_max_abs: null, vision_max_rel: null, pictures: null, positions_exact: positionsOk } };
  }

  const processors = await loadProcessorConfigs(source, v);
  const clipFps = await fixtureVideoFps(source);
  const sources: VisualSource[] = [
    ...images.map((frames): VisualSource => ({ kind: 'image', image: frames[0] })),
    ...videos.map((frames): VisualSource => {
      const { indices, times } = selectFrames({ frames, fps: clipFps }, processors.video);
      return { kind: 'video', frames: indices.map((i) => frames[i]), frameTimes: times };
    }),
  ];
  const tower = await VisionTower.load(model.ctx, await openCheckpoint(source), v);
  const started = performance.now();
  const prepared = prepareVisuals(sources, processors, { resizeOnGpu: (bytes) => bytes <= tower.maxFrameBytes });
  log(`vision preprocessing: ${images.length} image(s), ${videos.length} video(s) in ${(performance.now() - started).toFixed(0)} ms`);
  const preparedImages = prepared.filter((p) => p.kind === 'image');
  const preparedVideos = prepared.filter((p) => p.kind === 'video');
  for (const [name, items] of [['image_grid_thw', preparedImages], ['video_grid_thw', preparedVideos]] as const) {
    if (reference.has(name)) positionsOk = exact(name, await reference.i32(name), items.flatMap((p) => [p.grid.t, p.grid.h, p.grid.w])) && positionsOk;
  }
  await checkTypes(tokenTypes(ids, c.imageTokenId, c.videoTokenId));
  const placement = promptPlacement(ids, c, preparedImages, preparedVideos, v.spatialMergeSize);
  await checkPositions(placement.positions, placement.ropeDelta);

  // Images and videos are two segments, two tower runs, as in transformers.
  const runs: VisionRun[] = [];
  const release = () => {
    runs.forEach((run) => run.destroy());
    tower.destroy();
  };
  try {
    const device = model.ctx.device;
    const Hv = v.hiddenSize;
    let pixelMax = 0;
    let visionRel = 0;
    const rel = (name: string, ref: Float32Array, got: Float32Array) => {
      const cmp = compare(name, ref, got);
      visionRel = Math.max(visionRel, cmp.maxRel);
      log(describe(cmp, { rel: o.visionRel }));
    };
    const visual: VisualSegment[] = [];
    for (const [kind, items, rows] of [['image', preparedImages, placement.imageRows], ['video', preparedVideos, placement.videoRows]] as const) {
      if (items.length === 0) continue;
      const towerStart = performance.now();
      const run = await tower.run(items, { capture: true });
      runs.push(run);
      visual.push({ rows, embeddings: run.embeddings, deepstack: run.deepstack });
      const pixels = await readF32(device, run.capture!.pixels);
      log(`vision tower (${kind}s): ${run.patches} patches → ${run.tokens} tokens, ${v.depth} blocks, in ${(performance.now() - towerStart).toFixed(0)} ms`);
      const pixelName = kind === 'image' ? 'pixel_values' : 'pixel_values_videos';
      if (reference.has(pixelName)) {
        const cmp = compare(pixelName, await reference.f32(pixelName), pixels);
        pixelMax = Math.max(pixelMax, cmp.maxAbs);
        log(describe(cmp, { abs: PIXEL_TOLERANCE }));
      }
      if (reference.has(`${kind}_vision_input`)) rel(`${kind}_vision_input`, await reference.f32(`${kind}_vision_input`), await readF32(device, run.capture!.input));
      if (reference.has(`${kind}_vision_block_outputs`)) {
        const ref = await reference.f32(`${kind}_vision_block_outputs`);
        const got = await readF32(device, run.capture!.blockOutputs);
        const span = run.patches * Hv;
        for (let j = 0; j < v.depth; j++) rel(`${kind}_vision_blocks[${j}]`, ref.subarray(j * span, (j + 1) * span), got.subarray(j * span, (j + 1) * span));
      }
      if (reference.has(`${kind}_embeddings`)) rel(`${kind}_embeddings`, await reference.f32(`${kind}_embeddings`), await readF32(device, run.embeddings));
      // DeepStack levels ([levels, tokens, H]), one comparison per level so a wrong level shows.
      const features = `${kind}_deepstack_features`;
      if (reference.has(features)) {
        if (!run.deepstack) throw new Error(`the reference has ${features} but the tower made no DeepStack output`);
        const ref = await reference.f32(features);
        const got = await readF32(device, run.deepstack);
        if (ref.length !== got.length) throw new Error(`${features}: reference has ${ref.length} values, the tower ${got.length}`);
        const span = run.tokens * c.hiddenSize;
        for (let k = 0; k < ref.length / span; k++) rel(`${features}[${k}]`, ref.subarray(k * span, (k + 1) * span), got.subarray(k * span, (k + 1) * span));
      }
    }
    const pass = positionsOk && pictures.pngExact !== false && pixelMax <= PIXEL_TOLERANCE && visionRel <= o.visionRel;
    return {
      positions: placement.positions, visual, release,
      outcome: { pass, pixel_max_abs: pixelMax, vision_max_rel: visionRel, pictures: pictures.source, positions_exact: positionsOk },
    };
  } catch (e) {
    release();
    throw e;
  }
}

/** reference.json may name the clip's frame rate; without one the processor assumes 24. */
async function fixtureVideoFps(source: FileSource): Promise<number | undefined> {
  const meta = (await readJsonFile(source, 'reference.json')) as { vision?: { video?: { fps?: unknown } } };
  const fps = meta.vision?.video?.fps;
  return typeof fps === 'number' && fps > 0 ? fps : undefined;
}
