// <qwen-chat>'s weights and memory-budget attributes: what each accepts, and the errors that
// explain a value it ignores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMemoryBudget, parseWeights } from '../src/embed/load-settings.ts';

const bytes = (text: string | null) => {
  const parsed = parseMemoryBudget(text);
  assert.ok(parsed.ok, `${text}: ${parsed.ok ? '' : parsed.error}`);
  return parsed.value;
};

test('memory-budget: plain bytes, decimal and binary units, any case and spacing', () => {
  assert.equal(bytes('8000000000'), 8e9);
  assert.equal(bytes('8GiB'), 8 * 2 ** 30);
  assert.equal(bytes('6 GB'), 6e9);
  assert.equal(bytes('512MiB'), 512 * 2 ** 20);
  assert.equal(bytes(' 512 mib '), 512 * 2 ** 20);
  assert.equal(bytes('1.5GiB'), 1.5 * 2 ** 30);
  assert.equal(bytes('.5 KiB'), 512);
  assert.equal(bytes('8Gi'), 8 * 2 ** 30);
  assert.equal(bytes('8G'), 8e9);
  assert.equal(bytes('2TB'), 2e12);
  assert.equal(bytes('300 kB'), 300_000);
  assert.equal(bytes('1024 B'), 1024);
  assert.equal(bytes('4e9'), 4e9);
  assert.equal(bytes('2.5e3'), 2500);
  assert.equal(bytes('1000.7'), 1000, 'fractions of a byte are dropped');
});

test('memory-budget: absent or empty means no budget', () => {
  assert.equal(bytes(null), null);
  assert.equal(bytes(''), null);
  assert.equal(bytes('   '), null);
});

test('memory-budget: what is not a size is an error that names the value and shows the forms', () => {
  for (const text of ['eight gigs', '8 GiBs', '8 PB', 'GiB', '-1GiB', '8,5 GiB', '0x100', 'Infinity', 'NaN', '8 GiB 2', '1e-3']) {
    const parsed = parseMemoryBudget(text);
    assert.equal(parsed.ok, false, text);
    if (!parsed.ok) {
      assert.ok(parsed.error.includes(`"${text}"`), parsed.error);
      assert.match(parsed.error, /8GiB/);
    }
  }
  for (const text of ['0', '0 GiB', '0.0000001 B']) {
    const parsed = parseMemoryBudget(text);
    assert.deepEqual(parsed, { ok: false, error: `memory-budget="${text}" must be more than 0 bytes` });
  }
});

test('weights: f16 by default, q8 and q4, any case; anything else is an error listing the choices', () => {
  assert.deepEqual(parseWeights(null), { ok: true, value: 'f16' });
  assert.deepEqual(parseWeights(''), { ok: true, value: 'f16' });
  assert.deepEqual(parseWeights('q4'), { ok: true, value: 'q4' });
  assert.deepEqual(parseWeights(' Q8 '), { ok: true, value: 'q8' });
  assert.deepEqual(parseWeights('F16'), { ok: true, value: 'f16' });
  for (const text of ['q2', 'f32', 'int4', '4']) assert.deepEqual(parseWeights(text), { ok: false, error: `weights="${text}" is not one of f16, q8, q4` });
});
