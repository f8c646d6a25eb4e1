// npm run accuracy -- <fixture-dir> [--quant q8,q4] [--group-size 32,64,128]
// Logits of the quantized formats against the fixture's float32 reference, at every prompt position
// and every teacher-forced decode step: max |diff|, mean KL divergence and argmax agreement.
// Prints a table, then one JSON object (all rows) as the last line. Exit 0 done, 2 error.
import { basename, resolve } from 'node:path';
import { WEIGHT_FORMATS, type WeightFormat } from '../src/gpu/weight-formats.ts';
import type { AccuracyRow } from '../src/verify/accuracy.ts';

const USAGE = 'usage: npm run accuracy -- <fixture-dir> [--quant q8,q4] [--group-size 32,64,128]';
const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const [, value] = argv.splice(i, 2);
  return value;
};
const quants = option('--quant', 'f16,q8,q4').split(',') as WeightFormat[];
const groups = option('--group-size', '32').split(',').map(Number);
if (argv.length !== 1 || quants.some((q) => !WEIGHT_FORMATS.includes(q)) || groups.some((g) => !(g > 0 && g % 32 === 0))) {
  console.error(USAGE);
  process.exit(2);
}
const dir = resolve(argv[0]);

try {
  const { nodeDevice } = await import('./node-gpu.ts');
  const { NodeDirSource } = await import('./node-file-source.ts');
  const { measureAccuracy } = await import('../src/verify/accuracy.ts');
  const device = await nodeDevice();
  const rows: AccuracyRow[] = [];
  console.log('quant  group  positions  max|Δlogit|   mean KL     argmax (prompt / decode)');
  for (const quant of quants) {
    for (const group of quant === 'q8' || quant === 'q4' ? groups : [undefined]) {
      const r = await measureAccuracy(device, new NodeDirSource(dir), quant, group);
      rows.push(r);
      console.log(`${quant.padEnd(6)} ${String(r.group_size ?? '-').padStart(5)}  ${String(r.positions).padStart(9)}  ${r.max_abs_logit_diff.toExponential(3).padStart(11)}  ${r.mean_kl.toExponential(3).padStart(10)}  ` +
        `${(100 * r.argmax_agreement).toFixed(1)} % (${(100 * r.prompt_argmax_agreement).toFixed(1)} / ${(100 * r.decode_argmax_agreement).toFixed(1)})`);
    }
  }
  device.destroy();
  process.stdout.write(`${JSON.stringify({ fixture: basename(dir), rows })}\n`, () => process.exit(0));
} catch (e) {
  console.error(e instanceof Error ? `error: ${e.message}` : e);
  process.exit(2);
}
