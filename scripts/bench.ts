// npm run bench -- [--preset 0.8b|2b|4b|9b] [--model DIR] [--quant f32|f16|q8|q4] [--group-size G]
//                  [--runtime node|browser] [--prompt-tokens N] [--new-tokens N]
// Prefill and decode throughput of the engine, and decode's bandwidth against the adapter's own copy
// bandwidth measured in the same run. Default: the Qwen3.5-0.8B geometry with random weights made on
// the GPU (no download). The last line of stdout is one JSON object (src/bench/run-bench.ts).
// Exit status: 0 done, 2 error.
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { BenchOptions, BenchResult } from '../src/bench/run-bench.ts';
import { PRESET_NAMES, type PresetName } from '../src/model/presets.ts';
import { WEIGHT_FORMATS, type WeightFormat } from '../src/gpu/weight-formats.ts';

const USAGE = 'usage: npm run bench -- [--preset 0.8b|2b|4b|9b] [--model DIR] [--quant f32|f16|q8|q4] [--group-size G] [--runtime node|browser] [--prompt-tokens N] [--new-tokens N]';
/** Sized so the default 0.8B run takes a few minutes on CI's 2-core SwiftShader, in f16 and q4. */
const DEFAULTS = { promptTokens: 16, newTokens: 8 };

function parseArgs(argv: string[]) {
  const usage = (problem: string): never => {
    console.error(`${problem}\n${USAGE}`);
    process.exit(2);
  };
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const [name, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (!['--preset', '--model', '--quant', '--group-size', '--runtime', '--prompt-tokens', '--new-tokens'].includes(name)) usage(`unknown argument ${arg}`);
    const value = inline ?? argv[++i];
    if (value === undefined) usage(`${name} needs a value`);
    values.set(name, value);
  }
  const count = (name: string, fallback: number) => {
    const v = Number(values.get(name) ?? fallback);
    return Number.isSafeInteger(v) && v > 0 ? v : usage(`${name} must be a positive integer`);
  };
  const preset = (values.get('--preset') ?? '0.8b') as PresetName;
  if (!PRESET_NAMES.includes(preset)) usage(`--preset must be one of ${PRESET_NAMES.join(', ')}`);
  const quant = (values.get('--quant') ?? 'f16') as WeightFormat;
  if (!WEIGHT_FORMATS.includes(quant)) usage(`--quant must be one of ${WEIGHT_FORMATS.join(', ')}`);
  const runtime = values.get('--runtime') ?? 'node';
  if (runtime !== 'node' && runtime !== 'browser') usage('--runtime must be node or browser');
  const model = values.get('--model');
  if (model && !statSync(model, { throwIfNoEntry: false })?.isDirectory()) usage(`${model} is not a directory`);
  return {
    preset, quant, runtime: runtime as 'node' | 'browser', modelDir: model ? resolve(model) : undefined,
    groupSize: values.has('--group-size') ? count('--group-size', 32) : undefined,
    promptTokens: count('--prompt-tokens', DEFAULTS.promptTokens),
    newTokens: count('--new-tokens', DEFAULTS.newTokens),
  };
}

const args = parseArgs(process.argv.slice(2));
const log = (line: string) => console.log(line);
try {
  let result: BenchResult;
  const common: Omit<BenchOptions, 'model' | 'runtime'> = { preset: args.preset, quant: args.quant, groupSize: args.groupSize, promptTokens: args.promptTokens, newTokens: args.newTokens, log };
  if (args.runtime === 'node') {
    const { nodeDevice } = await import('./node-gpu.ts');
    const { runBench } = await import('../src/bench/run-bench.ts');
    const { NodeDirSource } = await import('./node-file-source.ts');
    const device = await nodeDevice();
    const model = args.modelDir ? { source: new NodeDirSource(args.modelDir), name: basename(args.modelDir) } : undefined;
    result = await runBench(device, { ...common, model, runtime: 'node' });
    device.destroy();
  } else {
    const { runPage } = await import('./headless.ts');
    const query = new URLSearchParams({ preset: args.preset, quant: args.quant, prompt: String(args.promptTokens), new: String(args.newTokens) });
    if (args.groupSize) query.set('group', String(args.groupSize));
    if (args.modelDir) query.set('model', basename(args.modelDir));
    result = await runPage<BenchResult>({
      page: 'scripts/bench-page/index.html', query, log, timeoutMs: 60 * 60 * 1000,
      serve: args.modelDir ? { path: '/__model', dir: args.modelDir } : undefined,
    });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
} catch (e) {
  console.error(e instanceof Error ? `error: ${e.message}` : e);
  process.exit(2);
}
