// Qwen3-VL configs (both Hub forms, the FP8 quantization_config, DeepStack levels) onto the engine's
// config object, and the typed errors for missing or contradictory fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseQwen35Config, type Qwen35Config } from '../src/loader/config.ts';
import { ConfigError, UnsupportedModelError } from '../src/loader/errors.ts';

const FIXTURES = new URL('../../shared/fixtures/', import.meta.url).pathname;
const fixtureJson = (name: string) => JSON.parse(readFileSync(`${FIXTURES}${name}/config.json`, 'utf8'));
const F = 'full_attention';

test('the Qwen3-VL fixtures parse to the Qwen3 decoder as data', () => {
  const expected: Record<string, Partial<Qwen35Config>> = {
    'qwen3vl-tiny-image': {
      modelType: 'qwen3_vl', weightPrefix: 'model.language_model.', hiddenSize: 64, numLayers: 4, layerTypes: [F, F, F, F],
      numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 192, vocabSize: 512, tieWordEmbeddings: true,
      rope: { theta: 5e6, partialRotaryFactor: 1, rotaryDim: 32, mropeSection: [6, 5, 5] }, eosTokenIds: [221], imageTokenId: 231,
      videoTokenId: 232, zeroCentredNorms: false, attentionOutputGate: false, quantization: null, deepstackVisualIndexes: [1, 2, 3],
      moe: null, linearNumValueHeads: 0, maxPositionEmbeddings: 262144,
    },
    'qwen3vl-tiny-fp8': {
      hiddenSize: 128, headDim: 64, intermediateSize: 384, rope: { theta: 5e6, partialRotaryFactor: 1, rotaryDim: 64, mropeSection: [12, 10, 10] },
      deepstackVisualIndexes: [0, 1, 3], zeroCentredNorms: false, attentionOutputGate: false,
    },
  };
  expected['qwen3vl-tiny-video'] = expected['qwen3vl-tiny-image'];
  for (const [name, fields] of Object.entries(expected)) {
    const c = parseQwen35Config(fixtureJson(name));
    for (const [key, value] of Object.entries(fields)) assert.deepEqual(c[key as keyof Qwen35Config], value, `${name}: ${key}`);
  }
  const fp8 = parseQwen35Config(fixtureJson('qwen3vl-tiny-fp8')).quantization!;
  assert.deepEqual(fp8.blockSize, [128, 128]);
  assert.ok(fp8.modulesToNotConvert.includes('lm_head') && fp8.modulesToNotConvert.includes('visual.blocks.0.attn.qkv_proj'));
  // Qwen3.5 keeps its own conventions.
  const qwen35 = parseQwen35Config(fixtureJson('qwen35-tiny-vl-image'));
  assert.deepEqual([qwen35.zeroCentredNorms, qwen35.attentionOutputGate, qwen35.quantization, qwen35.deepstackVisualIndexes], [true, true, null, []]);
});

/** Qwen3-VL-4B-Instruct's published config.json, in the older form the Hub repos use (QWEN35-ARCHITECTURE.md §9). */
function published4b(): Record<string, unknown> {
  return {
    architectures: ['Qwen3VLForConditionalGeneration'], model_type: 'qwen3_vl', image_token_id: 151655, video_token_id: 151656,
    vision_start_token_id: 151652, vision_end_token_id: 151653, tie_word_embeddings: true,
    text_config: {
      model_type: 'qwen3_vl_text', hidden_size: 2560, intermediate_size: 9728, num_hidden_layers: 36, num_attention_heads: 32,
      num_key_value_heads: 8, head_dim: 128, hidden_act: 'silu', max_position_embeddings: 262144, rms_norm_eps: 1e-6, vocab_size: 151936,
      bos_token_id: 151643, eos_token_id: 151645, attention_bias: false, tie_word_embeddings: true, rope_theta: 5000000,
      rope_scaling: { mrope_interleaved: true, mrope_section: [24, 20, 20], rope_type: 'default' },
    },
    vision_config: {
      model_type: 'qwen3_vl', depth: 24, hidden_size: 1024, intermediate_size: 4096, num_heads: 16, out_hidden_size: 2560,
      patch_size: 16, spatial_merge_size: 2, temporal_patch_size: 2, num_position_embeddings: 2304, deepstack_visual_indexes: [5, 11, 17],
    },
  };
}

/** The same model in the current form: rope_parameters in text_config, vision model_type qwen3_vl_vision. */
function current4b(): Record<string, unknown> {
  const json = published4b();
  const text = { ...(json.text_config as Record<string, unknown>) };
  delete text.rope_theta;
  delete text.rope_scaling;
  text.rope_parameters = { rope_type: 'default', rope_theta: 5000000, mrope_section: [24, 20, 20], mrope_interleaved: true };
  return { ...json, text_config: text, vision_config: { ...(json.vision_config as Record<string, unknown>), model_type: 'qwen3_vl_vision' } };
}

/** A copy of `json` with `path` (dot-separated) set to `value`, or deleted when value is undefined. */
function edit(json: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(json);
  const keys = path.split('.');
  let at = copy as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  if (value === undefined) delete at[keys[keys.length - 1]];
  else at[keys[keys.length - 1]] = value;
  return copy;
}

function throwsConfig(json: unknown, ...fragments: string[]) {
  assert.throws(() => parseQwen35Config(json, 'repo/config.json'), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    for (const fragment of fragments) assert.ok(e.message.includes(fragment), `'${e.message}' should mention '${fragment}'`);
    return true;
  });
}

test('both Hub forms of the published 4B config give the same engine config', () => {
  const older = parseQwen35Config(published4b());
  assert.deepEqual(parseQwen35Config(current4b()), older);
  assert.deepEqual(older.rope, { theta: 5e6, partialRotaryFactor: 1, rotaryDim: 128, mropeSection: [24, 20, 20] });
  assert.deepEqual([older.numLayers, older.hiddenSize, older.numAttentionHeads, older.numKeyValueHeads, older.intermediateSize], [36, 2560, 32, 8, 9728]);
  assert.deepEqual(older.deepstackVisualIndexes, [5, 11, 17]);
  assert.deepEqual([older.imageTokenId, older.videoTokenId, older.eosTokenIds], [151655, 151656, [151645]]);
  assert.ok(older.layerTypes.every((t) => t === F) && older.layerTypes.length === 36);
  // The legacy 'mrope' name of the same sectioned rope.
  assert.deepEqual(parseQwen35Config(edit(published4b(), 'text_config.rope_scaling.rope_type', 'mrope')).rope, older.rope);
});

test('transformers defaults fill what a Qwen3-VL config may omit', () => {
  let json = current4b();
  for (const path of ['text_config.head_dim', 'text_config.num_key_value_heads', 'text_config.rope_parameters', 'text_config.rms_norm_eps',
    'text_config.max_position_embeddings', 'image_token_id', 'video_token_id', 'vision_config.deepstack_visual_indexes', 'vision_config.depth']) {
    json = edit(json, path, undefined);
  }
  const c = parseQwen35Config(json);
  assert.equal(c.headDim, 128);
  assert.equal(c.numKeyValueHeads, 32, 'no kv head count: multi-head attention');
  assert.deepEqual(c.rope, { theta: 500000, partialRotaryFactor: 1, rotaryDim: 128, mropeSection: [24, 20, 20] });
  assert.deepEqual([c.rmsNormEps, c.maxPositionEmbeddings, c.imageTokenId, c.videoTokenId], [1e-6, 128000, 151655, 151656]);
  assert.deepEqual(c.deepstackVisualIndexes, [8, 16, 24]);
  assert.deepEqual(parseQwen35Config(edit(current4b(), 'vision_config', undefined)).deepstackVisualIndexes, [8, 16, 24]);
});

test('qwen3_vl_text alone: the text settings at the top level, no placeholders, no DeepStack', () => {
  const text = { ...(current4b().text_config as Record<string, unknown>) };
  const c = parseQwen35Config(text);
  assert.equal(c.modelType, 'qwen3_vl_text');
  assert.equal(c.weightPrefix, 'model.');
  assert.deepEqual([c.imageTokenId, c.videoTokenId, c.deepstackVisualIndexes], [null, null, []]);
  assert.equal(c.tieWordEmbeddings, true);
});

test('quantization_config: block size from the config, unsupported methods and formats refused', () => {
  const fp8 = (q: Record<string, unknown>) => ({ ...current4b(), quantization_config: { quant_method: 'fp8', fmt: 'e4m3', activation_scheme: 'dynamic', ...q } });
  assert.deepEqual(parseQwen35Config(fp8({ weight_block_size: [64, 32], modules_to_not_convert: ['lm_head'] })).quantization, { method: 'fp8', blockSize: [64, 32], modulesToNotConvert: ['lm_head'] });
  assert.deepEqual(parseQwen35Config(fp8({})).quantization, { method: 'fp8', blockSize: [128, 128], modulesToNotConvert: [] });
  throwsConfig(fp8({ weight_block_size: [128] }), 'quantization_config.weight_block_size');
  throwsConfig(fp8({ weight_block_size: [0, 128] }), 'quantization_config.weight_block_size');
  throwsConfig(fp8({ modules_to_not_convert: 'lm_head' }), 'modules_to_not_convert');
  for (const q of [{ quant_method: 'awq' }, { fmt: 'e5m2' }]) {
    assert.throws(() => parseQwen35Config(fp8(q)), (e: unknown) => e instanceof UnsupportedModelError && e.message.includes(Object.values(q)[0]));
  }
  // Qwen3.5 FP8 checkpoints declare it the same way.
  const qwen35 = { ...fixtureJson('qwen35-tiny-text'), quantization_config: { quant_method: 'fp8', weight_block_size: [128, 128] } };
  assert.deepEqual(parseQwen35Config(qwen35).quantization?.blockSize, [128, 128]);
});

test('missing and contradictory Qwen3-VL fields are named', () => {
  for (const field of ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'vocab_size']) {
    throwsConfig(edit(current4b(), `text_config.${field}`, undefined), `text_config.${field}`, 'missing');
  }
  throwsConfig(edit(current4b(), 'text_config', undefined), 'text_config', 'missing');
  throwsConfig(edit(current4b(), 'text_config.model_type', 'qwen3_5_text'), 'text_config.model_type', 'qwen3_vl_text');
  throwsConfig(edit(current4b(), 'text_config.num_key_value_heads', 6), 'num_attention_heads', 'num_key_value_heads');
  throwsConfig(edit(current4b(), 'text_config.rope_parameters.mrope_section', [24, 20, 21]), 'text_config.rope_parameters.mrope_section', 'head_dim / 2 = 64');
  throwsConfig(edit(published4b(), 'text_config.rope_scaling.mrope_section', [24, 20]), 'text_config.rope_scaling.mrope_section');
  throwsConfig(edit(current4b(), 'text_config.rope_parameters.rope_type', 'yarn'), 'rope_parameters.rope_type', 'yarn');
  throwsConfig(edit(published4b(), 'text_config.rope_scaling.mrope_interleaved', 'yes'), 'mrope_interleaved');
  throwsConfig(edit(published4b(), 'text_config.rope_theta', 0), 'text_config.rope_theta');
  throwsConfig(edit(current4b(), 'text_config.head_dim', 127), 'head_dim', 'even');
  throwsConfig(edit(current4b(), 'text_config.layer_types', Array(36).fill('sliding_attention')), 'text_config.layer_types[0]', 'sliding_attention');
  throwsConfig(edit(current4b(), 'vision_config.deepstack_visual_indexes', [5, 11, 24]), 'deepstack_visual_indexes', 'below depth 24');
  throwsConfig(edit(current4b(), 'vision_config.deepstack_visual_indexes', [5, 5]), 'deepstack_visual_indexes', 'distinct');
  throwsConfig(edit(edit(current4b(), 'text_config.num_hidden_layers', 2), 'vision_config.deepstack_visual_indexes', [1, 2, 3]), 'deepstack_visual_indexes', '3 levels', '2 layers');
  throwsConfig(edit(current4b(), 'vision_config.out_hidden_size', 2048), 'vision_config.out_hidden_size', '2560');
  throwsConfig(edit(current4b(), 'vision_config.model_type', 'siglip'), 'vision_config.model_type', 'siglip');
  throwsConfig(edit(current4b(), 'tie_word_embeddings', 'yes'), 'tie_word_embeddings');
  for (const [path, value] of [['text_config.attention_bias', true], ['text_config.hidden_act', 'gelu']] as const) {
    assert.throws(() => parseQwen35Config(edit(current4b(), path, value)), UnsupportedModelError, path);
  }
});
