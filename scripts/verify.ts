// npm run verify -- <fixture-dir> [--runtime browser|node] [--verbose] [--storage f16|f32] [--from-reference-vision]
// Checks the engine against a fixture's reference outputs, in Node (Dawn) or in headless Chromium.
// --from-reference-vision feeds the decoder the reference's vision output (a decoder-only check,
// reported as such in the JSON line: "from_reference_vision": true).
// Prints the comparison's log, then one JSON object as the last line of stdout.
// Exit status: 0 pass, 1 mismatch, 2 error (usage, missing GPU or browser, unreadable fixture...).
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { QwenError } from '../src/loader/errors.ts';
import type { VerifyOptions, VerifyOutcome } from '../src/verify/verify-fixture.ts';
import { HarnessError } from './headless.ts';

type Runtime = 'node' | 'browser';

const USAGE = 'usage: npm run verify -- <fixture-dir> [--runtime browser|node] [--verbose] [--storage f16|f32] [--from-reference-vision]';
const FIXTURE_URL_PATH = '/__fixture';
/** SwiftShader runs the 48 MB fixture slowly; this only stops a page that hangs. */
const BROWSER_TIMEOUT_MS = 45 * 60 * 1000;

/** A failure whose message says it all: no stack. */
class ExplainedError extends Error {}

/** What the CLI passes to verifyFixture in either runtime. */
type RunOptions = Pick<VerifyOptions, 'verbose' | 'fromReferenceVision' | 'storage'>;

function parseArgs(argv: string[]): { dir: string; runtime: Runtime; options: RunOptions } {
  const usage = (problem: string): never => {
    console.error(`${problem}\n${USAGE}`);
    process.exit(2);
  };
  const dirs: string[] = [];
  let runtime: Runtime = 'browser';
  const options: RunOptions = { verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--verbose') options.verbose = true;
    else if (arg === '--from-reference-vision') options.fromReferenceVision = true;
    else if (arg === '--storage' || arg.startsWith('--storage=')) {
      const value = arg === '--storage' ? argv[++i] : arg.slice('--storage='.length);
      if (value !== 'f16' && value !== 'f32') usage(`--storage must be f16 or f32, not ${value ?? 'nothing'}`);
      options.storage = value as 'f16' | 'f32';
    } else if (arg === '--runtime' || arg.startsWith('--runtime=')) {
      const value = arg === '--runtime' ? argv[++i] : arg.slice('--runtime='.length);
      if (value !== 'node' && value !== 'browser') usage(`--runtime must be browser or node, not ${value ?? 'nothing'}`);
      runtime = value as Runtime;
    } else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else dirs.push(arg);
  }
  if (dirs.length !== 1) usage(dirs.length ? `one fixture directory expected, got ${dirs.length}` : 'no fixture directory given');
  return { dir: resolve(dirs[0]), runtime, options };
}

// The engine and each runtime's tooling load inside the error handling, so that even a module that
// fails to load ends in the JSON line.
async function runInNode(dir: string, options: RunOptions): Promise<VerifyOutcome> {
  const { nodeDevice } = await import('./node-gpu.ts');
  const { verifyFixture } = await import('../src/verify/verify-fixture.ts');
  const { NodeDirSource } = await import('./node-file-source.ts');
  const device = await nodeDevice();
  device.onuncapturederror = (e) => console.error(`WebGPU error: ${e.error.message}`);
  try {
    return await verifyFixture(device, new NodeDirSource(dir), { ...options, log: (line) => console.log(line) });
  } finally {
    device.destroy();
  }
}

async function runInBrowser(dir: string, options: RunOptions): Promise<VerifyOutcome> {
  const { runPage } = await import('./headless.ts');
  const query = new URLSearchParams();
  if (options.verbose) query.set('verbose', '');
  if (options.fromReferenceVision) query.set('fromReferenceVision', '');
  if (options.storage) query.set('storage', options.storage);
  return runPage<VerifyOutcome>({
    page: 'scripts/verify-page/index.html', query, serve: { path: FIXTURE_URL_PATH, dir }, timeoutMs: BROWSER_TIMEOUT_MS, log: (line) => console.log(line),
  });
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
}

const { dir, runtime, options } = parseArgs(process.argv.slice(2));
let record: Record<string, unknown>;
let status: number;
try {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new ExplainedError(`${dir} is not a directory`);
  const outcome = runtime === 'node' ? await runInNode(dir, options) : await runInBrowser(dir, options);
  const { pass, max_abs_logit_diff, tolerance, greedy_match, storage, from_reference_vision, vision } = outcome;
  record = { pass, max_abs_logit_diff, tolerance, greedy_match, storage, ...(from_reference_vision ? { from_reference_vision } : {}), ...(vision && { vision }) };
  status = pass ? 0 : 1;
} catch (e) {
  // Engine errors say what went wrong; anything else may be a bug, where the stack matters.
  console.error(e instanceof QwenError || e instanceof ExplainedError || e instanceof HarnessError ? `error: ${describeError(e)}` : e);
  record = { pass: false, max_abs_logit_diff: null, tolerance: null, greedy_match: null, error: describeError(e) };
  status = 2;
}
// JSON.stringify writes NaN and Infinity as null, so the line stays valid JSON.
process.stdout.write(`${JSON.stringify({ fixture: basename(dir), runtime, ...record })}\n`, () => process.exit(status));
