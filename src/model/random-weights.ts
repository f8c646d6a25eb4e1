import type { Qwen35Config } from '../loader/config.ts';
import type { GpuContext } from '../gpu/context.ts';
import { ProgramBuilder } from '../gpu/program.ts';
import { allocateMatrix, uploadF32, type GpuMatrix, type WeightFormat } from '../gpu/weights.ts';
import { RandomFill } from '../kernels/random-fill.ts';
import { derivedSizes } from '../layers/scratch.ts';
import type { LayerWeights, ModelWeights } from './load-weights.ts';

/**
 * Deterministic random weights for a config, generated on the GPU in the requested format: the
 * benchmark's stand-in for a checkpoint. Matrices have std 1/sqrt(fan_in), so activations keep
 * their scale through the layers; norms are 1, the gates' A_log and dt_bias as HF initialises them.
 * Only per-channel vectors (a few thousand floats) are made on the CPU.
 */
/** A well-mixed 32-bit seed per tensor from the model seed and a counter. */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ Math.imul(b + 1, 0x9e3779b1), 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return Math.imul(h, 0xc2b2ae35) >>> 0;
}

export async function randomWeights(ctx: GpuContext, c: Qwen35Config, weights: { format: WeightFormat; groupSize?: number }, seed = 1): Promise<ModelWeights> {
  const fill = await RandomFill.create(ctx);
  const { convDim, valueDim, linearProj, fullProj, attnDim } = derivedSizes(c);
  const H = c.hiddenSize;
  let count = 0;
  const matrix = async (label: string, rows: number, cols: number): Promise<GpuMatrix> => {
    const m = allocateMatrix(ctx, label, rows, cols, { format: weights.format, groupSize: weights.groupSize });
    const b = new ProgramBuilder(ctx, `random.${label}`);
    fill.record(b, m, mix(seed, count++), 1 / Math.sqrt(cols));
    const program = b.build();
    const encoder = ctx.device.createCommandEncoder();
    program.encode(encoder, { cache_pos: 0, seed: 0 });
    ctx.device.queue.submit([encoder.finish()]);
    // One matrix in flight at a time keeps SwiftShader's queue (and its memory) small.
    await ctx.device.queue.onSubmittedWorkDone();
    program.destroy();
    return m;
  };
  const ones = (label: string, n: number) => uploadF32(ctx, label, new Float32Array(n).fill(1));

  const embedTokens = await matrix('embed_tokens', c.vocabSize, H);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const nv = c.linearNumValueHeads;
    const mixer: LayerWeights['mixer'] = c.layerTypes[i] === 'linear_attention'
      ? {
          kind: 'linear_attention',
          inProj: await matrix(`layer${i}.in_proj`, linearProj, H),
          conv: uploadF32(ctx, `layer${i}.conv1d`, Float32Array.from({ length: convDim * c.linearConvKernelDim }, (_, j) => (mix(i, j) / 2 ** 32 - 0.5) * 0.5)),
          aLog: uploadF32(ctx, `layer${i}.A_log`, Float32Array.from({ length: nv }, (_, h) => Math.log(1 + (15 * h) / nv))),
          dtBias: ones(`layer${i}.dt_bias`, nv),
          norm: ones(`layer${i}.norm`, c.linearValueHeadDim),
          outProj: await matrix(`layer${i}.out_proj`, H, valueDim),
        }
      : {
          kind: 'full_attention',
          qkv: await matrix(`layer${i}.qkv`, fullProj, H),
          qNorm: ones(`layer${i}.q_norm`, c.headDim),
          kNorm: ones(`layer${i}.k_norm`, c.headDim),
          oProj: await matrix(`layer${i}.o_proj`, H, attnDim),
        };
    layers.push({
      inputNorm: ones(`layer${i}.input_layernorm`, H),
      postNorm: ones(`layer${i}.post_attention_layernorm`, H),
      mixer,
      mlp: { gateUp: await matrix(`layer${i}.gate_up`, 2 * c.intermediateSize, H), down: await matrix(`layer${i}.down`, H, c.intermediateSize) },
    });
  }
  const finalNorm = ones('norm', H);
  const lmHead = c.tieWordEmbeddings ? embedTokens : await matrix('lm_head', c.vocabSize, H);
  return { embedTokens, finalNorm, lmHead, layers };
}
