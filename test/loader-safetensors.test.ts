import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { CheckpointError } from '../src/loader/errors.ts';
import { MemorySource } from '../src/loader/file-source.ts';
import { dtypeBytes, parseSafetensorsHeader, readSafetensorsHeader, MAX_HEADER_BYTES, type Dtype } from '../src/loader/safetensors.ts';
import { encodeSafetensors, f32Bytes, packTensors } from './helpers/safetensors.ts';

const FIXTURES = new URL('../../shared/fixtures/', import.meta.url).pathname;
const FILE = 'weights.safetensors';

function open(bytes: Uint8Array) {
  return readSafetensorsHeader(new MemorySource(new Map([[FILE, bytes]])), FILE);
}

/** Asserts a CheckpointError naming the file, whose message contains every fragment. */
async function rejectsWith(bytes: Uint8Array, ...fragments: string[]) {
  await assert.rejects(open(bytes), (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${e}`);
    assert.equal(e.file, FILE);
    assert.ok(e.message.startsWith(`${FILE}: `), e.message);
    for (const fragment of fragments) assert.ok(e.message.includes(fragment), `'${e.message}' should mention '${fragment}'`);
    return true;
  });
}

/** A header with one entry per tensor, data_offsets given explicitly. */
function withEntries(entries: Record<string, unknown>, dataBytes: number) {
  return encodeSafetensors(entries, new Uint8Array(dataBytes));
}

test('dtypeBytes covers every safetensors dtype', () => {
  const expected: Record<Dtype, number> = {
    BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
  };
  for (const [dtype, bytes] of Object.entries(expected)) assert.equal(dtypeBytes(dtype as Dtype), bytes, dtype);
});

test('parses a valid file: absolute offsets, dtypes, shapes, metadata', async () => {
  const a = f32Bytes([1, 2, 3, 4, 5, 6]);
  const b = new Uint8Array([1, 2, 3, 4]);
  const bytes = packTensors({ a: { dtype: 'F32', shape: [2, 3], data: a }, b: { dtype: 'BF16', shape: [2], data: b } }, { format: 'pt', note: 'x' });
  const header = await open(bytes);
  const headerBytes = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(header.file, FILE);
  assert.equal(header.headerBytes, headerBytes);
  assert.deepEqual(header.metadata, { format: 'pt', note: 'x' });
  assert.deepEqual(header.tensors.get('a'), { name: 'a', file: FILE, dtype: 'F32', shape: [2, 3], begin: headerBytes, end: headerBytes + 24 });
  assert.deepEqual(header.tensors.get('b'), { name: 'b', file: FILE, dtype: 'BF16', shape: [2], begin: headerBytes + 24, end: headerBytes + 28 });
  assert.deepEqual(bytes.subarray(header.tensors.get('a')!.begin, header.tensors.get('a')!.end), a);
});

test('metadata is optional; scalars and empty tensors are valid', async () => {
  const header = await open(withEntries({
    scalar: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
    empty: { dtype: 'F16', shape: [0, 8], data_offsets: [4, 4] },
    inside: { dtype: 'U8', shape: [0], data_offsets: [2, 2] },
  }, 4));
  assert.deepEqual(header.metadata, {});
  assert.equal(header.tensors.size, 3);
  assert.deepEqual(header.tensors.get('scalar')!.shape, []);
});

test('pure parser takes the two header reads directly', () => {
  const bytes = packTensors({ w: { dtype: 'I32', shape: [1], data: new Uint8Array(4) } });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = parseSafetensorsHeader(FILE, bytes.byteLength, bytes.subarray(0, 8), bytes.subarray(8, 8 + n));
  assert.equal(header.tensors.get('w')!.end, bytes.byteLength);
});

test('file shorter than 8 bytes', async () => {
  await rejectsWith(new Uint8Array(5), 'truncated', '5 bytes');
  await rejectsWith(new Uint8Array(0), 'truncated');
});

test('header length beyond the file', async () => {
  const good = packTensors({ w: { dtype: 'F32', shape: [1], data: f32Bytes([1]) } });
  await rejectsWith(encodeSafetensors({}, new Uint8Array(0), 4096n), 'header length 4096', 'past the end');
  await rejectsWith(good.subarray(0, 20), 'past the end');
});

test('absurd header length', async () => {
  await rejectsWith(encodeSafetensors({}, new Uint8Array(0), 1n << 40n), 'absurd', String(MAX_HEADER_BYTES));
  await rejectsWith(encodeSafetensors({}, new Uint8Array(0), 0xffffffffffffffffn), 'absurd');
});

test('header that is not JSON, or not a JSON object', async () => {
  await rejectsWith(encodeSafetensors('{"w": {"dtype": "F32",'), 'not valid JSON');
  await rejectsWith(encodeSafetensors('[1, 2]'), 'not a JSON object');
  await rejectsWith(encodeSafetensors('"text"'), 'not a JSON object');
  await rejectsWith(encodeSafetensors({}, new Uint8Array(0), 0n), 'not valid JSON');
});

test('tensor entries missing fields or with wrong types name the tensor', async () => {
  const cases: [unknown, string][] = [
    [7, 'entry is not an object'],
    [{ shape: [1], data_offsets: [0, 4] }, 'missing dtype'],
    [{ dtype: 'F32', data_offsets: [0, 4] }, 'missing shape'],
    [{ dtype: 'F32', shape: [1] }, 'missing data_offsets'],
    [{ dtype: 'F32', shape: [-1], data_offsets: [0, 4] }, 'non-negative integers'],
    [{ dtype: 'F32', shape: [1.5], data_offsets: [0, 4] }, 'non-negative integers'],
    [{ dtype: 'F32', shape: '1', data_offsets: [0, 4] }, 'non-negative integers'],
    [{ dtype: 'F32', shape: [1], data_offsets: [0] }, 'pair of non-negative integers'],
    [{ dtype: 'F32', shape: [1], data_offsets: [0, '4'] }, 'pair of non-negative integers'],
    [{ dtype: 'F32', shape: [1], data_offsets: [-4, 0] }, 'pair of non-negative integers'],
    [{ dtype: 'F32', shape: [0], data_offsets: [4, 0] }, 'end before they begin'],
    [{ dtype: 7, shape: [1], data_offsets: [0, 4] }, 'unknown dtype'],
  ];
  for (const [entry, problem] of cases) await rejectsWith(withEntries({ 'layers.0.w': entry }, 8), "tensor 'layers.0.w'", problem);
});

test('unknown dtype', async () => {
  await rejectsWith(withEntries({ 'q.weight': { dtype: 'Q4_K', shape: [4], data_offsets: [0, 4] } }, 4), "'q.weight'", 'unknown dtype "Q4_K"');
});

test('byte length disagreeing with shape × dtype size', async () => {
  await rejectsWith(withEntries({ 'mlp.up': { dtype: 'BF16', shape: [2, 3], data_offsets: [0, 24] } }, 24), 'shape/size mismatch', "'mlp.up'", '[2, 3] = 12 bytes', 'span 24');
});

test('offsets beyond the end of the file', async () => {
  await rejectsWith(withEntries({
    ok: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    'lm_head.weight': { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
  }, 8), "'lm_head.weight'", 'out of range');
});

test('overlapping tensors name both', async () => {
  await rejectsWith(withEntries({
    first: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
    second: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
  }, 16), "'first'", "'second'", 'overlap');
  // Overlap found even when a tensor between the two does not overlap its neighbour.
  await rejectsWith(withEntries({
    big: { dtype: 'U8', shape: [16], data_offsets: [0, 16] },
    small: { dtype: 'U8', shape: [2], data_offsets: [2, 4] },
    later: { dtype: 'U8', shape: [2], data_offsets: [8, 10] },
  }, 16), "'big'", "'small'", 'overlap');
});

test('__metadata__ must be a string-to-string map', async () => {
  await rejectsWith(encodeSafetensors({ __metadata__: { format: 1 } }), '__metadata__.format is not a string');
  await rejectsWith(encodeSafetensors({ __metadata__: ['pt'] }), '__metadata__ is not an object');
});

test('missing file', async () => {
  await assert.rejects(readSafetensorsHeader(new MemorySource(new Map()), 'absent.safetensors'), (e: unknown) =>
    e instanceof CheckpointError && e.file === 'absent.safetensors' && e.message.includes('not found'));
});

test('real fixture files parse and their tensors tile the data region', async () => {
  const dirs = readdirSync(FIXTURES).filter((d) => d.startsWith('qwen35-') && existsSync(`${FIXTURES}${d}/model.safetensors`));
  assert.ok(dirs.length >= 5, `fixtures found: ${dirs}`);
  for (const dir of dirs) {
    for (const file of ['model.safetensors', 'reference.safetensors']) {
      const bytes = new Uint8Array(readFileSync(`${FIXTURES}${dir}/${file}`));
      const header = await readSafetensorsHeader(new MemorySource(new Map([[file, bytes]])), file);
      assert.deepEqual(header.metadata, { format: 'pt' }, `${dir}/${file}`);
      const dataBytes = [...header.tensors.values()].reduce((sum, t) => sum + t.end - t.begin, 0);
      assert.equal(header.headerBytes + dataBytes, bytes.byteLength, `${dir}/${file}`);
    }
  }
});
