import type { Qwen35Config } from '../loader/config.ts';
import type { GpuContext } from '../gpu/context.ts';
import { ProgramBuilder, type Program } from '../gpu/program.ts';
import type { GpuMatrix } from '../gpu/weights.ts';
import { FullAttentionLayer } from '../layers/full-attention.ts';
import type { KernelSet } from '../layers/kernel-set.ts';
import { LinearAttentionLayer } from '../layers/linear-attention.ts';
import { recordMlp, type MlpWeights } from '../layers/mlp.ts';
import { isMoeWeights, recordMoe, type MoeWeights } from '../layers/moe.ts';
import type { Scratch } from '../layers/scratch.ts';
import { recordDeepstack, recordVisualEmbeddings, type VisualChunk } from './visual-input.ts';

export interface DecoderLayer {
  inputNorm: GPUBuffer;  // [H] the scale applied (1 + w for Qwen3.5)
  postNorm: GPUBuffer;   // [H] the scale applied (1 + w for Qwen3.5)
  mixer: LinearAttentionLayer | FullAttentionLayer;
  mlp: MlpWeights | MoeWeights;
}

export interface ModelParts {
  config: Qwen35Config;
  kernels: KernelSet;
  scratch: Scratch;
  embedTokens: GpuMatrix;
  finalNorm: GPUBuffer;
  lmHead: GpuMatrix;
  layers: DecoderLayer[];
}

/** Copies of intermediate tensors for `verify --verbose` (every buffer [.., T, H] f32). */
export interface Capture {
  embeddings: GPUBuffer;    // [T, H]
  layerOutputs: GPUBuffer;  // [L, T, H] after each layer, DeepStack included
  finalHidden: GPUBuffer;   // [T, H]
  /** [levels, T, H]: layers 0..levels-1 before their DeepStack addition (Qwen3-VL prompts with visual input). */
  beforeDeepstack?: GPUBuffer;
}

export interface ForwardPlan {
  T: number;
  /** Where token ids come from: the uploaded prompt chunk, or the last sampled token (decode). */
  input: 'prompt' | 'sampled';
  /** Also write logits of every position here ([T, V]); otherwise only the last position's. */
  allLogits?: GPUBuffer;
  capture?: Capture;
  /** Delta-rule kernel for T > 1 (the recurrent one always serves T = 1). */
  deltaForm?: 'recurrent' | 'chunked';
  /** Vision tower rows (and DeepStack levels) falling in this chunk of the prompt. */
  visual?: VisualChunk;
}

/**
 * One forward pass over T tokens as a program: embed → decoder layers by layer_types → final
 * norm → lm_head → sample. Built once per shape and replayed; the decode step is T = 1.
 */
export function buildForward(ctx: GpuContext, m: ModelParts, plan: ForwardPlan): Program {
  const { config: c, kernels: k, scratch: s } = m;
  const { T } = plan;
  const H = c.hiddenSize;
  if (T > s.maxTokens) throw new Error(`forward: ${T} tokens exceed the planned ${s.maxTokens}`);
  const b = new ProgramBuilder(ctx, T === 1 ? 'decode' : `prefill${T}`);
  const rowBytes = T * H * 4;

  k.embed.record(b, { ids: plan.input === 'prompt' ? s.ids : s.token, table: m.embedTokens, out: s.x, T });
  if (plan.input === 'prompt') k.sampler.recordCount(b, { ids: s.ids, counts: s.counts, T });
  if (plan.visual) recordVisualEmbeddings(b, k, s, plan.visual);
  if (plan.capture) b.copy(s.x, 0, plan.capture.embeddings, 0, rowBytes);

  // Each layer's two RMSNorms are fused into the first matmul that reads them (an MoE block's is not).
  const eps = c.rmsNormEps;
  m.layers.forEach((layer, i) => {
    const inputNorm = { weight: layer.inputNorm, eps };
    if (layer.mixer instanceof LinearAttentionLayer) layer.mixer.record(b, k, s, T, inputNorm, plan.deltaForm);
    else layer.mixer.record(b, k, s, T, inputNorm);
    if (isMoeWeights(layer.mlp)) {
      // The router, the shared expert and the routed experts all read one normed input.
      k.rmsNorm.record(b, { x: s.x, weight: layer.postNorm, y: s.xn, rows: T, n: H, eps });
      recordMoe(b, k, s, layer.mlp, T);
    } else {
      recordMlp(b, k, s, layer.mlp, T, { weight: layer.postNorm, eps });
    }
    if (plan.visual && i < plan.visual.levels) {
      if (plan.capture?.beforeDeepstack) b.copy(s.x, 0, plan.capture.beforeDeepstack, i * rowBytes, rowBytes);
      recordDeepstack(b, k, s, plan.visual, i);
    }
    if (plan.capture) b.copy(s.x, 0, plan.capture.layerOutputs, i * rowBytes, rowBytes);
  });

  // Verification needs every position's logits; generation only the last one's. The final norm
  // is fused into lm_head, except when --verbose captures the normed hidden state itself.
  const logits = plan.allLogits ?? s.logits;
  const rows = plan.allLogits ? T : 1;
  const lastRow = (T - rows) * H;
  if (plan.capture) {
    k.rmsNorm.record(b, { x: s.x, weight: m.finalNorm, y: s.xn, rows: T, n: H, eps });
    b.copy(s.xn, 0, plan.capture.finalHidden, 0, rowBytes);
    k.matmul.record(b, { x: s.xn, xOffset: lastRow, w: m.lmHead, y: logits, T: rows });
  } else {
    k.matmul.record(b, { x: s.x, xOffset: lastRow, w: m.lmHead, y: logits, T: rows, norm: { weight: m.finalNorm, eps } });
  }
  if (plan.allLogits) b.copy(plan.allLogits, (T - 1) * c.vocabSize * 4, s.logits, 0, c.vocabSize * 4);
  k.sampler.record(b, { logits: s.logits, counts: s.counts, token: s.token });
  return b.build();
}
