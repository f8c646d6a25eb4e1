import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { parseQwen35Config, type Qwen35Config } from '../src/loader/config.ts';
import { ConfigError, UnsupportedModelError } from '../src/loader/errors.ts';

const FIXTURES = new URL('../../shared/fixtures/', import.meta.url).pathname;

const L = 'linear_attention';
const F = 'full_attention';

/** The fixtures README's table, field by field. */
const EXPECTED: Record<string, Partial<Qwen35Config>> = {
  'qwen35-tiny-text': {
    modelType: 'qwen3_5_text', weightPrefix: 'model.', layerTypes: [L, L, F, L, L, F], hiddenSize: 64,
    numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, linearNumKeyHeads: 2, linearKeyHeadDim: 16,
    linearNumValueHeads: 4, linearValueHeadDim: 24, intermediateSize: 176, moe: null, vocabSize: 512, tieWordEmbeddings: true,
    rope: { theta: 1e7, partialRotaryFactor: 0.25, rotaryDim: 8, mropeSection: [2, 1, 1] }, eosTokenIds: [236], imageTokenId: null, videoTokenId: null,
  },
  'qwen35-tiny-moe': {
    modelType: 'qwen3_5_moe', weightPrefix: 'model.language_model.', layerTypes: [L, L, L, F], hiddenSize: 64,
    numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 64, linearNumKeyHeads: 2, linearKeyHeadDim: 16,
    linearNumValueHeads: 4, linearValueHeadDim: 16, intermediateSize: 0, vocabSize: 512, tieWordEmbeddings: false,
    moe: { numExperts: 8, numExpertsPerTok: 2, moeIntermediateSize: 48, sharedExpertIntermediateSize: 64 },
    rope: { theta: 1e7, partialRotaryFactor: 0.25, rotaryDim: 16, mropeSection: [3, 3, 2] }, eosTokenIds: [236], imageTokenId: 248, videoTokenId: 249,
  },
  'qwen35-tiny-vl-image': {
    modelType: 'qwen3_5', weightPrefix: 'model.language_model.', layerTypes: [L, L, L, F], hiddenSize: 64,
    numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 64, linearNumKeyHeads: 2, linearKeyHeadDim: 16,
    linearNumValueHeads: 4, linearValueHeadDim: 24, intermediateSize: 176, moe: null, vocabSize: 512, tieWordEmbeddings: true,
    rope: { theta: 1e7, partialRotaryFactor: 0.25, rotaryDim: 16, mropeSection: [3, 3, 2] }, eosTokenIds: [236], imageTokenId: 248, videoTokenId: 249,
  },
  'qwen35-realdims-2l': {
    modelType: 'qwen3_5_text', weightPrefix: 'model.', layerTypes: [L, F], hiddenSize: 1024, numLayers: 2,
    numAttentionHeads: 8, numKeyValueHeads: 2, headDim: 256, linearNumKeyHeads: 16, linearKeyHeadDim: 128,
    linearNumValueHeads: 16, linearValueHeadDim: 128, linearConvKernelDim: 4, intermediateSize: 512, moe: null, vocabSize: 2048,
    tieWordEmbeddings: true, rope: { theta: 1e7, partialRotaryFactor: 0.25, rotaryDim: 64, mropeSection: [11, 11, 10] },
    eosTokenIds: [1772], maxPositionEmbeddings: 262144, rmsNormEps: 1e-6,
  },
};
EXPECTED['qwen35-tiny-vl-video'] = EXPECTED['qwen35-tiny-vl-image'];

function fixtureConfigs(): [string, Record<string, unknown>][] {
  return readdirSync(FIXTURES)
    .filter((dir) => existsSync(`${FIXTURES}${dir}/config.json`))
    .map((dir): [string, Record<string, unknown>] => [dir, JSON.parse(readFileSync(`${FIXTURES}${dir}/config.json`, 'utf8'))])
    .filter(([, json]) => String(json.model_type).startsWith('qwen3_5'));
}

test('every Qwen3.5 fixture config parses and matches the README table', () => {
  const configs = fixtureConfigs();
  assert.ok(configs.length >= 5, `found ${configs.map(([d]) => d)}`);
  for (const [dir, json] of configs) {
    const c = parseQwen35Config(json);
    const text = (json.text_config ?? json) as Record<string, unknown>;
    // Invariants that hold for any fixture, listed in the table or not.
    assert.deepEqual(c.layerTypes, text.layer_types, dir);
    assert.equal(c.layerTypes.length, c.numLayers, dir);
    assert.equal(c.rope.mropeSection.reduce((a, b) => a + b), c.rope.rotaryDim / 2, dir);
    const expected = EXPECTED[dir];
    if (!expected) continue;
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(c[key as keyof Qwen35Config], value, `${dir}: ${key}`);
  }
});

/** A minimal text-only config; each test breaks or varies one thing. */
function textConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    model_type: 'qwen3_5_text', hidden_size: 64, num_hidden_layers: 8, num_attention_heads: 4, num_key_value_heads: 2,
    head_dim: 32, vocab_size: 512, linear_num_key_heads: 2, linear_num_value_heads: 4, linear_key_head_dim: 16,
    linear_value_head_dim: 24, intermediate_size: 176,
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

function multimodal(text: Record<string, unknown>, top: Record<string, unknown> = {}): Record<string, unknown> {
  return { model_type: 'qwen3_5', text_config: { ...text, model_type: 'qwen3_5_text' }, ...top };
}

function throwsConfig(json: unknown, ...fragments: string[]) {
  assert.throws(() => parseQwen35Config(json, 'repo/config.json'), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    assert.equal(e.file, 'repo/config.json');
    for (const fragment of fragments) assert.ok(e.message.includes(fragment), `'${e.message}' should mention '${fragment}'`);
    return true;
  });
}

test('HF defaults fill absent optional fields', () => {
  const c = parseQwen35Config(textConfig());
  assert.equal(c.rmsNormEps, 1e-6);
  assert.equal(c.linearConvKernelDim, 4);
  assert.equal(c.maxPositionEmbeddings, 32768);
  assert.equal(c.tieWordEmbeddings, false);
  assert.deepEqual(c.rope, { theta: 10000, partialRotaryFactor: 0.25, rotaryDim: 8, mropeSection: [4, 0, 0] });
  assert.deepEqual(c.eosTokenIds, []);
  assert.deepEqual(c.layerTypes, [L, L, L, F, L, L, L, F]);
});

test('without layer_types, full_attention_interval sets the pattern', () => {
  assert.deepEqual(parseQwen35Config(textConfig({ num_hidden_layers: 5, full_attention_interval: 2 })).layerTypes, [L, F, L, F, L]);
});

test('layer_types is authoritative over full_attention_interval', () => {
  const types = [F, L, L, L, L, F, F, L];
  assert.deepEqual(parseQwen35Config(textConfig({ layer_types: types, full_attention_interval: 4 })).layerTypes, types);
});

test('missing or non-positive required fields are named', () => {
  for (const field of ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'vocab_size',
    'linear_num_key_heads', 'linear_num_value_heads', 'linear_key_head_dim', 'linear_value_head_dim', 'intermediate_size']) {
    throwsConfig(textConfig({ [field]: undefined }), field, 'missing');
    throwsConfig(textConfig({ [field]: 0 }), field, 'positive integer');
  }
  throwsConfig(textConfig({ hidden_size: 64.5 }), 'hidden_size');
  throwsConfig(textConfig({ hidden_size: '64' }), 'hidden_size');
  throwsConfig(multimodal(textConfig({ head_dim: undefined })), 'text_config.head_dim', 'missing');
  throwsConfig({ model_type: 'qwen3_5' }, 'text_config', 'missing');
});

test('MoE fields are required and checked for MoE model types', () => {
  const moe = { model_type: 'qwen3_5_moe_text', num_experts: 8, num_experts_per_tok: 2, moe_intermediate_size: 48, shared_expert_intermediate_size: 64 };
  const c = parseQwen35Config(textConfig({ ...moe, intermediate_size: undefined }));
  assert.deepEqual(c.moe, { numExperts: 8, numExpertsPerTok: 2, moeIntermediateSize: 48, sharedExpertIntermediateSize: 64 });
  assert.equal(c.intermediateSize, 0);
  for (const field of ['num_experts', 'num_experts_per_tok', 'moe_intermediate_size', 'shared_expert_intermediate_size']) {
    throwsConfig(textConfig({ ...moe, [field]: undefined }), field, 'missing');
  }
  throwsConfig(textConfig({ ...moe, num_experts_per_tok: 9 }), 'num_experts_per_tok', 'exceeds num_experts');
});

test('layer_types of the wrong length or with unknown entries', () => {
  throwsConfig(textConfig({ layer_types: [L, L, L, F] }), 'layer_types', '4 entries', 'num_hidden_layers is 8');
  throwsConfig(textConfig({ layer_types: [L, L, L, 'sliding_attention', L, L, L, F] }), 'layer_types[3]', 'sliding_attention');
  throwsConfig(textConfig({ layer_types: 'LLLF' }), 'layer_types', 'list');
});

test('inconsistent head counts', () => {
  throwsConfig(textConfig({ num_attention_heads: 6, num_key_value_heads: 4 }), 'num_attention_heads', 'num_key_value_heads');
  throwsConfig(textConfig({ linear_num_key_heads: 3, linear_num_value_heads: 4 }), 'linear_num_value_heads', 'linear_num_key_heads');
});

test('rope_parameters: sections, rotary dim rounding, rope_type', () => {
  const rope = (params: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    textConfig({ rope_parameters: { rope_type: 'default', rope_theta: 1e6, ...params }, ...extra });
  assert.deepEqual(parseQwen35Config(rope({ partial_rotary_factor: 0.5, mrope_section: [3, 3, 2] })).rope, { theta: 1e6, partialRotaryFactor: 0.5, rotaryDim: 16, mropeSection: [3, 3, 2] });
  // floor(36 · 0.25) = 9, rounded down to even.
  assert.equal(parseQwen35Config(rope({}, { head_dim: 36 })).rope.rotaryDim, 8);
  throwsConfig(rope({ mrope_section: [3, 3, 3] }), 'mrope_section', 'summing to rotary_dim / 2 = 4');
  throwsConfig(rope({ mrope_section: [2, 2] }), 'rope_parameters.mrope_section');
  throwsConfig(rope({ mrope_section: [5, -1, 0] }), 'mrope_section');
  throwsConfig(rope({ mrope_section: [2.5, 1.5, 0] }), 'mrope_section');
  throwsConfig(rope({ rope_type: 'yarn' }), 'rope_parameters.rope_type', 'yarn');
  throwsConfig(rope({ partial_rotary_factor: 1.5 }), 'partial_rotary_factor');
  throwsConfig(rope({ rope_theta: -1 }), 'rope_theta');
});

test('older rope form: top-level rope_theta and partial_rotary_factor, rope_scaling sections', () => {
  const c = parseQwen35Config(textConfig({ rope_theta: 5e6, partial_rotary_factor: 0.5, rope_scaling: { type: 'mrope', mrope_section: [4, 2, 2] } }));
  assert.deepEqual(c.rope, { theta: 5e6, partialRotaryFactor: 0.5, rotaryDim: 16, mropeSection: [4, 2, 2] });
  throwsConfig(textConfig({ rope_scaling: { type: 'linear', factor: 2 } }), 'rope_scaling.type', 'linear');
});

test('tie_word_embeddings: top level wins in the multimodal form', () => {
  assert.equal(parseQwen35Config(multimodal(textConfig({ tie_word_embeddings: true }), { tie_word_embeddings: false })).tieWordEmbeddings, false);
  assert.equal(parseQwen35Config(multimodal(textConfig({ tie_word_embeddings: false }), { tie_word_embeddings: true })).tieWordEmbeddings, true);
  assert.equal(parseQwen35Config(multimodal(textConfig({ tie_word_embeddings: true }))).tieWordEmbeddings, true);
  throwsConfig(textConfig({ tie_word_embeddings: 'yes' }), 'tie_word_embeddings');
});

test('eos_token_id: number, list or null, from the text settings then the top level', () => {
  assert.deepEqual(parseQwen35Config(textConfig({ eos_token_id: 7 })).eosTokenIds, [7]);
  assert.deepEqual(parseQwen35Config(textConfig({ eos_token_id: [7, 9] })).eosTokenIds, [7, 9]);
  assert.deepEqual(parseQwen35Config(textConfig({ eos_token_id: null })).eosTokenIds, []);
  assert.deepEqual(parseQwen35Config(multimodal(textConfig({ eos_token_id: 3 }), { eos_token_id: 5 })).eosTokenIds, [3]);
  assert.deepEqual(parseQwen35Config(multimodal(textConfig(), { eos_token_id: [5] })).eosTokenIds, [5]);
  throwsConfig(textConfig({ eos_token_id: 'x' }), 'eos_token_id');
});

test('multimodal placeholders come from the top level; the text form has none', () => {
  const c = parseQwen35Config(multimodal(textConfig(), { image_token_id: 248, video_token_id: 249 }));
  assert.equal(c.imageTokenId, 248);
  assert.equal(c.videoTokenId, 249);
  assert.equal(c.weightPrefix, 'model.language_model.');
  const t = parseQwen35Config(textConfig({ image_token_id: 248 }));
  assert.equal(t.imageTokenId, null);
  assert.equal(t.weightPrefix, 'model.');
});

test('other model types are unsupported, naming the type', () => {
  for (const modelType of ['llama', 'qwen2_vl', 'qwen3_next']) {
    assert.throws(() => parseQwen35Config(textConfig({ model_type: modelType })), (e: unknown) => e instanceof UnsupportedModelError && e.message.includes(modelType));
  }
  assert.throws(() => parseQwen35Config(textConfig({ model_type: undefined })), (e: unknown) => e instanceof UnsupportedModelError && e.message.includes('model_type'));
  throwsConfig([1, 2], 'not a JSON object');
});
