/** Bytes as people read them (decimal units, as download sizes are quoted). */
export function formatBytes(bytes: number): string {
  return scaled(bytes, 1000, ['kB', 'MB', 'GB', 'TB'], (value) => (value < 10 ? 1 : 0));
}

/** GPU memory as it is sized and as the engine's reasons quote it: binary units (a "8 GB" GPU has 8 GiB). */
export function formatMemory(bytes: number): string {
  return scaled(bytes, 1024, ['KiB', 'MiB', 'GiB', 'TiB'], (value) => (value < 10 ? 2 : 1));
}

function scaled(bytes: number, base: number, units: string[], digits: (value: number) => number): string {
  if (!Number.isFinite(bytes)) return '–';
  if (bytes < base) return `${Math.round(bytes)} B`;
  let value = bytes / base;
  let unit = 0;
  while (value >= base && unit < units.length - 1) {
    value /= base;
    unit++;
  }
  return `${value.toFixed(digits(value))} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatRate(perSecond: number): string {
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1);
}

export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
}

/** What an error is about, in a few words, by its engine code (the message says the rest). */
const TITLES: Record<string, string> = {
  'context-full': 'Too long for the context',
  'unsupported-content': 'This model can’t read that attachment',
  busy: 'Still busy',
  'no-model': 'No model loaded',
  'bad-request': 'Invalid request',
  'model-not-found': 'Model not found',
  'not-cached': 'Couldn’t download the model',
  'unsupported-model': 'Not supported yet',
  'model-too-large': 'Doesn’t fit this GPU',
  'gpu-unavailable': 'WebGPU is not available',
  'device-lost': 'The GPU was lost',
  'malformed-checkpoint': 'Unreadable model files',
  'bad-config': 'Unexpected model configuration',
  'bad-tokenizer': 'Tokenizer problem',
  'bad-model-id': 'Not a model id or URL',
  aborted: 'Cancelled',
  'storage-quota': 'Not cached: storage is full',
  'storage-failed': 'Not cached',
};

export interface ErrorLike {
  name?: string;
  code?: string;
  message: string;
}

export function errorTitle(error: ErrorLike): string {
  return (error.code && TITLES[error.code]) || 'Something went wrong';
}

export function asErrorLike(e: unknown): ErrorLike {
  if (e && typeof e === 'object' && 'message' in e) {
    const { name, code, message } = e as ErrorLike;
    return { name, code, message: String(message) };
  }
  return { message: String(e) };
}
