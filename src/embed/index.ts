// The library's entry point (npm `qwen-webgpu`): the engine behind a worker, its types and
// errors, and the <qwen-chat> element class. Importing it defines nothing; see define.ts for that.
export type * from '../api.ts';
export { createWorkerEngine, type ChatStream, type EngineClient } from '../worker/client.ts';
export { QwenError } from '../worker/errors.ts';
export { QwenChatElement, defineQwenChat } from './qwen-chat.ts';
export { parseMarkdown, isSafeHref, type Block, type Inline } from './markdown.ts';
