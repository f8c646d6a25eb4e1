import { parseQwen35Config, type Qwen35Config } from '../loader/config.ts';

/**
 * The published Qwen3.5 dense text geometries (shared/QWEN35-ARCHITECTURE.md §8), as config.json
 * would give them: what `npm run bench` runs with random weights when no checkpoint is given.
 */
const PRESETS = {
  '0.8b': { hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 8, num_key_value_heads: 2, linear_num_value_heads: 16, intermediate_size: 3584, tie_word_embeddings: true },
  '2b': { hidden_size: 2048, num_hidden_layers: 24, num_attention_heads: 8, num_key_value_heads: 2, linear_num_value_heads: 16, intermediate_size: 6144, tie_word_embeddings: true },
  '4b': { hidden_size: 2560, num_hidden_layers: 32, num_attention_heads: 16, num_key_value_heads: 4, linear_num_value_heads: 32, intermediate_size: 9216, tie_word_embeddings: true },
  '9b': { hidden_size: 4096, num_hidden_layers: 32, num_attention_heads: 16, num_key_value_heads: 4, linear_num_value_heads: 32, intermediate_size: 12288, tie_word_embeddings: false },
} as const;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export function presetConfig(name: PresetName): Qwen35Config {
  const p = PRESETS[name];
  return parseQwen35Config({
    model_type: 'qwen3_5_text',
    ...p,
    // Every fourth layer is full attention (6 of 24, 8 of 32).
    full_attention_interval: 4,
    head_dim: 256,
    linear_num_key_heads: 16,
    linear_key_head_dim: 128,
    linear_value_head_dim: 128,
    linear_conv_kernel_dim: 4,
    vocab_size: 248320,
    rms_norm_eps: 1e-6,
    max_position_embeddings: 262144,
    rope_parameters: { rope_type: 'default', rope_theta: 1e7, partial_rotary_factor: 0.25, mrope_section: [11, 11, 10], mrope_interleaved: true },
    eos_token_id: 248044,
  }, `preset ${name}`);
}
