import { QwenError } from './errors.ts';

export interface ModelSource {
  /** Ends with '/': file names are appended to it. */
  baseUrl: string;
  /** What to show the user, and the key the model's cache is stored under. */
  label: string;
}

/** The model string is neither a Hub repo id nor a URL. */
export class ModelIdError extends QwenError {
  constructor(model: string, problem: string) {
    super('bad-model-id', `${JSON.stringify(model)} ${problem}. Give a Hugging Face repo id such as "Qwen/Qwen3.5-0.8B" (optionally "@revision"), or a base URL serving the repo's files.`);
  }
}

const HUB = 'https://huggingface.co';
// The Hub's own rules: letters, digits, '-', '_', '.'; no leading/trailing '-' or '.', no '--' or '..'.
const NAME_PART = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$/;

/**
 * Where a model's files come from: `owner/name[@revision]` on the Hugging Face Hub (resolved
 * through `/resolve/<revision>/`, which redirects large files to the CDN), an http(s) base URL, or
 * a path on the page's own origin. Relative paths must start with '/', './' or '../' so they
 * cannot be mistaken for repo ids.
 */
export function resolveModelSource(model: string): ModelSource {
  const text = model.trim();
  if (text === '') throw new ModelIdError(model, 'is empty');
  if (/^https?:\/\//i.test(text)) return fromUrl(model, text);
  if (/^\.{0,2}\//.test(text)) return { baseUrl: withSlash(text), label: withSlash(text) };
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) throw new ModelIdError(model, 'uses a URL scheme other than http(s)');
  return fromRepoId(model, text);
}

function fromRepoId(model: string, text: string): ModelSource {
  const at = text.indexOf('@');
  const id = at < 0 ? text : text.slice(0, at);
  const revision = at < 0 ? 'main' : text.slice(at + 1);
  const parts = id.split('/');
  if (parts.length !== 2) throw new ModelIdError(model, `is not a repo id of the form owner/name${parts.length > 2 ? " (a path on this site must start with '/' or './')" : ''}`);
  for (const part of parts) {
    if (!NAME_PART.test(part) || part.includes('--') || part.includes('..')) {
      throw new ModelIdError(model, `has an invalid repo id part ${JSON.stringify(part)} (letters, digits, '-', '_', '.'; at most 96; no leading or trailing '-' or '.', no '--' or '..')`);
    }
  }
  // Branches may contain '/' (refs/pr/1), which the resolve URL takes percent-encoded.
  if (revision === '' || /[\s@]/.test(revision) || revision.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) {
    throw new ModelIdError(model, `has an invalid revision ${JSON.stringify(revision)}`);
  }
  return { baseUrl: `${HUB}/${id}/resolve/${encodeURIComponent(revision)}/`, label: at < 0 ? id : `${id}@${revision}` };
}

function fromUrl(model: string, text: string): ModelSource {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ModelIdError(model, 'is not a valid URL');
  }
  url.search = '';
  url.hash = '';
  // A repo's page (https://huggingface.co/owner/name) is what people copy; its files live under resolve/main.
  const segments = url.pathname.split('/').filter(Boolean);
  if (url.origin === HUB && segments.length === 2) return fromRepoId(model, segments.join('/'));
  return { baseUrl: withSlash(url.href), label: withSlash(url.href) };
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}
