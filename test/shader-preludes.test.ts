// The f16-arithmetic kernels cannot run here (no adapter on this machine offers shader-f16), so
// this pins what can be pinned: every kernel written against `F` assembles for f16 from the very
// source the f32 tests run, differing only in the generated prelude, and that prelude is the
// WGSL the f16 path needs (the enable directive, the alias, half loads by bitcast).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import gemvSource from '../shaders/matmul_gemv.wgsl?raw';
import tiledSource from '../shaders/matmul_tiled.wgsl?raw';
import directSource from '../shaders/matmul_tiled_direct.wgsl?raw';
import embedSource from '../shaders/embed.wgsl?raw';
import moeGemvGateUpSource from '../shaders/moe_gemv_gate_up.wgsl?raw';
import moeGemvDownSource from '../shaders/moe_gemv_down.wgsl?raw';
import moeTiledGateUpSource from '../shaders/moe_matmul_gate_up.wgsl?raw';
import moeTiledDownSource from '../shaders/moe_matmul_down.wgsl?raw';
import moeDirectGateUpSource from '../shaders/moe_matmul_gate_up_direct.wgsl?raw';
import moeDirectDownSource from '../shaders/moe_matmul_down_direct.wgsl?raw';
import { GpuContext, type KernelSpec } from '../src/gpu/context.ts';
import { ParamLayout } from '../src/gpu/params.ts';
import { SHADER_LIBS } from '../src/gpu/shader-libs.ts';
import { WEIGHT_FORMATS } from '../src/gpu/weight-formats.ts';

/** Enough of a device for GpuContext to assemble shaders (it compiles nothing here). */
function fakeDevice(features: string[]): GPUDevice {
  return { features: new Set(features), limits: { maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 1 << 30 } } as unknown as GPUDevice;
}

const PARAMS = new ParamLayout('Params', { T: 'u32' });
const KERNELS: [string, string, Record<string, number>][] = [
  ['matmul_gemv', gemvSource, { WG: 64, LANES: 4, ACCUMULATE: 0, NORM: 1, GLU: 1 }],
  ['matmul_tiled', tiledSource, { ACCUMULATE: 1, NORM: 1, GLU: 0 }],
  ['matmul_tiled_direct', directSource, { WG: 64, ACCUMULATE: 0, NORM: 1, GLU: 1 }],
  ['embed', embedSource, { WG: 64 }],
  ['moe_gemv_gate_up', moeGemvGateUpSource, { WG: 64, LANES: 4, OUTS: 8 }],
  ['moe_gemv_down', moeGemvDownSource, { WG: 64, LANES: 4, ROWS: 16 }],
  ['moe_matmul_gate_up', moeTiledGateUpSource, { TM: 16 }],
  ['moe_matmul_down', moeTiledDownSource, { TM: 16 }],
  ['moe_matmul_gate_up_direct', moeDirectGateUpSource, { WG: 64 }],
  ['moe_matmul_down_direct', moeDirectDownSource, { WG: 64 }],
];

test('f16-arithmetic kernels are the f32 sources with another prelude', () => {
  // barrierFree: the CPU adapters' shift-free q8/q4 decode must assemble for f16 too.
  for (const barrierFree of [false, true]) {
    const f32 = new GpuContext(fakeDevice(['subgroups']), 'f16', SHADER_LIBS, undefined, { barrierFree });
    const f16 = new GpuContext(fakeDevice(['subgroups', 'shader-f16']), 'f16', SHADER_LIBS, undefined, { arith: 'f16', barrierFree });
    for (const [name, source, consts] of KERNELS) {
      for (const format of WEIGHT_FORMATS) {
        const spec: KernelSpec = { name, source, params: PARAMS, consts, weights: { format, groupSize: format === 'q8' || format === 'q4' ? 64 : 0 } };
        const a = f32.assemble(spec).split('\n');
        const b = f16.assemble(spec).split('\n');
        const label = `${name} ${format}`;
        assert.equal(b[0], 'enable f16;', `${label}: enables f16 first`);
        assert.ok(!a.some((l) => /\bf16\b/.test(l.replace(/\/\/.*$/, ''))), `${label}: the f32 variant uses no f16 type outside comments`);
        assert.ok(f16.keyOf(spec).includes('f16x') && !f32.keyOf(spec).includes('f16x'), `${label}: distinct pipeline keys`);
        // Line by line, after the enables: only the key comment, the alias and the half loads differ.
        const start = (lines: string[]) => lines.findIndex((l) => l.endsWith('(generated prelude)'));
        const [x0, y0] = [a.slice(start(a)), b.slice(start(b))];
        assert.equal(y0.length, x0.length, `${label}: same line count after the enables`);
        const differing = x0.map((line, i) => [line, y0[i]]).filter(([x, y]) => x !== y);
        for (const [x, y] of differing) {
          const allowed = (x.startsWith('// ') && y.startsWith('// ')) || (x === 'alias F = f32;' && y === 'alias F = f16;') || (x.startsWith('fn h4(') && y.includes('bitcast<vec2<f16>>'));
          assert.ok(allowed, `${label}: unexpected difference\n  f32: ${x}\n  f16: ${y}`);
        }
        assert.ok(differing.some(([x]) => x === 'alias F = f32;'), `${label}: switches F`);
      }
    }
  }
});

test('an f16 context needs a device with shader-f16', () => {
  assert.throws(() => new GpuContext(fakeDevice([]), 'f16', SHADER_LIBS, undefined, { arith: 'f16' }), /shader-f16/);
});
