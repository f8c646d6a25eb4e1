import { readF32 } from '../gpu/buffers.ts';
import { DEFAULT_GROUP_SIZE, type WeightFormat } from '../gpu/weights.ts';
import type { FileSource } from '../loader/file-source.ts';
import { GREEDY } from '../kernels/sample.ts';
import { Qwen35Model } from '../model/qwen35.ts';
import { ReferenceTensors } from './reference-tensors.ts';
import { referenceVisualInput } from './reference-vision.ts';
import { argmax } from './verify-fixture.ts';

/** How far one weight format's logits are from the fixture's float32 reference. */
export interface AccuracyRow {
  quant: WeightFormat;
  group_size: number | null;
  /** Positions compared: every prompt position and every teacher-forced decode step. */
  positions: number;
  max_abs_logit_diff: number;
  /** Mean over positions of KL(reference || engine) of the softmax distributions, in nats. */
  mean_kl: number;
  /** Share of positions whose argmax token matches the reference's. */
  argmax_agreement: number;
  prompt_argmax_agreement: number;
  decode_argmax_agreement: number;
}

/**
 * Loads the fixture in `quant`, runs its prompt and teacher-forced decode (feeding the reference's
 * greedy ids, so both sides see the same tokens), and compares the logits at every position. A
 * multimodal fixture's decoder is fed the reference's vision output and positions: the vision
 * tower is never quantized, so this measures what quantization does.
 */
export async function measureAccuracy(device: GPUDevice, source: FileSource, quant: WeightFormat, groupSize?: number): Promise<AccuracyRow> {
  const reference = await ReferenceTensors.open(source);
  const ids = await reference.i32('input_ids');
  const generated = await reference.i32('generated_ids');
  const [T, N] = [ids.length, generated.length];
  const model = await Qwen35Model.load(device, source, { quant, groupSize, prefillChunk: T, maxContext: T + N });
  try {
    const V = model.config.vocabSize;
    model.configureSampling(GREEDY);
    const allLogits = model.ctx.pool.storage('accuracy.logits', T * V * 4);
    const multimodal = reference.has('mm_token_type_ids');
    const visual = multimodal ? await referenceVisualInput(model.ctx, reference, model.config.hiddenSize) : undefined;
    const mropePositions = multimodal ? await reference.i32('position_ids') : undefined;
    await model.prefill(ids, { allLogits, visual, positions: mropePositions });
    const prompt = compareRows(await reference.f32('logits'), await readF32(device, allLogits), V);
    const decodeRef = await reference.f32('decode_logits');
    const got = new Float32Array(N * V);
    for (let i = 0; i < N; i++) {
      await model.decodeOne(generated[i]);
      got.set(await readF32(device, model.logitsBuffer), i * V);
    }
    const decode = compareRows(decodeRef, got, V);
    const positions = T + N;
    return {
      quant,
      group_size: quant === 'q8' || quant === 'q4' ? (groupSize ?? DEFAULT_GROUP_SIZE) : null,
      positions,
      max_abs_logit_diff: Math.max(prompt.maxAbs, decode.maxAbs),
      mean_kl: (prompt.klSum + decode.klSum) / positions,
      argmax_agreement: (prompt.same + decode.same) / positions,
      prompt_argmax_agreement: prompt.same / T,
      decode_argmax_agreement: decode.same / N,
    };
  } finally {
    model.destroy();
  }
}

function compareRows(ref: Float32Array, got: Float32Array, V: number): { maxAbs: number; klSum: number; same: number } {
  let maxAbs = 0;
  let klSum = 0;
  let same = 0;
  for (let r = 0; r < ref.length / V; r++) {
    const at = r * V;
    for (let i = 0; i < V; i++) maxAbs = Math.max(maxAbs, Math.abs(ref[at + i] - got[at + i]));
    klSum += klDivergence(ref.subarray(at, at + V), got.subarray(at, at + V));
    if (argmax(ref, at, V) === argmax(got, at, V)) same++;
  }
  return { maxAbs, klSum, same };
}

/** KL(softmax(p) || softmax(q)) in float64. */
export function klDivergence(p: Float32Array, q: Float32Array): number {
  const logSumExp = (v: Float32Array) => {
    let m = -Infinity;
    for (const x of v) m = Math.max(m, x);
    let s = 0;
    for (const x of v) s += Math.exp(x - m);
    return m + Math.log(s);
  };
  const lp = logSumExp(p);
  const lq = logSumExp(q);
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    const logP = p[i] - lp;
    kl += Math.exp(logP) * (logP - (q[i] - lq));
  }
  return kl;
}
