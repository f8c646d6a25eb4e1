import { ConfigError, UnsupportedModelError } from '../loader/errors.ts';
import { readJsonFile, type FileSource } from '../loader/file-source.ts';
import type { VisionConfig } from '../loader/vision-config.ts';

/**
 * preprocessor_config.json (Qwen2VLImageProcessor) and video_preprocessor_config.json
 * (Qwen3VLVideoProcessor), with the Python processors' defaults for every key a file leaves out:
 * the published Qwen3.5 files name neither do_rescale, do_normalize nor resample, and Python then
 * rescales by 1/255, normalises and resizes bicubically.
 */
export type Resample = 'bicubic' | 'bilinear';

export interface ImageProcessorConfig {
  patchSize: number;
  temporalPatchSize: number;
  mergeSize: number;
  /** size.shortest_edge / size.longest_edge: bounds on resized height × width (× frames, for video). */
  minPixels: number;
  maxPixels: number;
  doResize: boolean;
  resample: Resample;
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
}

export interface VideoProcessorConfig extends ImageProcessorConfig {
  doSampleFrames: boolean;
  /** Frames per second sampled from a clip (do_sample_frames). */
  fps: number;
  minFrames: number;
  maxFrames: number;
  /** qwen-vl-utils' per-frame pixel cap (768 · factor² or the per-frame share of maxPixels). */
  capPixelsPerFrame: boolean;
}

const OPENAI_CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
const IMAGENET_STANDARD: [number, number, number] = [0.5, 0.5, 0.5];
/** PIL.Image.Resampling values, as the Python configs store them. */
const RESAMPLE: Record<number, Resample> = { 2: 'bilinear', 3: 'bicubic' };

type Json = Record<string, unknown>;

export async function loadProcessorConfigs(source: FileSource, vision: VisionConfig): Promise<{ image: ImageProcessorConfig; video: VideoProcessorConfig }> {
  const read = async (file: string): Promise<Json> => ((await source.size(file)) === null ? {} : asObject(await readJsonFile(source, file), file));
  return {
    image: parseImageProcessorConfig(await read('preprocessor_config.json'), vision),
    video: parseVideoProcessorConfig(await read('video_preprocessor_config.json'), vision),
  };
}

export function parseImageProcessorConfig(json: Json, vision: VisionConfig, file = 'preprocessor_config.json'): ImageProcessorConfig {
  return parseCommon(json, vision, file, { minPixels: 56 * 56, maxPixels: 28 * 28 * 1280, mean: OPENAI_CLIP_MEAN, std: OPENAI_CLIP_STD });
}

export function parseVideoProcessorConfig(json: Json, vision: VisionConfig, file = 'video_preprocessor_config.json'): VideoProcessorConfig {
  const common = parseCommon(json, vision, file, { minPixels: 128 * 32 * 32, maxPixels: 32 * 32 * 768, mean: IMAGENET_STANDARD, std: IMAGENET_STANDARD });
  const f = new Reader(json, file);
  const minFrames = f.positiveInt('min_frames', 4);
  const maxFrames = f.positiveInt('max_frames', 768);
  if (minFrames > maxFrames) throw new ConfigError(file, `min_frames (${minFrames}) exceeds max_frames (${maxFrames})`);
  return {
    ...common,
    doSampleFrames: f.boolean('do_sample_frames', true),
    fps: f.positiveNumber('fps', 2),
    minFrames,
    maxFrames,
    capPixelsPerFrame: f.boolean('cap_pixels_per_frame', false),
  };
}

function parseCommon(json: Json, vision: VisionConfig, file: string, defaults: { minPixels: number; maxPixels: number; mean: [number, number, number]; std: [number, number, number] }): ImageProcessorConfig {
  const f = new Reader(json, file);
  // The model's own patch geometry stands in for a missing key: any other value cannot feed the tower.
  const geometry = (key: string, modelValue: number): number => {
    const value = f.positiveInt(key, modelValue);
    if (value !== modelValue) throw new ConfigError(file, `${key} is ${value} but the vision tower in config.json uses ${modelValue}`);
    return value;
  };
  const size = json.size === undefined || json.size === null ? {} : asObject(json.size, `${file} size`);
  const sizeReader = new Reader(size, file, 'size.');
  const minPixels = f.positiveInt('min_pixels', sizeReader.positiveInt('shortest_edge', defaults.minPixels));
  const maxPixels = f.positiveInt('max_pixels', sizeReader.positiveInt('longest_edge', defaults.maxPixels));
  if (minPixels > maxPixels) throw new ConfigError(file, `the minimum pixel count (${minPixels}) exceeds the maximum (${maxPixels})`);
  const resampleValue = json.resample ?? 3;
  const resample = RESAMPLE[resampleValue as number];
  if (!resample) throw new UnsupportedModelError(`${file}: resample ${JSON.stringify(resampleValue)} is not supported (2 bilinear or 3 bicubic)`);
  return {
    patchSize: geometry('patch_size', vision.patchSize),
    temporalPatchSize: geometry('temporal_patch_size', vision.temporalPatchSize),
    mergeSize: geometry('merge_size', vision.spatialMergeSize),
    minPixels,
    maxPixels,
    doResize: f.boolean('do_resize', true),
    resample,
    doRescale: f.boolean('do_rescale', true),
    rescaleFactor: f.positiveNumber('rescale_factor', 1 / 255),
    doNormalize: f.boolean('do_normalize', true),
    imageMean: f.triple('image_mean', defaults.mean),
    imageStd: f.triple('image_std', defaults.std),
  };
}

function asObject(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(what, 'is not a JSON object');
  return value as Json;
}

class Reader {
  constructor(
    private readonly json: Json,
    private readonly file: string,
    private readonly path = '',
  ) {}

  private value(key: string): unknown {
    return this.json[key] ?? undefined;
  }

  private fail(key: string, problem: string): ConfigError {
    return new ConfigError(this.file, `${this.path}${key} ${problem}`);
  }

  positiveInt(key: string, fallback: number): number {
    const v = this.value(key);
    if (v === undefined) return fallback;
    if (!Number.isSafeInteger(v) || (v as number) <= 0) throw this.fail(key, `must be a positive integer (got ${JSON.stringify(v)})`);
    return v as number;
  }

  positiveNumber(key: string, fallback: number): number {
    const v = this.value(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw this.fail(key, `must be a positive number (got ${JSON.stringify(v)})`);
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.value(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw this.fail(key, `must be true or false (got ${JSON.stringify(v)})`);
    return v;
  }

  /** One number per RGB channel (a single number applies to all three, as in Python). */
  triple(key: string, fallback: [number, number, number]): [number, number, number] {
    const v = this.value(key);
    if (v === undefined) return fallback;
    const list = typeof v === 'number' ? [v, v, v] : v;
    if (!Array.isArray(list) || list.length !== 3 || !list.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw this.fail(key, `must be a number or three numbers (got ${JSON.stringify(v)})`);
    }
    if (key === 'image_std' && list.some((x) => x === 0)) throw this.fail(key, 'must not contain 0');
    return list as [number, number, number];
  }
}
