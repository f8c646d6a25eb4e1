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

// XUnit: 32 values of the activations (loaded by lib/x_unit.wgsl). unit_dot multiplies a decoded
// unit by one; w_dot reads, decodes and multiplies a stored unit, for f16 and q4 streaming the
// unit a vec4 at a time: decoding all 32 values first made SwiftShader spill them (f16 GEMV ~15 %
// slower). Same products, same order of additions either way.
const UNIT_STRUCT = `struct WUnit { c0: vec4<F>, c1: vec4<F>, c2: vec4<F>, c3: vec4<F>, c4: vec4<F>, c5: vec4<F>, c6: vec4<F>, c7: vec4<F>, scale: F }
struct XUnit { c0: vec4<f32>, c1: vec4<f32>, c2: vec4<f32>, c3: vec4<f32>, c4: vec4<f32>, c5: vec4<f32>, c6: vec4<f32>, c7: vec4<f32> }
fn unit_dot(a: WUnit, b: XUnit) -> f32 {
  let d = dot(a.c0, vec4<F>(b.c0)) + dot(a.c1, vec4<F>(b.c1)) + dot(a.c2, vec4<F>(b.c2)) + dot(a.c3, vec4<F>(b.c3))
        + dot(a.c4, vec4<F>(b.c4)) + dot(a.c5, vec4<F>(b.c5)) + dot(a.c6, vec4<F>(b.c6)) + dot(a.c7, vec4<F>(b.c7));
  return f32(a.scale * d);
}
`;

const W_DOT_BY_UNIT = `fn w_dot(at: u32, scale_row: u32, u: u32, b: XUnit) -> f32 { return unit_dot(w_unit(at, scale_row, u), b); }
`;

/** w_dot over the eight vec4s \`parts\` (WGSL expressions that may use the words p0..p3) times \`scale\`. */
function streamingDot(loads: string[], parts: string[], scale: string): string {
  const terms = parts.map((v, i) => `${i === 0 ? '  var d = ' : '  d += '}dot(${v}, vec4<F>(b.c${i}));`);
  const lines = loads.flatMap((load, i) => [load, ...terms.slice((i * 8) / loads.length, ((i + 1) * 8) / loads.length)]);
  return `fn w_dot(at: u32, scale_row: u32, u: u32, b: XUnit) -> f32 {\n${lines.join('\n')}\n  return f32(${scale} * d);\n}\n`;
}

const F16_DOT = streamingDot(
  [0, 1, 2, 3].map((i) => `  let p${i} = w[at + ${i}u];`),
  [0, 1, 2, 3].flatMap((i) => [`h4(p${i}.x, p${i}.y)`, `h4(p${i}.z, p${i}.w)`]),
  'F(1.0)',
);

function q4Dot(low: string, high: string): string {
  return streamingDot(['  let p0 = w[at];'], ['x', 'y', 'z', 'w'].flatMap((c) => [low.replace('$', `p0.${c}`), high.replace('$', `p0.${c}`)]), 'w_scale(scale_row, u)');
}

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
${W_DOT_BY_UNIT}`,
  f16: (arith) => `alias WWord = vec4<u32>;
const UNIT_WORDS: u32 = 4u;
${HALF4[arith]}fn w_unit(at: u32, scale_row: u32, u: u32) -> WUnit {
  let p0 = w[at]; let p1 = w[at + 1u]; let p2 = w[at + 2u]; let p3 = w[at + 3u];
  return WUnit(h4(p0.x, p0.y), h4(p0.z, p0.w), h4(p1.x, p1.y), h4(p1.z, p1.w),
               h4(p2.x, p2.y), h4(p2.z, p2.w), h4(p3.x, p3.y), h4(p3.z, p3.w), F(1.0));
}
${F16_DOT}`,
  // Signed bytes, sign-extended by an arithmetic shift: exact integers in f16 as in f32.
  q8: () => `alias WWord = vec4<u32>;
const UNIT_WORDS: u32 = 2u;
${SCALE_FN}fn q8(p: u32) -> vec4<F> { return vec4<F>(bitcast<vec4<i32>>(vec4<u32>(p) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u)); }
fn w_unit(at: u32, scale_row: u32, u: u32) -> WUnit {
  let a = w[at]; let b = w[at + 1u];
  return WUnit(q8(a.x), q8(a.y), q8(a.z), q8(a.w), q8(b.x), q8(b.y), q8(b.z), q8(b.w), w_scale(scale_row, u));
}
${W_DOT_BY_UNIT}`,
  // Low nibbles of the four bytes are columns 0..3 of the word, high nibbles 4..7 (weight-formats.ts).
  q4: () => `alias WWord = vec4<u32>;
const UNIT_WORDS: u32 = 1u;
${SCALE_FN}fn q4(p: u32) -> vec4<F> { return vec4<F>(vec4<i32>((vec4<u32>(p) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(15u)) - vec4<i32>(8)); }
fn w_unit(at: u32, scale_row: u32, u: u32) -> WUnit {
  let p = w[at];
  return WUnit(q4(p.x), q4(p.x >> 4u), q4(p.y), q4(p.y >> 4u), q4(p.z), q4(p.z >> 4u), q4(p.w), q4(p.w >> 4u), w_scale(scale_row, u));
}
${q4Dot('q4($)', 'q4($ >> 4u)')}`,
};

// The same values without vector shifts, for CPU adapters: SwiftShader scalarises a shift by a
// vector amount (every lane extracted, shifted, reinserted), which made the shifts the bulk of the
// q4 GEMV. Each field is masked in place, converted as a signed integer (exact: at most 8 bits of
// significand) and scaled back by a power of two. The field at the top of the word converts as a
// signed value: a q8 byte is already one; a q4 nibble n is flipped at the sign bit, giving n - 8.
// The lower q8 bytes are sign-extended as (b ^ 0x80) - 128. Arithmetic in f32, which the large
// intermediate values need.
const SHIFT_FREE: Partial<Record<WeightFormat, string>> = {
  q8: `alias WWord = vec4<u32>;
const UNIT_WORDS: u32 = 2u;
${SCALE_FN}fn q8(p: u32) -> vec4<F> {
  let m = (vec4<u32>(p) & vec4<u32>(0xffu, 0xff00u, 0xff0000u, 0xff000000u)) ^ vec4<u32>(0x80u, 0x8000u, 0x800000u, 0u);
  return vec4<F>(vec4<f32>(bitcast<vec4<i32>>(m)) * vec4<f32>(1.0, 0x1p-8, 0x1p-16, 0x1p-24) - vec4<f32>(128.0, 128.0, 128.0, 0.0));
}
fn w_unit(at: u32, scale_row: u32, u: u32) -> WUnit {
  let a = w[at]; let b = w[at + 1u];
  return WUnit(q8(a.x), q8(a.y), q8(a.z), q8(a.w), q8(b.x), q8(b.y), q8(b.z), q8(b.w), w_scale(scale_row, u));
}
${W_DOT_BY_UNIT}`,
  q4: `alias WWord = vec4<u32>;
const UNIT_WORDS: u32 = 1u;
${SCALE_FN}fn q4_low(p: u32) -> vec4<F> {
  let m = vec4<u32>(p) & vec4<u32>(0xfu, 0xf00u, 0xf0000u, 0xf000000u);
  return vec4<F>(vec4<f32>(bitcast<vec4<i32>>(m)) * vec4<f32>(1.0, 0x1p-8, 0x1p-16, 0x1p-24) - vec4<f32>(8.0));
}
fn q4_high(p: u32) -> vec4<F> {
  let m = (vec4<u32>(p) & vec4<u32>(0xf0u, 0xf000u, 0xf00000u, 0xf0000000u)) ^ vec4<u32>(0u, 0u, 0u, 0x80000000u);
  return vec4<F>(vec4<f32>(bitcast<vec4<i32>>(m)) * vec4<f32>(0x1p-4, 0x1p-12, 0x1p-20, 0x1p-28) - vec4<f32>(8.0, 8.0, 8.0, 0.0));
}
fn w_unit(at: u32, scale_row: u32, u: u32) -> WUnit {
  let p = w[at];
  return WUnit(q4_low(p.x), q4_high(p.x), q4_low(p.y), q4_high(p.y), q4_low(p.z), q4_high(p.z), q4_low(p.w), q4_high(p.w), w_scale(scale_row, u));
}
${q4Dot('q4_low($)', 'q4_high($)')}`,
};

/** Whether `format` has a shift-free decode (used on CPU adapters; same values, other WGSL). */
export function hasShiftFreeDecode(format: WeightFormat): boolean {
  return SHIFT_FREE[format] !== undefined;
}

export function formatPrelude(format: WeightFormat, groupSize: number, arith: ShaderArith, shiftFree = false): string {
  const group = format === 'q8' || format === 'q4' ? `const GROUP_UNITS: u32 = ${groupSize / 32}u;\n` : '';
  return `${group}${UNIT_STRUCT}${(shiftFree && SHIFT_FREE[format]) || BODY[format](arith)}`;
}
