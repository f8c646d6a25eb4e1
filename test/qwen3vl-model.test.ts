// The GPU engine on each Qwen3-VL fixture checkpoint (BF16 and FP8) against the CPU reference model
// run on the same text-only prompt: prompt logits and a few decode steps. BF16 values are f16-exact,
// so f16 storage is the whole story there; FP8 runs in both storages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readF32 } from '../src/gpu/buffers.ts';
import { GREEDY } from '../src/kernels/sample.ts';
import { Qwen35Model } from '../src/model/qwen35.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';
import { FIXTURES, loadFixture } from './helpers/fixtures.ts';
import { maxAbsDiff, testDevice } from './helpers/gpu.ts';

const argmax = (row: Float32Array) => row.indexOf(Math.max(...row));

for (const name of ['qwen3vl-tiny-image', 'qwen3vl-tiny-video', 'qwen3vl-tiny-fp8']) {
  test(`${name}: a text-only prompt's logits and decode steps match the CPU reference model`, async (t) => {
    const { config, create } = await loadFixture(name);
    const V = config.vocabSize;
    // Ordinary ids only (special ids start at 219 in these vocabularies).
    const prompt = Int32Array.from({ length: 29 }, (_, i) => (i * 37 + 11) % 219);
    const reference = create();
    const all = reference.forward(prompt).logits;
    const want = [all.subarray((prompt.length - 1) * V)];
    const fed = [argmax(want[0])];
    for (let i = 0; i < 2; i++) {
      const step = reference.forward(Int32Array.of(fed[i])).logits;
      want.push(step);
      fed.push(argmax(step));
    }

    const source = new NodeDirSource(new URL(`${name}/`, FIXTURES).pathname);
    const diffs: string[] = [];
    for (const storage of config.quantization ? (['f32', 'f16'] as const) : (['f16'] as const)) {
      const model = await Qwen35Model.load(await testDevice(), source, { storage, maxContext: 64, prefillChunk: 32 });
      model.configureSampling(GREEDY);
      try {
        const allLogits = model.ctx.pool.storage('test.logits', prompt.length * V * 4);
        assert.equal(await model.prefill(prompt, { allLogits }), fed[0]);
        let d = maxAbsDiff(await readF32(model.ctx.device, allLogits), all);
        for (let i = 0; i < 2; i++) {
          assert.equal(await model.decodeOne(fed[i]), fed[i + 1], `${storage} decode step ${i}`);
          d = Math.max(d, maxAbsDiff(await readF32(model.ctx.device, model.logitsBuffer), want[i + 1]));
        }
        // f16 storage holds BF16 weights exactly, f32 storage dequantized FP8 ones. FP8 in f16 storage rounds ~7 % of the weights (by at most
        // 2^-12 relative): measured 0.013 on these logits, beyond the float32 bound but far inside
        // the fixtures' float16 one (0.1), and the greedy ids above are still the reference's.
        const bound = storage === 'f16' && config.quantization ? 0.05 : 2e-3;
        assert.ok(d < bound, `${storage}: logits differ by ${d} (bound ${bound})`);
        diffs.push(`${storage} ${d.toExponential(2)}`);
      } finally {
        model.destroy();
      }
    }
    t.diagnostic(`max |logit diff| ${diffs.join(', ')}`);
  });
}
