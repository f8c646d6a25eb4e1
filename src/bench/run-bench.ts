import type { FileSource } from '../loader/file-source.ts';
import { GpuContext } from '../gpu/context.ts';
import { ProgramBuilder } from '../gpu/program.ts';
import { SHADER_LIBS } from '../gpu/shader-libs.ts';
import type { WeightFormat } from '../gpu/weights.ts';
import { COPY_SHAPES, Copy } from '../kernels/copy.ts';
import { GREEDY } from '../kernels/sample.ts';
import { presetConfig, type PresetName } from '../model/presets.ts';
import { Qwen35Model } from '../model/qwen35.ts';
import { randomWeights } from '../model/random-weights.ts';

export interface BenchOptions {
  preset: PresetName;
  /** A checkpoint (or fixture) directory instead of the preset's random weights. */
  model?: { source: FileSource; name: string };
  quant: WeightFormat;
  groupSize?: number;
  promptTokens: number;
  newTokens: number;
  runtime: 'node' | 'browser';
  log: (line: string) => void;
}

/** The line `npm run bench` prints last; field names as issue 6 asks for them. */
export interface BenchResult {
  preset: string;
  quant: WeightFormat;
  runtime: 'node' | 'browser';
  adapter: string;
  prefill_tok_s: number;
  decode_tok_s: number;
  decode_bytes_per_token: number;
  copy_bytes_per_s: number;
  decode_bandwidth_ratio: number;
  dispatches_per_token: number;
  submits_per_token: number;
  gpu_bytes: number;
}

/** Bytes each copy buffer spans: past any CPU cache (SwiftShader) and most GPU L2s. */
const COPY_BYTES = 256 << 20;
const COPY_REPEATS = 4;

/**
 * Prefill and decode throughput on this device, next to the device's own copy bandwidth measured
 * in the same run: decode reads every weight once per token, so decode_tok_s × bytes per token ÷
 * copy bandwidth is how close decode comes to the memory-bound limit.
 */
export async function runBench(device: GPUDevice, o: BenchOptions): Promise<BenchResult> {
  // The copy kernel runs before loading and again after decoding, in each of its shapes; the best
  // is the limit (a shared machine's load can only make a measurement slower, never faster).
  const copyBefore = await copyBandwidth(device);

  const maxContext = o.promptTokens + o.newTokens + 8;
  const options = { quant: o.quant, groupSize: o.groupSize, maxContext };
  const started = performance.now();
  const model = o.model
    ? await Qwen35Model.load(device, o.model.source, options)
    : await Qwen35Model.create(device, presetConfig(o.preset), options, (ctx) => randomWeights(ctx, presetConfig(o.preset), { format: o.quant, groupSize: o.groupSize }));
  try {
    const c = model.config;
    o.log(`model: ${o.model?.name ?? `Qwen3.5-${o.preset} geometry, random weights`}, ${c.numLayers} layers, hidden ${c.hiddenSize}, vocab ${c.vocabSize}, ${o.quant}` +
      `${model.ctx.arith === 'f16' ? ', f16 arithmetic' : ''}; ${(model.gpuBytes / 2 ** 30).toFixed(2)} GiB on the GPU; ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    model.configureSampling(GREEDY);
    const prompt = Int32Array.from({ length: o.promptTokens }, (_, i) => (i * 7919 + 13) % c.vocabSize);

    // Every pipeline runs once before timing (a 2-token prefill uses the prefill kernels).
    await model.prefill(prompt.subarray(0, Math.min(2, prompt.length)));
    await model.decodeOne();
    model.reset();

    let t = performance.now();
    await model.prefill(prompt);
    const prefillSeconds = (performance.now() - t) / 1000;
    o.log(`prefill: ${o.promptTokens} tokens in ${prefillSeconds.toFixed(2)} s`);
    t = performance.now();
    for (let i = 0; i < o.newTokens; i++) await model.decodeOne();
    const decodeSeconds = (performance.now() - t) / 1000;
    o.log(`decode: ${o.newTokens} tokens in ${decodeSeconds.toFixed(2)} s`);

    const bytesPerToken = model.decodeBytesPerToken(o.promptTokens + o.newTokens / 2);
    const cost = model.decodeCost;
    const gpuBytes = model.gpuBytes;
    model.destroy();
    const copyAfter = await copyBandwidth(device);
    const copyBytesPerSecond = Math.max(copyBefore.best, copyAfter.best);
    o.log(`copy kernel, GB/s (read + write, ${COPY_BYTES >> 20} MiB buffers) by 16-byte units per invocation: before loading ${copyBefore.byShape}; after decoding ${copyAfter.byShape}`);
    const decodeTokS = o.newTokens / decodeSeconds;
    return {
      preset: o.model ? o.model.name : o.preset,
      quant: o.quant,
      runtime: o.runtime,
      adapter: describeAdapter(device),
      prefill_tok_s: o.promptTokens / prefillSeconds,
      decode_tok_s: decodeTokS,
      decode_bytes_per_token: bytesPerToken,
      copy_bytes_per_s: copyBytesPerSecond,
      decode_bandwidth_ratio: (decodeTokS * bytesPerToken) / copyBytesPerSecond,
      dispatches_per_token: cost.dispatches,
      submits_per_token: cost.commandBuffers,
      gpu_bytes: gpuBytes,
    };
  } finally {
    model.destroy();
  }
}

/** The best copy bandwidth (read + write bytes/s) over the copy shapes: the adapter's own limit. */
async function copyBandwidth(device: GPUDevice): Promise<{ best: number; byShape: string }> {
  const ctx = new GpuContext(device, 'f16', SHADER_LIBS);
  try {
    const bytes = Math.min(COPY_BYTES, Math.floor(ctx.maxBindingBytes / 16) * 16);
    const src = ctx.pool.storage('bench.copy.src', bytes);
    const dst = ctx.pool.storage('bench.copy.dst', bytes);
    const rates: number[] = [];
    for (const shape of COPY_SHAPES) {
      const copy = await Copy.create(ctx, shape);
      const b = new ProgramBuilder(ctx, 'bench.copy');
      copy.record(b, src, dst, bytes);
      const program = b.build();
      const runOnce = async () => {
        const encoder = device.createCommandEncoder();
        program.encode(encoder, { cache_pos: 0, seed: 0 });
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
      };
      await runOnce();
      const started = performance.now();
      for (let i = 0; i < COPY_REPEATS; i++) await runOnce();
      rates.push((2 * bytes * COPY_REPEATS) / ((performance.now() - started) / 1000));
      program.destroy();
    }
    const byShape = COPY_SHAPES.map((s, i) => `${s.vecs}${s.vecs > 1 ? (s.contiguous ? ' contiguous' : ' strided') : ''}: ${(rates[i] / 1e9).toFixed(3)}`).join(', ');
    return { best: Math.max(...rates), byShape };
  } finally {
    ctx.pool.destroyAll();
  }
}

function describeAdapter(device: GPUDevice): string {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (!info) return 'unknown';
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ');
}
