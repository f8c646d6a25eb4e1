import { readJsonFile, type FileSource } from '../loader/file-source.ts';
import { parseQwen35Config } from '../loader/config.ts';
import { CheckpointError } from '../loader/errors.ts';
import { readF32 } from '../gpu/buffers.ts';
import type { WeightStorage } from '../gpu/context.ts';
import { GREEDY } from '../kernels/sample.ts';
import { Qwen35Model } from '../model/qwen35.ts';
import { compare, describe } from './compare.ts';
import { ReferenceTensors } from './reference-tensors.ts';
import { referenceVisualInput } from './reference-vision.ts';
import { verifyVision, type VisionOutcome } from './verify-vision.ts';

export interface VerifyOptions {
  verbose: boolean;
  log: (line: string) => void;
  /**
   * Run the decoder from the reference's vision output (embeddings at the placeholder rows,
   * DeepStack features) instead of a vision tower: a decoder-only check, never a full pass.
   */
  fromReferenceVision?: boolean;
  /** Weight storage; by default f16, or f32 for FP8 checkpoints (their dequantized values are not all f16-exact). */
  storage?: WeightStorage;
}

/** The comparison's outcome; the CLI adds `fixture` and `runtime` and prints it as JSON. */
export interface VerifyOutcome {
  pass: boolean;
  max_abs_logit_diff: number;
  tolerance: number;
  greedy_match: string;
  /** The weight storage the engine ran with. */
  storage: WeightStorage;
  /** Present (true) only for a decoder-only check from the reference's vision output. */
  from_reference_vision?: true;
  /** Multimodal fixtures: the preprocessing, position and vision tower checks. */
  vision?: VisionOutcome;
}

interface Tolerances {
  arith: 'float32' | 'float16_arithmetic';
  logits: number;
  decodeLogits: number;
  hiddenRel: number;
  visionRel: number;
  /** f16 arithmetic: the share of prompt positions whose argmax must match, instead of exact greedy ids. */
  argmaxAgreement: number | null;
}

/**
 * Loads a fixture directory as a model repo, prefills its prompt, then decodes teacher-forced
 * (feeding the reference's generated ids) and compares logits at every prompt position, every
 * decode step's logits, and the greedy choices with the reference.
 */
export async function verifyFixture(device: GPUDevice, source: FileSource, options: VerifyOptions): Promise<VerifyOutcome> {
  const { log } = options;
  const meta = (await readJsonFile(source, 'reference.json')) as Record<string, unknown>;
  const reference = await ReferenceTensors.open(source);
  const fromReference = options.fromReferenceVision === true;
  if (fromReference && !reference.has('mm_token_type_ids')) throw new CheckpointError('reference.safetensors', '--from-reference-vision needs a multimodal fixture (mm_token_type_ids, embeddings)');
  const ids = await reference.i32('input_ids');
  const generated = await reference.i32('generated_ids');
  const T = ids.length;
  const N = generated.length;

  const fp8 = parseQwen35Config(await readJsonFile(source, 'config.json')).quantization !== null;
  const storage = options.storage ?? (fp8 ? 'f32' : 'f16');
  const started = performance.now();
  const model = await Qwen35Model.load(device, source, { storage, prefillChunk: T, maxContext: T + N });
  try {
    const tol = tolerances(meta, model.ctx.arith);
    const c = model.config;
    log(`model: ${c.modelType}, ${c.numLayers} layers [${c.layerTypes.map((t) => (t === 'full_attention' ? 'F' : 'L')).join('')}], hidden ${c.hiddenSize}, vocab ${c.vocabSize}; ${(model.gpuBytes / 2 ** 20).toFixed(1)} MiB on the GPU; loaded in ${(performance.now() - started).toFixed(0)} ms`);
    log(`weights: ${storage} storage${fp8 ? `, FP8 (${c.quantization!.blockSize.join('×')} blocks) dequantized on the GPU${storage === 'f16' ? '; some dequantized values round in f16' : ', exactly'}` : ''}`);
    model.configureSampling(GREEDY);
    const V = c.vocabSize;
    const H = c.hiddenSize;
    const pool = model.ctx.pool;
    const allLogits = pool.storage('verify.logits', T * V * 4);
    const levels = c.deepstackVisualIndexes.length;
    const beforeDeepstack = fromReference && levels > 0 && reference.has('layer_outputs_before_deepstack');
    // A decoder-only check compares every hidden state, as --verbose does.
    const capture = options.verbose || fromReference
      ? {
          embeddings: pool.storage('verify.embeddings', T * H * 4), layerOutputs: pool.storage('verify.layers', c.numLayers * T * H * 4), finalHidden: pool.storage('verify.final', T * H * 4),
          beforeDeepstack: beforeDeepstack ? pool.storage('verify.before_deepstack', levels * T * H * 4) : undefined,
        }
      : undefined;
    // Multimodal fixtures: our own preprocessing from the raw pixels, tower, positions and placement;
    // or, with --from-reference-vision, the reference's vision output fed to the decoder alone.
    const vision = reference.has('position_ids') && !fromReference ? await verifyVision(model, source, reference, ids, { verbose: options.verbose, log, visionRel: tol.visionRel }) : null;
    const referenceVisual = fromReference ? await referenceVisualInput(model.ctx, reference, H) : undefined;
    if (referenceVisual) log(`vision: FROM THE REFERENCE (decoder-only check): ${referenceVisual.map((s) => `${s.rows.length} rows${s.deepstack ? ` + ${levels} DeepStack levels` : ''}`).join(', ')}`);
    const positions = fromReference ? await reference.i32('position_ids') : vision?.positions;

    const prefillStart = performance.now();
    const first = await model.prefill(ids, { allLogits, capture, positions, visual: referenceVisual ?? vision?.visual }).finally(() => vision?.release());
    log(`prefill: ${T} tokens in ${(performance.now() - prefillStart).toFixed(0)} ms`);
    const refLogits = await reference.f32('logits');
    const gotLogits = await readF32(device, allLogits);
    const promptLogits = compare('logits', refLogits, gotLogits);
    log(`${tol.arith} arithmetic: ${describe(promptLogits, { abs: tol.logits })}`);
    const agreement = argmaxAgreement(refLogits, gotLogits, V);

    let hiddenOk = true;
    if (capture) {
      const check = async (name: string, buffer: GPUBuffer, rows: number, perRows: number) => {
        const ref = await reference.f32(name);
        const got = await readF32(device, buffer);
        for (let r = 0; r < rows; r++) {
          const span = [r * perRows * H, (r + 1) * perRows * H];
          const cmp = compare(rows > 1 ? `${name}[${r}]` : name, ref.subarray(span[0], span[1]), got.subarray(span[0], span[1]));
          hiddenOk &&= cmp.maxRel <= tol.hiddenRel;
          log(describe(cmp, { rel: tol.hiddenRel }));
        }
      };
      await check('embeddings', capture.embeddings, 1, T);
      await check('layer_outputs', capture.layerOutputs, c.numLayers, T);
      if (capture.beforeDeepstack) await check('layer_outputs_before_deepstack', capture.beforeDeepstack, levels, T);
      await check('final_hidden', capture.finalHidden, 1, T);
    }

    const decodeRef = await reference.f32('decode_logits');
    let matches = first === generated[0] ? 1 : 0;
    let decodeMax = 0;
    const decodeStart = performance.now();
    for (let i = 0; i < N; i++) {
      const next = await model.decodeOne(generated[i]);
      const cmp = compare(`decode_logits[${i}]`, decodeRef.subarray(i * V, (i + 1) * V), await readF32(device, model.logitsBuffer));
      decodeMax = Math.max(decodeMax, cmp.maxAbs);
      if (options.verbose || cmp.maxAbs > tol.decodeLogits) log(describe(cmp, { abs: tol.decodeLogits }));
      if (i + 1 < N && next === generated[i + 1]) matches++;
    }
    log(`decode: ${N} teacher-forced steps in ${(performance.now() - decodeStart).toFixed(0)} ms (each with a logits readback for the comparison); max |decode logit diff| ${decodeMax.toExponential(3)} (≤ ${tol.decodeLogits})`);
    const cost = model.decodeCost;
    log(`per decoded token: ${cost.dispatches} dispatches, ${cost.passes} compute pass(es), ${cost.commandBuffers} command buffer, 1 readback of 4 bytes`);

    const maxAbs = Math.max(promptLogits.maxAbs, decodeMax);
    log(`prompt argmax agreement: ${(agreement * 100).toFixed(1)} %`);
    // In f16 arithmetic the fixtures promise teacher-forced logits within tolerance, not identical greedy ids.
    const idsOk = tol.argmaxAgreement === null ? matches === N : agreement >= tol.argmaxAgreement;
    const pass = promptLogits.maxAbs <= tol.logits && decodeMax <= tol.decodeLogits && idsOk && hiddenOk && (vision?.outcome.pass ?? true);
    const outcome: VerifyOutcome = { pass, max_abs_logit_diff: maxAbs, tolerance: tol.logits, greedy_match: `${matches}/${N}`, storage, vision: vision?.outcome };
    return fromReference ? { ...outcome, from_reference_vision: true } : outcome;
  } finally {
    model.destroy();
  }
}

/** The fixture's tolerances for the arithmetic the engine actually used on this device. */
function tolerances(meta: Record<string, unknown>, arith: 'f32' | 'f16'): Tolerances {
  const all = (meta.suggested_tolerances as Record<string, Record<string, unknown>> | undefined) ?? {};
  const num = (v: unknown, fallback: number) => (typeof v === 'number' && v > 0 ? v : fallback);
  if (arith === 'f16') {
    const f16 = all.float16_arithmetic ?? {};
    const logits = num(f16.logits_max_abs, 0.1);
    return { arith: 'float16_arithmetic', logits, decodeLogits: num(f16.decode_logits_max_abs, logits), hiddenRel: num(f16.hidden_max_rel, 1e-2), visionRel: num(f16.vision_max_rel, num(f16.hidden_max_rel, 1e-2)), argmaxAgreement: num(f16.prompt_argmax_agreement_min, 0.9) };
  }
  const f32 = all.float32 ?? {};
  return {
    arith: 'float32',
    logits: num(f32.logits_max_abs, 2e-3),
    decodeLogits: num(f32.decode_logits_max_abs, 2e-3),
    hiddenRel: num(f32.hidden_max_rel, 5e-4),
    visionRel: num(f32.vision_max_rel, 5e-4),
    argmaxAgreement: null,
  };
}

/** Share of rows of two [rows, V] logit tensors whose largest entry is at the same index. */
export function argmaxAgreement(ref: Float32Array, got: Float32Array, V: number): number {
  const rows = ref.length / V;
  let same = 0;
  for (let r = 0; r < rows; r++) if (argmax(ref, r * V, V) === argmax(got, r * V, V)) same++;
  return same / rows;
}

export function argmax(v: Float32Array, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (v[offset + i] > v[offset + best]) best = i;
  return best;
}
