import type { WeightFormat } from './weight-formats.ts';

/**
 * Generated WGSL preludes: one kernel source serves every weight format and both arithmetic types.
 *
 * `F` is the kernels' arithmetic type: f32 on every adapter, f16 where the device has shader-f16.
 * Kernels written against F multiply in F and accumulate across 32-value units in f32.
 *
 * The weight prelude decodes one *unit* (32 consecutive values of a stored row) into a `WUnit`:
 * eight vec4<F> of codes or values and the scale that multiplies them. It reads the kernel's own
 * `w: array<WWord>` and `scales: array<u32>` bindings (declared by every kernel that includes a
 * format; unquantized formats never read `scales`). `at` indexes `w` (row start + unit ×
 * UNIT_WORDS), `scale_row` is the row's first scale word and `u` the unit within the row.
 */
export type ShaderArith = 'f32' | 'f16';

export function arithPrelude(arith: ShaderArith): string {
  return `alias F = ${arith};\n`;
}

const UNIT_STRUCT = `struct WUnit { c0: vec4<F>, c1: vec4<F>, c2: vec4<F>, c3: vec4<F>, c4: vec4<F>, c5: vec4<F>, c6: vec4<F>, c7: vec4<F>, scale: F }
`;

// Scales are f16, two per word; group g of a row is the low (even g) or high half of word g / 2.
const SCALE_FN = `fn w_scale(scale_row: u32, u: u32) -> F {
  let g = u / GROUP_UNITS;
  let s = unpack2x16float(scales[scale_row + (g >> 1u)]);
  return F(select(s.x, s.y, (g & 1u) == 1u));
}
`;

const HALF4: Record<ShaderArith, string> = {
  f32: 'fn h4(a: u32, b: u32) -> vec4<F> { return vec4<F>(unpack2x16float(a), unpack2x16float(b)); }\n',
  f16: 'fn h4(a: u32, b: u32) -> vec4<F> { return vec4<F>(bitcast<vec2<f16>>(a), bitcast<vec2<f16>>(b)); }\n',
};

const BODY: Record<WeightFormat, (arith: ShaderArith) => string> = {
  f32: () => `alias WWord = vec4<f32>;
const UNIT_WORDS: u32 = 8u;
fn w_unit(at: u32, scale_row: u32, u: u32) -> WUnit {
  return WUnit(vec4<F>(w[at]), vec4<F>(w[at + 1u]), vec4<F>(w[at + 2u]), vec4<F>(w[at + 3u]),
               vec4<F>(w[at + 4u]), vec4<F>(w[at + 5u]), vec4<F>(w[at + 6u]), vec4<F>(w[at + 7u]), F(1.0));
}
`,
  f16: (arith) => `alias WWord = vec4<u32>;
const UNIT_WORDS: u32 = 4u;
${HALF4[arith]}fn w_unit(at: u32, scale_row: u32, u: u32) -> WUnit {
  let p0 = w[at]; let p1 = w[at + 1u]; let p2 = w[at + 2u]; let p3 = w[at + 3u];
  return WUnit(h4(p0.x, p0.y), h4(p0.z, p0.w), h4(p1.x, p1.y), h4(p1.z, p1.w),
               h4(p2.x, p2.y), h4(p2.z, p2.w), h4(p3.x, p3.y), h4(p3.z, p3.w), F(1.0));
}
`,
  // Signed bytes, sign-extended by an arithmetic shift: exact integers in f16 as in f32.
  q8: () => `alias WWord = vec4<u32>;
const UNIT_WORDS: u32 = 2u;
${SCALE_FN}fn q8(p: u32) -> vec4<F> { return vec4<F>(bitcast<vec4<i32>>(vec4<u32>(p) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u)); }
fn w_unit(at: u32, scale_row: u32, u: u32) -> WUnit {
  let a = w[at]; let b = w[at + 1u];
  return WUnit(q8(a.x), q8(a.y), q8(a.z), q8(a.w), q8(b.x), q8(b.y), q8(b.z), q8(b.w), w_scale(scale_row, u));
}
`,
  // Low nibbles of the four bytes are columns 0..3 of the word, high nibbles 4..7 (weight-formats.ts).
  q4: () => `alias WWord = vec4<u32>;
const UNIT_WORDS: u32 = 1u;
${SCALE_FN}fn q4(p: u32) -> vec4<F> { return vec4<F>(vec4<i32>((vec4<u32>(p) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(15u)) - vec4<i32>(8)); }
fn w_unit(at: u32, scale_row: u32, u: u32) -> WUnit {
  let p = w[at];
  return WUnit(q4(p.x), q4(p.x >> 4u), q4(p.y), q4(p.y >> 4u), q4(p.z), q4(p.z >> 4u), q4(p.w), q4(p.w >> 4u), w_scale(scale_row, u));
}
`,
};

export function formatPrelude(format: WeightFormat, groupSize: number, arith: ShaderArith): string {
  const group = format === 'q8' || format === 'q4' ? `const GROUP_UNITS: u32 = ${groupSize / 32}u;\n` : '';
  return `${group}${UNIT_STRUCT}${BODY[format](arith)}`;
}
