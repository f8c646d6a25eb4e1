/**
 * Every failure the engine reports is one of these classes, so callers can branch on the class
 * (or on `code`) and show `message`, which always says what went wrong and what to do about it.
 */
export class QwenError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A checkpoint file (safetensors, index) is truncated, inconsistent or not what it claims to be. */
export class CheckpointError extends QwenError {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super('malformed-checkpoint', `${file}: ${problem}. The file is damaged or not a Hugging Face checkpoint; download it again.`);
  }
}

/** config.json is missing a field, or its fields contradict each other or the checkpoint. */
export class ConfigError extends QwenError {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super('bad-config', `${file}: ${problem}. Check that config.json belongs to this checkpoint.`);
  }
}

/** The model is well-formed but this engine does not run it (yet). */
export class UnsupportedModelError extends QwenError {
  constructor(what: string) {
    super('unsupported-model', `${what}. Supported: Qwen3.5 text models, dense and mixture-of-experts (model_type qwen3_5, qwen3_5_text, qwen3_5_moe, qwen3_5_moe_text), and the Qwen3-VL decoder (qwen3_vl, qwen3_vl_text), BF16/F16/F32 or block-wise FP8.`);
  }
}

/** The model (or a buffer it needs) does not fit this GPU's limits or memory. */
export class ModelTooLargeError extends QwenError {
  constructor(problem: string) {
    super('model-too-large', `${problem}. Choose a smaller model or a shorter context, or use a GPU with more memory.`);
  }
}

/** The adapter lacks something the engine needs, or no adapter is available at all. */
export class GpuUnavailableError extends QwenError {
  constructor(problem: string) {
    super('gpu-unavailable', `${problem}. Use a browser with WebGPU enabled (Chrome/Edge 113+, or enable it in flags).`);
  }
}

/** The GPU device was lost (driver reset, tab backgrounded too long, out of memory). */
export class DeviceLostError extends QwenError {
  constructor(reason: string) {
    super('device-lost', `The GPU device was lost (${reason}). Load the model again to continue.`);
  }
}

/** A request was cancelled by its caller. */
export class AbortError extends QwenError {
  constructor(what = 'The request') {
    super('aborted', `${what} was aborted by the caller.`);
  }
}

/** The prompt plus generated tokens would exceed the context the engine was loaded with. */
export class ContextLengthError extends QwenError {
  constructor(needed: number, available: number) {
    super('context-full', `The conversation needs ${needed} tokens but the context holds ${available}. Start a new conversation or load the model with a larger maxContext.`);
  }
}
