// What <qwen-chat>'s `weights` and `memory-budget` attributes say, parsed without the DOM (unit
// tested in Node). A value that cannot be read is reported by the caller and ignored.

/** The weight formats the element offers: the engine's 'f32' is left to API callers. */
export const WEIGHT_FORMATS = ['f16', 'q8', 'q4'] as const;
export type WeightFormat = (typeof WEIGHT_FORMATS)[number];
export const DEFAULT_WEIGHTS: WeightFormat = 'f16';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** `weights`: absent or empty is the default, f16; case and surrounding spaces do not matter. */
export function parseWeights(text: string | null): Parsed<WeightFormat> {
  const value = (text ?? '').trim().toLowerCase();
  if (!value) return { ok: true, value: DEFAULT_WEIGHTS };
  if ((WEIGHT_FORMATS as readonly string[]).includes(value)) return { ok: true, value: value as WeightFormat };
  return { ok: false, error: `weights="${text}" is not one of ${WEIGHT_FORMATS.join(', ')}` };
}

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  ki: 2 ** 10, kib: 2 ** 10, mi: 2 ** 20, mib: 2 ** 20, gi: 2 ** 30, gib: 2 ** 30, ti: 2 ** 40, tib: 2 ** 40,
};

/**
 * `memory-budget`: bytes, as a plain number ("8000000000") or with a unit, decimal (kB, MB, GB, TB:
 * powers of 1000) or binary (KiB, MiB, GiB, TiB: powers of 1024), any case, with or without a space
 * ("8GiB", "6 GB", "512MiB", "1.5gib"); the trailing B may be left out ("8Gi", "8G"). Absent or empty
 * is no budget (null). Fractions of a byte are rounded down; zero and negative sizes are errors.
 */
export function parseMemoryBudget(text: string | null): Parsed<number | null> {
  const value = (text ?? '').trim();
  if (!value) return { ok: true, value: null };
  const match = /^(\d+(?:\.\d*)?|\.\d+)(?:e(\+?\d+))?\s*([a-z]*)$/i.exec(value);
  const scale = match ? UNITS[match[3].toLowerCase()] : undefined;
  if (!match || scale === undefined) {
    return { ok: false, error: `memory-budget="${text}" is not a size: give bytes, or a number with a unit such as "8GiB", "6 GB" or "512MiB"` };
  }
  const bytes = Math.floor(Number(match[1]) * 10 ** Number(match[2] ?? 0) * scale);
  if (!Number.isFinite(bytes) || bytes <= 0) return { ok: false, error: `memory-budget="${text}" must be more than 0 bytes` };
  return { ok: true, value: bytes };
}
