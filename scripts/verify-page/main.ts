// The browser half of `npm run verify -- <dir> --runtime browser`: scripts/verify.ts serves the
// fixture under /__fixture/ and opens this page with scripts/headless.ts, which exposes the callbacks.
import { requestEngineDevice } from '../../src/gpu/device.ts';
import { GpuUnavailableError, QwenError } from '../../src/loader/errors.ts';
import { FetchSource } from '../../src/loader/fetch-source.ts';
import { verifyFixture, type VerifyOutcome } from '../../src/verify/verify-fixture.ts';
import { startHarness, type HarnessResult } from '../harness-page.ts';

const harness = startHarness(document.getElementById('log')!);
const log = harness.log;

async function run(): Promise<HarnessResult<VerifyOutcome>> {
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
    return { ok: outcome };
  } catch (e) {
    if (!(e instanceof Error)) return { error: String(e) };
    // Engine errors explain themselves; for anything else the harness prints the stack.
    return { error: `${e.name}: ${e.message}`, stack: e instanceof QwenError ? undefined : e.stack };
  }
}

const result = await run();
harness.show('error' in result ? `error: ${result.error}` : `done: ${JSON.stringify(result.ok)}`);
await harness.done(result);
