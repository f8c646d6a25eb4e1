import { VisionPromptError } from './errors.ts';
import type { PreparedVisual } from './preprocess.ts';
import { timestampText } from './video-sampling.ts';

/** The processor's special token strings (tokenizer_config.json may rename them). */
export interface VisionTokens {
  imagePad: string;
  videoPad: string;
  visionStart: string;
  visionEnd: string;
}

export const QWEN_VISION_TOKENS: VisionTokens = {
  imagePad: '<|image_pad|>', videoPad: '<|video_pad|>', visionStart: '<|vision_start|>', visionEnd: '<|vision_end|>',
};

/** The token names a tokenizer_config.json declares (image_token, video_token, …), defaults otherwise. */
export function visionTokensOf(config: Record<string, unknown>): VisionTokens {
  const name = (key: string, fallback: string) => (typeof config[key] === 'string' ? (config[key] as string) : fallback);
  return {
    imagePad: name('image_token', QWEN_VISION_TOKENS.imagePad),
    videoPad: name('video_token', QWEN_VISION_TOKENS.videoPad),
    visionStart: name('vision_start_token', QWEN_VISION_TOKENS.visionStart),
    visionEnd: name('vision_end_token', QWEN_VISION_TOKENS.visionEnd),
  };
}

/**
 * Qwen3VLProcessor's expansion of a rendered chat template: the k-th image pad becomes one pad per
 * merged token of the k-th image, and the k-th `<|vision_start|><|video_pad|><|vision_end|>` (or
 * bare video pad) becomes, per temporal patch of the k-th video, its time as `<t seconds>` and
 * its own start / pads / end.
 */
export function expandVisionPlaceholders(prompt: string, images: readonly PreparedVisual[], videos: readonly PreparedVisual[], tokens: VisionTokens = QWEN_VISION_TOKENS): string {
  const videoTriple = tokens.visionStart + tokens.videoPad + tokens.visionEnd;
  const pattern = new RegExp(`${escape(videoTriple)}|${escape(tokens.videoPad)}|${escape(tokens.imagePad)}`, 'g');
  let image = 0;
  let video = 0;
  const out = prompt.replace(pattern, (match) => {
    if (match === tokens.imagePad) {
      const item = images[image++];
      if (!item) throw new VisionPromptError(`The prompt has more image placeholders than the ${images.length} image(s) given`);
      return tokens.imagePad.repeat(item.tokens);
    }
    const item = videos[video++];
    if (!item) throw new VisionPromptError(`The prompt has more video placeholders than the ${videos.length} video(s) given`);
    const perGroup = item.tokens / item.grid.t;
    return item.times.map((t) => timestampText(t) + tokens.visionStart + tokens.videoPad.repeat(perGroup) + tokens.visionEnd).join('');
  });
  if (image !== images.length) throw new VisionPromptError(`The prompt has ${image} image placeholder(s) for ${images.length} image(s)`);
  if (video !== videos.length) throw new VisionPromptError(`The prompt has ${video} video placeholder(s) for ${videos.length} video(s)`);
  return out;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
