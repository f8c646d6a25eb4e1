// The library's entry point (npm `qwen-webgpu`): the engine behind a worker, its types and
// errors, and the <qwen-chat> element class. Importing it defines nothing; see define.ts for that.
export type * from '../api.ts';
export { createWorkerEngine, type ChatStream, type EngineClient } from '../worker/client.ts';
export { QwenError } from '../worker/errors.ts';
export { QwenChatElement, defineQwenChat } from './qwen-chat.ts';
export { parseMarkdown, isSafeHref, type Block, type Inline } from './markdown.ts';
// Video from a file or a camera, in the page, as the loaded model's video processor samples it.
export { captureWebcam, decodeVideoFile, fitFrame, type CaptureOptions, type FrameFitter } from '../vision/browser-capture.ts';
