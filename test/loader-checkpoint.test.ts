import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { openCheckpoint, INDEX_FILE, SINGLE_FILE, type Checkpoint } from '../src/loader/checkpoint.ts';
import { parseQwen35Config } from '../src/loader/config.ts';
import { AbortError, CheckpointError } from '../src/loader/errors.ts';
import { MemorySource } from '../src/loader/file-source.ts';
import { isSkippedForText, textWeightNames } from '../src/loader/names.ts';
import { f32Bytes, packTensors, type TensorData } from './helpers/safetensors.ts';

const FIXTURES = new URL('../../shared/fixtures/', import.meta.url).pathname;
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

function source(files: Record<string, Uint8Array>) {
  return new MemorySource(new Map(Object.entries(files)));
}

/** Asserts a CheckpointError naming `file`, whose message contains every fragment. */
async function rejectsWith(promise: Promise<unknown>, file: string, ...fragments: string[]) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${e}`);
    assert.equal(e.file, file);
    for (const fragment of fragments) assert.ok(e.message.includes(fragment), `'${e.message}' should mention '${fragment}'`);
    return true;
  });
}

const small: Record<string, TensorData> = {
  'a.weight': { dtype: 'F32', shape: [5, 3], data: f32Bytes(Array.from({ length: 15 }, (_, i) => i)) },
  'b.weight': { dtype: 'BF16', shape: [2, 2, 2], data: new Uint8Array(16).map((_, i) => i) },
  'c.bias': { dtype: 'F32', shape: [3], data: f32Bytes([7, 8, 9]) },
};

function fixtureFiles(dir: string): Record<string, Uint8Array> {
  return {
    'config.json': new Uint8Array(readFileSync(`${FIXTURES}${dir}/config.json`)),
    [SINGLE_FILE]: new Uint8Array(readFileSync(`${FIXTURES}${dir}/${SINGLE_FILE}`)),
  };
}

async function collectRows(checkpoint: Checkpoint, name: string, maxChunkBytes: number) {
  const chunks = [];
  for await (const chunk of checkpoint.readTensorRows(name, maxChunkBytes)) chunks.push(chunk);
  return chunks;
}

test('single file: lookup, raw bytes, missing tensor', async () => {
  const checkpoint = await openCheckpoint(source({ [SINGLE_FILE]: packTensors(small) }));
  assert.deepEqual(checkpoint.names().sort(), ['a.weight', 'b.weight', 'c.bias']);
  assert.ok(checkpoint.has('c.bias') && !checkpoint.has('d'));
  assert.equal(checkpoint.get('b.weight').dtype, 'BF16');
  assert.deepEqual(await checkpoint.readTensor('c.bias'), small['c.bias'].data);
  assert.throws(() => checkpoint.get('lm_head.weight'), (e: unknown) =>
    e instanceof CheckpointError && e.file === SINGLE_FILE && e.message.includes('missing tensor lm_head.weight'));
  await rejectsWith(checkpoint.readTensor('nope'), SINGLE_FILE, 'missing tensor nope');
});

test('neither model.safetensors nor the index: the error names both', async () => {
  await rejectsWith(openCheckpoint(source({ 'config.json': json({}) })), SINGLE_FILE, SINGLE_FILE, INDEX_FILE, 'not found');
});

test('a damaged single file is reported by name', async () => {
  await rejectsWith(openCheckpoint(source({ [SINGLE_FILE]: new Uint8Array(3) })), SINGLE_FILE, 'truncated');
});

test('readTensorRows streams whole rows in bounded chunks', async () => {
  const checkpoint = await openCheckpoint(source({ [SINGLE_FILE]: packTensors(small) }));
  // 12-byte rows, 24-byte budget → 2 rows per chunk.
  const chunks = await collectRows(checkpoint, 'a.weight', 24);
  assert.deepEqual(chunks.map(({ rowStart, rows }) => [rowStart, rows]), [[0, 2], [2, 2], [4, 1]]);
  assert.deepEqual(Buffer.concat(chunks.map((c) => c.bytes)), Buffer.from(small['a.weight'].data));
  // A budget below one row still makes progress, one row at a time.
  assert.deepEqual((await collectRows(checkpoint, 'a.weight', 5)).map((c) => c.rows), [1, 1, 1, 1, 1]);
  // A row of a 3-D tensor is everything after the first dim: 2 × 2 BF16 = 8 bytes.
  const rows3d = await collectRows(checkpoint, 'b.weight', 8);
  assert.deepEqual(rows3d.map((c) => [c.rowStart, c.rows, c.bytes.byteLength]), [[0, 1, 8], [1, 1, 8]]);
  assert.deepEqual((await collectRows(checkpoint, 'c.bias', 1 << 20)).map((c) => c.rows), [3]);
});

test('readTensorRows stops when aborted', async () => {
  const checkpoint = await openCheckpoint(source({ [SINGLE_FILE]: packTensors(small) }));
  const controller = new AbortController();
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const chunk of checkpoint.readTensorRows('a.weight', 12, controller.signal)) {
      seen.push(chunk.rowStart);
      controller.abort();
    }
  }, AbortError);
  assert.deepEqual(seen, [0]);
});

test('expectShape: match, shape/size mismatch, wrong dtype', async () => {
  const checkpoint = await openCheckpoint(source({ [SINGLE_FILE]: packTensors(small) }));
  assert.equal(checkpoint.expectShape('a.weight', [5, 3], ['F32']).name, 'a.weight');
  assert.throws(() => checkpoint.expectShape('a.weight', [3, 5]), (e: unknown) =>
    e instanceof CheckpointError && e.message.includes('shape/size mismatch: a.weight is [5, 3] but config.json implies [3, 5]'));
  assert.throws(() => checkpoint.expectShape('c.bias', [3, 1]), /shape\/size mismatch: c.bias is \[3\]/);
  assert.throws(() => checkpoint.expectShape('b.weight', [2, 2, 2], ['F16', 'F32']), (e: unknown) =>
    e instanceof CheckpointError && e.message.includes('b.weight has dtype BF16; expected F16 or F32'));
  assert.throws(() => checkpoint.expectShape('absent', [1]), /missing tensor absent/);
});

/** Splits tensors into two shards by the predicate, with a matching index. */
function shard(tensors: Record<string, TensorData>, inFirst: (name: string) => boolean) {
  const first = Object.fromEntries(Object.entries(tensors).filter(([n]) => inFirst(n)));
  const second = Object.fromEntries(Object.entries(tensors).filter(([n]) => !inFirst(n)));
  const names = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const weightMap: Record<string, string> = {};
  for (const n of Object.keys(first)) weightMap[n] = names[0];
  for (const n of Object.keys(second)) weightMap[n] = names[1];
  const files: Record<string, Uint8Array> = { [names[0]]: packTensors(first), [names[1]]: packTensors(second), [INDEX_FILE]: json({ metadata: {}, weight_map: weightMap }) };
  return { files, weightMap, names };
}

test('sharded: a real fixture split into two shards reads back identically', async () => {
  const files = fixtureFiles('qwen35-tiny-text');
  const single = await openCheckpoint(source(files));
  const tensors: Record<string, TensorData> = {};
  for (const name of single.names()) {
    const info = single.get(name);
    tensors[name] = { dtype: info.dtype, shape: info.shape, data: await single.readTensor(name) };
  }
  const { files: shards, weightMap, names } = shard(tensors, (n) => /layers\.[0-2]\./.test(n) || n.includes('embed'));
  const sharded = await openCheckpoint(source({ 'config.json': files['config.json'], ...shards }));
  assert.deepEqual(sharded.names().sort(), single.names().sort());
  for (const name of single.names()) {
    const info = sharded.get(name);
    assert.equal(info.file, weightMap[name]);
    assert.deepEqual({ ...info, file: '', begin: 0, end: 0 }, { ...single.get(name), file: '', begin: 0, end: 0 });
    assert.deepEqual(await sharded.readTensor(name), tensors[name].data, name);
  }
  assert.ok(new Set(Object.values(weightMap)).size === 2 && names.every((n) => Object.values(weightMap).includes(n)));
  // Missing tensors of a sharded checkpoint are reported against the index.
  assert.throws(() => sharded.get('lm_head.weight'), (e: unknown) => e instanceof CheckpointError && e.file === INDEX_FILE);
  // Chunked reads cross nothing: rows come from the right shard.
  const embed = 'model.embed_tokens.weight';
  const rows = await collectRows(sharded, embed, 1000);
  assert.deepEqual(Buffer.concat(rows.map((c) => c.bytes)), Buffer.from(tensors[embed].data));
});

test('sharded: the index names a shard that does not hold the tensor', async () => {
  const { files, weightMap, names } = shard(small, (n) => n === 'a.weight');
  files[INDEX_FILE] = json({ weight_map: { ...weightMap, 'c.bias': names[0] } });
  await rejectsWith(openCheckpoint(source(files)), INDEX_FILE, 'c.bias', names[0], `it is in ${names[1]}`);
  files[INDEX_FILE] = json({ weight_map: { ...weightMap, 'ghost.weight': names[1] } });
  await rejectsWith(openCheckpoint(source(files)), INDEX_FILE, 'ghost.weight', 'does not have it');
});

test('sharded: a tensor duplicated across shards', async () => {
  const { files, names } = shard(small, (n) => n !== 'c.bias');
  files[names[1]] = packTensors({ 'c.bias': small['c.bias'], 'a.weight': small['a.weight'] });
  await rejectsWith(openCheckpoint(source(files)), names[1], 'a.weight', names[0]);
});

test('sharded: a missing shard, and a malformed index', async () => {
  const { files, names } = shard(small, (n) => n === 'a.weight');
  delete files[names[1]];
  await rejectsWith(openCheckpoint(source(files)), names[1], 'not found');
  await rejectsWith(openCheckpoint(source({ [INDEX_FILE]: json({ metadata: {} }) })), INDEX_FILE, 'weight_map');
  await rejectsWith(openCheckpoint(source({ [INDEX_FILE]: json({ weight_map: { a: 3 } }) })), INDEX_FILE, 'a', 'not a file name');
  await rejectsWith(openCheckpoint(source({ [INDEX_FILE]: new TextEncoder().encode('{"weight_map":') })), INDEX_FILE, 'not valid JSON');
});

test('every fixture checkpoint holds each tensor names.ts lists, with the shape config.json implies', async () => {
  const dirs = readdirSync(FIXTURES).filter((d) => d.startsWith('qwen35-') && existsSync(`${FIXTURES}${d}/${SINGLE_FILE}`));
  for (const required of ['qwen35-tiny-text', 'qwen35-realdims-2l', 'qwen35-tiny-vl-image']) assert.ok(dirs.includes(required), required);
  for (const dir of dirs) {
    const files = fixtureFiles(dir);
    const config = parseQwen35Config(JSON.parse(new TextDecoder().decode(files['config.json'])));
    const checkpoint = await openCheckpoint(source(files));
    const names = textWeightNames(config);
    for (const [name, shape] of names.expectedShapes) {
      // A_log and the delta-rule norm are float32 in the published checkpoints; everything else BF16.
      const dtype = /linear_attn\.(A_log|norm\.weight)$/.test(name) ? 'F32' : 'BF16';
      checkpoint.expectShape(name, shape, [dtype]);
    }
    // The table covers the checkpoint: every text tensor is used, and nothing else is.
    const unused = checkpoint.names().filter((n) => !isSkippedForText(n) && !names.expectedShapes.has(n));
    assert.deepEqual(unused, [], dir);
    assert.equal(names.layers.length, config.numLayers);
    names.layers.forEach((layer, i) => assert.equal(layer.mixer.kind, config.layerTypes[i], `${dir} layer ${i}`));
    assert.equal(names.lmHead === names.embed, config.tieWordEmbeddings, dir);
    assert.equal(checkpoint.names().some((n) => n.startsWith('model.visual.')), config.imageTokenId !== null, dir);
  }
});

test('names.ts: fixed names and shapes for one layer of each kind', () => {
  const config = parseQwen35Config(JSON.parse(readFileSync(`${FIXTURES}qwen35-tiny-moe/config.json`, 'utf8')));
  const names = textWeightNames(config);
  const shape = (n: string) => names.expectedShapes.get(n);
  const P = 'model.language_model.layers.';
  assert.deepEqual(names.layers[0].mixer, {
    kind: 'linear_attention', inProjQkv: `${P}0.linear_attn.in_proj_qkv.weight`, inProjZ: `${P}0.linear_attn.in_proj_z.weight`,
    inProjB: `${P}0.linear_attn.in_proj_b.weight`, inProjA: `${P}0.linear_attn.in_proj_a.weight`, conv1d: `${P}0.linear_attn.conv1d.weight`,
    dtBias: `${P}0.linear_attn.dt_bias`, aLog: `${P}0.linear_attn.A_log`, norm: `${P}0.linear_attn.norm.weight`, outProj: `${P}0.linear_attn.out_proj.weight`,
  });
  assert.deepEqual(shape(`${P}0.linear_attn.conv1d.weight`), [128, 1, 4]);
  assert.deepEqual(names.layers[3].mlp, {
    kind: 'moe', router: `${P}3.mlp.gate.weight`, expertsGateUp: `${P}3.mlp.experts.gate_up_proj`, expertsDown: `${P}3.mlp.experts.down_proj`,
    sharedGate: `${P}3.mlp.shared_expert.gate_proj.weight`, sharedUp: `${P}3.mlp.shared_expert.up_proj.weight`,
    sharedDown: `${P}3.mlp.shared_expert.down_proj.weight`, sharedExpertGate: `${P}3.mlp.shared_expert_gate.weight`,
  });
  assert.deepEqual(shape(`${P}3.mlp.experts.gate_up_proj`), [8, 96, 64]);
  assert.deepEqual(shape(`${P}3.self_attn.q_proj.weight`), [512, 64]);
  assert.equal(names.lmHead, 'lm_head.weight');
  assert.ok(isSkippedForText('mtp.layers.0.mlp.gate.weight') && isSkippedForText('model.visual.blocks.0.attn.qkv.weight'));
  assert.ok(!isSkippedForText('model.language_model.norm.weight') && !isSkippedForText('lm_head.weight'));
});
