// npm run bench -- [fixture-dir] [--tokens N]
// Decode and prefill throughput of the engine in Node (Dawn), reported as ratios measured in one
// run: decode's effective weight bandwidth over a plain copy kernel's bandwidth on the same adapter.
// The bytes are those one decode step reads: an MoE model's chosen experts only, one embedding row.
import copySource from '../shaders/copy.wgsl?raw';
import { GpuContext } from '../src/gpu/context.ts';
import { ParamLayout } from '../src/gpu/params.ts';
import { ProgramBuilder, grid } from '../src/gpu/program.ts';
import { SHADER_LIBS } from '../src/gpu/shader-libs.ts';
import { TextGenerator } from '../src/generate/generator.ts';
import { Qwen35Model } from '../src/model/qwen35.ts';
import { NodeDirSource } from './node-file-source.ts';
import { nodeDevice } from './node-gpu.ts';

const args = process.argv.slice(2);
const tokensFlag = args.indexOf('--tokens');
const decodeTokens = tokensFlag >= 0 ? Number(args.splice(tokensFlag, 2)[1]) : 32;
const dir = args[0] ?? new URL('../../shared/fixtures/qwen35-realdims-2l', import.meta.url).pathname;

const device = await nodeDevice();

async function copyBandwidth(bytes: number, repeats: number): Promise<number> {
  const ctx = new GpuContext(device, 'f16', SHADER_LIBS);
  const WG = 256;
  const kernel = await ctx.kernel({ name: 'copy', source: copySource, params: new ParamLayout('Params', { n: 'u32' }), consts: { WG } });
  const src = ctx.pool.storage('bench.src', bytes);
  const dst = ctx.pool.storage('bench.dst', bytes);
  const b = new ProgramBuilder(ctx, 'copy');
  const n = bytes / 16;
  b.dispatch(kernel, { n }, [src, dst], grid(Math.ceil(n / WG)));
  const program = b.build();
  const runOnce = async () => {
    const encoder = device.createCommandEncoder();
    program.encode(encoder, { cache_pos: 0, seed: 0 });
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await runOnce();
  const started = performance.now();
  for (let i = 0; i < repeats; i++) await runOnce();
  const seconds = (performance.now() - started) / 1000;
  ctx.pool.destroyAll();
  return (2 * bytes * repeats) / seconds; // read + write
}

const model = await Qwen35Model.load(device, new NodeDirSource(dir), { maxContext: 512 });
const c = model.config;
const weightBytes = model.weightBytes;
const decodeBytes = model.decodeBytesPerToken;
const generator = new TextGenerator(model);
const prompt = Array.from({ length: 64 }, (_, i) => (i * 7919) % Math.min(c.vocabSize, 200));

// Warm up the programs, then measure.
for await (const _ of generator.generate(prompt, { maxTokens: 4, stopTokens: [] })) { /* warm-up */ }
generator.reset();
let produced = 0;
for await (const _ of generator.generate(prompt, { maxTokens: decodeTokens + 1, stopTokens: [] })) produced++;
const stats = generator.stats;

const copyBytes = Math.min(64 << 20, Math.max(4 << 20, weightBytes));
const copyBps = await copyBandwidth(copyBytes, 10);
const decodeBps = decodeBytes * stats.decodeTokensPerSecond;
const cost = model.decodeCost;
console.log(`adapter copy bandwidth: ${(copyBps / 1e9).toFixed(2)} GB/s (${(copyBytes / 2 ** 20).toFixed(0)} MiB buffers)`);
const experts = c.moe ? `, ${c.moe.numExpertsPerTok} of ${c.moe.numExperts} experts a layer` : '';
console.log(`model: ${dir.split('/').pop()}, weights ${(weightBytes / 2 ** 20).toFixed(1)} MiB on the GPU, ${(decodeBytes / 2 ** 20).toFixed(2)} MiB read per decoded token${experts}`);
console.log(`prefill: ${stats.prefillTokens} tokens, ${stats.prefillTokensPerSecond.toFixed(1)} tok/s`);
console.log(`decode: ${stats.decodeTokens} tokens, ${stats.decodeTokensPerSecond.toFixed(1)} tok/s, ${cost.dispatches} dispatches/token`);
console.log(`decode effective weight bandwidth / copy bandwidth = ${(decodeBps / copyBps).toFixed(3)}`);
console.log(JSON.stringify({ produced, decode_bytes_per_token: decodeBytes, decode_tok_s: stats.decodeTokensPerSecond, prefill_tok_s: stats.prefillTokensPerSecond, bandwidth_ratio: decodeBps / copyBps }));
model.destroy();
device.destroy();
