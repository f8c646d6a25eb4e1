// The bench's copy yardstick must copy exactly what it claims to, in every shape, or its bandwidth means nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readBuffer } from '../src/gpu/buffers.ts';
import { ProgramBuilder } from '../src/gpu/program.ts';
import { COPY_SHAPES, Copy } from '../src/kernels/copy.ts';
import { run, testContext, upload } from './helpers/gpu.ts';

test('copy: every shape copies exactly n units and nothing past them (odd and round sizes)', async () => {
  const ctx = await testContext();
  for (const shape of [...COPY_SHAPES, { wg: 4, vecs: 3, contiguous: true }, { wg: 4, vecs: 3, contiguous: false }]) {
    const copy = await Copy.create(ctx, shape);
    for (const units of [1, 7, 64, 1001, 4096]) {
      const data = Uint32Array.from({ length: (units + 1) * 4 }, (_, i) => (i * 2654435761) >>> 0);
      const src = upload(ctx, data, 'src');
      const dst = upload(ctx, new Uint32Array(data.length).fill(0xdeadbeef), 'dst');
      await run(ctx, (b: ProgramBuilder) => copy.record(b, src, dst, units * 16));
      const got = new Uint32Array(await readBuffer(ctx.device, dst));
      const what = `${JSON.stringify(shape)} × ${units}`;
      assert.deepEqual(got.subarray(0, units * 4), data.subarray(0, units * 4), what);
      assert.ok(got.subarray(units * 4).every((w) => w === 0xdeadbeef), `${what}: the unit after n is untouched`);
    }
  }
  ctx.pool.destroyAll();
});

test('copy: more units than one grid row of workgroups spans a 2-D grid', async () => {
  const ctx = await testContext();
  const copy = await Copy.create(ctx, { wg: 1, vecs: 1, contiguous: false });
  const units = 65535 + 9;
  const data = Uint32Array.from({ length: units * 4 }, (_, i) => i);
  const dst = upload(ctx, new Uint32Array(data.length), 'dst');
  await run(ctx, (b: ProgramBuilder) => copy.record(b, upload(ctx, data, 'src'), dst, units * 16));
  assert.deepEqual(new Uint32Array(await readBuffer(ctx.device, dst)), data);
  ctx.pool.destroyAll();
});
