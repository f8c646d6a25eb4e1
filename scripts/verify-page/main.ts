// The browser half of `npm run verify -- <dir> --runtime browser`: scripts/verify.ts serves the
// fixture under /__fixture/, opens this page in headless Chromium and exposes the two callbacks.
import { requestEngineDevice } from '../../src/gpu/device.ts';
import { GpuUnavailableError, QwenError } from '../../src/loader/errors.ts';
import { FetchSource } from '../../src/loader/fetch-source.ts';
import { verifyFixture, type VerifyOutcome } from '../../src/verify/verify-fixture.ts';

export type PageResult = { outcome: VerifyOutcome } | { error: string; stack?: string };

declare global {
  interface Window {
    verifyLog?: (line: string) => Promise<void>;
    verifyDone?: (result: PageResult) => Promise<void>;
    /** Set once every import loaded, so the harness can tell a page that never started. */
    verifyStarted?: boolean;
  }
}

window.verifyStarted = true;

const screen = document.getElementById('log')!;

// Opened by hand (no harness), the page still works and shows its log.
function show(line: string): void {
  screen.textContent += `${line}\n`;
}

function log(line: string): void {
  show(line);
  void window.verifyLog?.(line);
}

async function run(): Promise<PageResult> {
  try {
    if (!navigator.gpu) throw new GpuUnavailableError('navigator.gpu is missing');
    const device = await requestEngineDevice(await navigator.gpu.requestAdapter());
    // Uncaptured WebGPU errors need no listener: Chromium reports them as console warnings, which the harness prints.
    const query = new URLSearchParams(location.search);
    const storage = query.get('storage');
    const outcome = await verifyFixture(device, new FetchSource(`${location.origin}/__fixture/`), {
      verbose: query.has('verbose'), fromReferenceVision: query.has('fromReferenceVision'), storage: storage === 'f16' || storage === 'f32' ? storage : undefined, log,
    });
    device.destroy();
    return { outcome };
  } catch (e) {
    if (!(e instanceof Error)) return { error: String(e) };
    // Engine errors explain themselves; for anything else the harness prints the stack.
    return { error: `${e.name}: ${e.message}`, stack: e instanceof QwenError ? undefined : e.stack };
  }
}

const result = await run();
show('error' in result ? `error: ${result.error}` : `done: ${JSON.stringify(result.outcome)}`);
await window.verifyDone?.(result);
