import { QwenError } from '../loader/errors.ts';

/** An image could not be decoded, or its size or shape cannot be turned into patches. */
export class ImageInputError extends QwenError {
  constructor(problem: string) {
    super('bad-image', `${problem}. Attach a decodable image (PNG, JPEG, WebP, …) or pixels as {width, height, data} with 3 or 4 bytes per pixel.`);
  }
}

/** A video could not be decoded or sampled, or its frames disagree with each other. */
export class VideoInputError extends QwenError {
  constructor(problem: string) {
    super('bad-video', `${problem}. Attach a video as a list of frames (URLs or {width, height, data} pixels, all the same size) with their fps or timestamps.`);
  }
}

/** The images and videos of a request need more visual tokens than allowed. */
export class VisualTokenLimitError extends QwenError {
  constructor(problem: string) {
    super('too-many-visual-tokens', `${problem}. Attach fewer or smaller images or shorter videos, or raise max_visual_tokens (and the context size).`);
  }
}

/** The rendered prompt's vision placeholders do not match the request's images and videos. */
export class VisionPromptError extends QwenError {
  constructor(problem: string) {
    super('vision-prompt-mismatch', `${problem}. Put images and videos in content parts only; message text must not contain the tokens <|image_pad|>, <|video_pad|>, <|vision_start|> or <|vision_end|>.`);
  }
}
