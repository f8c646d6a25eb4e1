// The benchmark's weights: generated on the GPU word for word as the CPU mirror says, zero in every
// format's padding, and a random-weight model that runs and counts the bytes a decode step reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readBuffer } from '../src/gpu/buffers.ts';
import { ProgramBuilder } from '../src/gpu/program.ts';
import { allocateMatrix, matrixBytes, matrixRowBytes, type WeightFormat } from '../src/gpu/weights.ts';
import { RandomFill } from '../src/kernels/random-fill.ts';
import { parseQwen35Config } from '../src/loader/config.ts';
import { Qwen35Model } from '../src/model/qwen35.ts';
import { presetConfig } from '../src/model/presets.ts';
import { randomWeights } from '../src/model/random-weights.ts';
import { decodeRows } from '../src/reference/quant.ts';
import { randomWords } from '../src/reference/random.ts';
import { run, testContext, testDevice } from './helpers/gpu.ts';

const MODES: Record<WeightFormat, number> = { f32: 0, f16: 1, q8: 2, q4: 3 };

test('random fill: every format matches the CPU mirror word for word, padding is zero', async () => {
  const [rows, cols] = [7, 70];
  for (const format of ['f32', 'f16', 'q8', 'q4'] as const) {
    const ctx = await testContext('f16', 3 * 4096);
    const m = allocateMatrix(ctx, 'W', rows, cols, { format, groupSize: 32 });
    const fill = await RandomFill.create(ctx);
    await run(ctx, (b: ProgramBuilder) => fill.record(b, m, 1234, 0.1));
    const words = new Uint32Array(rows * m.rowWords);
    const scales = new Uint32Array(rows * m.scaleWords);
    for (const [i, part] of m.parts.entries()) {
      const seed = (1234 + i * 0x9e3779b9) >>> 0;
      const got = new Uint32Array(await readBuffer(ctx.device, part.buffer));
      const dataScale = format === 'q8' || format === 'q4' ? 0 : 0.1 * Math.sqrt(3);
      assert.deepEqual(got, randomWords(MODES[format], part.rows * m.rowWords, m.rowWords, cols, seed, dataScale), `${format} part ${i}`);
      words.set(got, part.rowStart * m.rowWords);
      if (part.scales) {
        const gotScales = new Uint32Array(await readBuffer(ctx.device, part.scales));
        const std = format === 'q8' ? 73.9 : 4.61;
        assert.deepEqual(gotScales, randomWords(4, part.rows * m.scaleWords, m.scaleWords, 2 * m.scaleWords, (seed ^ 0x5bd1e995) >>> 0, 0.1 / std), `${format} scales ${i}`);
        scales.set(gotScales, part.rowStart * m.scaleWords);
      }
    }
    // The padding columns decode to exactly zero (the kernels rely on it).
    const padded = decodeRows(words, m.scaleWords ? scales : null, rows, { ...m, cols: m.rowWords * { f32: 1, f16: 2, q8: 4, q4: 8 }[format] });
    for (let r = 0; r < rows; r++) for (let c = cols; c < padded.length / rows; c++) assert.equal(padded[r * (padded.length / rows) + c], 0, `${format} pad ${r},${c}`);
    ctx.pool.destroyAll();
  }
});

test('a random-weight model runs and counts what one decode step reads', async () => {
  const config = parseQwen35Config({
    model_type: 'qwen3_5_text', hidden_size: 64, num_hidden_layers: 2, layer_types: ['linear_attention', 'full_attention'],
    num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32, linear_num_key_heads: 2, linear_num_value_heads: 4,
    linear_key_head_dim: 16, linear_value_head_dim: 24, intermediate_size: 96, vocab_size: 300, tie_word_embeddings: true,
    rope_parameters: { rope_theta: 1e7, partial_rotary_factor: 0.25, mrope_section: [2, 1, 1] },
  });
  const device = await testDevice();
  const model = await Qwen35Model.create(device, config, { quant: 'q4', maxContext: 16 }, (ctx) => randomWeights(ctx, config, { format: 'q4' }));
  try {
    await model.prefill(Int32Array.from([1, 2, 3]));
    const token = await model.decodeOne();
    assert.ok(token >= 0 && token < 300);
    const parts = (model as unknown as { parts: { embedTokens: Parameters<typeof matrixBytes>[0] } }).parts;
    // lm_head (tied) is read whole, the embedding only for one row.
    const perToken = model.decodeBytesPerToken(4);
    assert.ok(perToken > matrixBytes(parts.embedTokens) + matrixRowBytes(parts.embedTokens));
    assert.ok(perToken < model.weightBytes + 2 * 4 * 2 * 32 * 4 + 64 * 1024, `${perToken} vs ${model.weightBytes}`);
    assert.equal(model.decodeBytesPerToken(5) - perToken, 2 * 2 * 32 * 4, 'one more K and V row per extra cached token');
  } finally {
    model.destroy();
  }
  // The published geometries parse, with the layer pattern of the real models.
  const big = presetConfig('0.8b');
  assert.equal(big.layerTypes.filter((t) => t === 'full_attention').length, 6);
  assert.equal(presetConfig('9b').tieWordEmbeddings, false);
});
