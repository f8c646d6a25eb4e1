/** One tensor comparison, in the spirit of llm.c's check_tensor and ggml's nmse. */
export interface Comparison {
  name: string;
  maxAbs: number;
  meanAbs: number;
  /** max |got - ref| / max |ref|: the fixtures' measure for hidden-state-like tensors. */
  maxRel: number;
  nmse: number;
  /** Up to 5 worst elements: [index, ref, got]. */
  worst: [number, number, number][];
}

export function compare(name: string, ref: Float32Array, got: Float32Array): Comparison {
  if (ref.length !== got.length) throw new Error(`${name}: reference has ${ref.length} values, engine ${got.length}`);
  let maxAbs = 0;
  let sumAbs = 0;
  let refMax = 0;
  let sqErr = 0;
  let sqRef = 0;
  const worst: [number, number, number][] = [];
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    const diff = Number.isNaN(d) ? Infinity : d;
    sumAbs += diff;
    sqErr += diff * diff;
    sqRef += ref[i] * ref[i];
    refMax = Math.max(refMax, Math.abs(ref[i]));
    if (diff > maxAbs) maxAbs = diff;
    if (worst.length < 5 || diff > Math.abs(worst[worst.length - 1][2] - worst[worst.length - 1][1])) {
      worst.push([i, ref[i], got[i]]);
      worst.sort((a, b) => Math.abs(b[2] - b[1]) - Math.abs(a[2] - a[1]));
      if (worst.length > 5) worst.pop();
    }
  }
  return { name, maxAbs, meanAbs: sumAbs / Math.max(1, ref.length), maxRel: maxAbs / (refMax || 1), nmse: sqErr / (sqRef || 1), worst };
}

export function describe(c: Comparison, limit: { abs?: number; rel?: number }): string {
  const ok = (limit.abs === undefined || c.maxAbs <= limit.abs) && (limit.rel === undefined || c.maxRel <= limit.rel);
  const bound = limit.abs !== undefined ? `abs ≤ ${limit.abs}` : `rel ≤ ${limit.rel}`;
  const head = `${ok ? 'TENSOR OK ' : 'TENSOR BAD'} ${c.name.padEnd(22)} max_abs=${c.maxAbs.toExponential(3)} max_rel=${c.maxRel.toExponential(3)} nmse=${c.nmse.toExponential(2)} (${bound})`;
  if (ok) return head;
  const rows = c.worst.map(([i, r, g]) => `    [${i}] ref=${r.toPrecision(7)} got=${g.toPrecision(7)}`);
  return [head, ...rows].join('\n');
}
