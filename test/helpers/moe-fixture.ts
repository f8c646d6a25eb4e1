// The qwen35-tiny-moe fixture rewritten into the other forms a Hub checkpoint takes: one tensor
// per expert instead of the fused 3-D tensors, and the text-only config form (model.* names, no
// vision tower). The weights are the same, so the fixture's reference outputs still apply.
import { readdirSync, readFileSync } from 'node:fs';
import { SINGLE_FILE } from '../../src/loader/checkpoint.ts';
import { MemorySource } from '../../src/loader/file-source.ts';
import { readSafetensorsHeader } from '../../src/loader/safetensors.ts';
import { FIXTURES } from './fixtures.ts';
import { packTensors, type TensorData } from './safetensors.ts';

export const MOE_FIXTURE = new URL('qwen35-tiny-moe/', FIXTURES).pathname;

export interface MoeVariant {
  perExpert?: boolean;
  textOnly?: boolean;
  /** A last change to the tensors (to forge a malformed checkpoint). */
  edit?: (tensors: Record<string, TensorData>) => void;
}

/** Expert e's rows [from, to) of a [E, rows, cols] tensor, as its own 2-D tensor. */
function expertRows(t: TensorData, e: number, from: number, to: number): TensorData {
  const [, rows, cols] = t.shape;
  const bytesPerValue = t.data.byteLength / (t.shape[0] * rows * cols);
  const begin = (e * rows + from) * cols * bytesPerValue;
  return { dtype: t.dtype, shape: [to - from, cols], data: t.data.slice(begin, begin + (to - from) * cols * bytesPerValue) };
}

export async function moeFixtureVariant(variant: MoeVariant): Promise<MemorySource> {
  const files = new Map<string, Uint8Array>();
  for (const name of readdirSync(MOE_FIXTURE)) files.set(name, new Uint8Array(readFileSync(MOE_FIXTURE + name)));
  const source = new MemorySource(files);
  const header = await readSafetensorsHeader(source, SINGLE_FILE);
  const weights = files.get(SINGLE_FILE)!;
  let tensors: Record<string, TensorData> = {};
  for (const [name, info] of header.tensors) tensors[name] = { dtype: info.dtype, shape: info.shape, data: weights.slice(info.begin, info.end) };

  if (variant.perExpert) {
    const split: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(tensors)) {
      const prefix = name.endsWith('experts.gate_up_proj') ? name.slice(0, -'gate_up_proj'.length) : name.endsWith('experts.down_proj') ? name.slice(0, -'down_proj'.length) : null;
      if (!prefix) {
        split[name] = t;
        continue;
      }
      const [E, rows] = t.shape;
      for (let e = 0; e < E; e++) {
        if (name.endsWith('gate_up_proj')) {
          split[`${prefix}${e}.gate_proj.weight`] = expertRows(t, e, 0, rows / 2);
          split[`${prefix}${e}.up_proj.weight`] = expertRows(t, e, rows / 2, rows);
        } else {
          split[`${prefix}${e}.down_proj.weight`] = expertRows(t, e, 0, rows);
        }
      }
    }
    tensors = split;
  }

  if (variant.textOnly) {
    const config = JSON.parse(new TextDecoder().decode(files.get('config.json')));
    const text = { ...config.text_config, model_type: 'qwen3_5_moe_text', architectures: ['Qwen3_5MoeForCausalLM'], tie_word_embeddings: config.tie_word_embeddings };
    files.set('config.json', new TextEncoder().encode(JSON.stringify(text)));
    const renamed: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(tensors)) {
      if (name.startsWith('model.visual.')) continue;
      renamed[name.replace(/^model\.language_model\./, 'model.')] = t;
    }
    tensors = renamed;
  }

  variant.edit?.(tensors);
  files.set(SINGLE_FILE, packTensors(tensors));
  return source;
}
