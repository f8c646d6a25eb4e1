import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatMemory } from '../src/embed/format.ts';

test('download sizes in decimal units, GPU memory in binary units, as the card shows them', () => {
  assert.deepEqual([999, 842_000, 1.5e9, 12.3e12, NaN].map(formatBytes), ['999 B', '842 kB', '1.5 GB', '12 TB', '–']);
  assert.deepEqual([1023, 5.57 * 2 ** 20, 64.8 * 2 ** 30, 2 ** 50, Infinity].map(formatMemory), ['1023 B', '5.57 MiB', '64.8 GiB', '1024.0 TiB', '–']);
});
