// The browser half of `npm run bench -- --runtime browser`: scripts/bench.ts opens this page in
// headless Chromium with the options in the query string (and a --model directory at /__model/).
import { runBench } from '../../src/bench/run-bench.ts';
import { requestEngineDevice } from '../../src/gpu/device.ts';
import type { WeightFormat } from '../../src/gpu/weights.ts';
import { FetchSource } from '../../src/loader/fetch-source.ts';
import type { PresetName } from '../../src/model/presets.ts';
import { startHarness } from '../harness-page.ts';

const harness = startHarness(document.getElementById('log')!);
const log = harness.log;

const q = new URLSearchParams(location.search);
try {
  const device = await requestEngineDevice(await navigator.gpu?.requestAdapter());
  const model = q.get('model');
  const result = await runBench(device, {
    preset: (q.get('preset') ?? '0.8b') as PresetName,
    model: model ? { source: new FetchSource(`${location.origin}/__model/`), name: model } : undefined,
    quant: (q.get('quant') ?? 'f16') as WeightFormat,
    groupSize: q.has('group') ? Number(q.get('group')) : undefined,
    promptTokens: Number(q.get('prompt') ?? 16),
    newTokens: Number(q.get('new') ?? 8),
    runtime: 'browser',
    log,
  });
  device.destroy();
  await harness.done({ ok: result });
} catch (e) {
  const error = e instanceof Error ? e : new Error(String(e));
  log(`error: ${error.message}`);
  await harness.done({ error: `${error.name}: ${error.message}`, stack: error.stack });
}
