import { AbortError, CheckpointError } from './errors.ts';
import type { FileSource } from './file-source.ts';

export interface FileStat {
  size: number;
  /** ETag (or the Hub's X-Linked-Etag) when the server sends one. */
  etag: string | null;
}

export interface FetchSourceOptions {
  /** Sent with every request, e.g. `{ Authorization: 'Bearer hf_…' }` for a gated Hub repo. */
  headers?: Record<string, string>;
}

/**
 * A model repo served over HTTP: a Hub resolve URL (`https://huggingface.co/<repo>/resolve/<rev>/`)
 * or any base URL serving the same file names. Uses only `fetch`, so it works in pages, workers
 * and Node alike. Reads are Range requests, so a shard is never downloaded whole.
 */
export class FetchSource implements FileSource {
  readonly description: string;
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly options: FetchSourceOptions = {},
  ) {
    this.base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    this.description = this.base;
  }

  async size(path: string): Promise<number | null> {
    return (await this.stat(path))?.size ?? null;
  }

  /** Size plus the validator a cache compares to notice that the file changed upstream. */
  async stat(path: string): Promise<FileStat | null> {
    const url = this.url(path);
    const response = await this.request(path, url, 'HEAD');
    if (response.status === 404) return null;
    if (!response.ok) throw httpError(path, 'HEAD', url, response);
    // The Hub sends X-Linked-* on LFS files (the object's sha256 and size); they are readable
    // where the redirect to the CDN is visible (Node, same-origin mirrors), else plain ETag is used.
    const etag = response.headers.get('X-Linked-Etag') ?? response.headers.get('ETag');
    const length = Number(response.headers.get('X-Linked-Size') ?? response.headers.get('Content-Length') ?? NaN);
    // A compressed answer's length is not the file's, and a missing one (e.g. a CORS proxy hiding it)
    // is no length at all: measure the body instead. Servers do this only for small text files.
    const encoding = response.headers.get('Content-Encoding');
    if (Number.isSafeInteger(length) && length >= 0 && (!encoding || encoding === 'identity')) return { size: length, etag };
    const full = await this.request(path, url, 'GET');
    if (full.status === 404) return null;
    if (!full.ok) throw httpError(path, 'GET', url, full);
    return { size: (await this.body(path, url, full)).byteLength, etag: full.headers.get('ETag') };
  }

  async read(path: string, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    const url = this.url(path);
    const response = await this.request(path, url, 'GET', { Range: `bytes=${start}-${end - 1}` }, signal);
    if (response.status === 416) {
      void response.body?.cancel();
      throw new CheckpointError(path, `read past the end: bytes [${start}, ${end}) requested from ${url} (HTTP 416)`);
    }
    if (!response.ok) throw httpError(path, 'GET', url, response);
    const body = await this.body(path, url, response, signal);
    if (response.status === 206) {
      if (body.byteLength !== end - start) throw new CheckpointError(path, `short read: bytes [${start}, ${end}) requested from ${url}, ${body.byteLength} received (HTTP 206)`);
      return body;
    }
    // A 200 is the whole file from a server that ignores Range.
    if (body.byteLength < end) throw new CheckpointError(path, `read past the end (${end} > ${body.byteLength} bytes) at ${url} (HTTP ${response.status})`);
    return body.subarray(start, end);
  }

  private url(path: string): string {
    return this.base + path.split('/').map(encodeURIComponent).join('/');
  }

  private async body(path: string, url: string, response: Response, signal?: AbortSignal): Promise<Uint8Array> {
    try {
      return new Uint8Array(await response.arrayBuffer());
    } catch (e) {
      if (signal?.aborted) throw new AbortError(`Reading ${path}`);
      throw new CheckpointError(path, `download from ${url} broke off (${(e as Error).message})`);
    }
  }

  private async request(path: string, url: string, method: string, extra: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    try {
      return await fetch(url, { method, headers: { ...this.options.headers, ...extra }, signal });
    } catch (e) {
      if (signal?.aborted) throw new AbortError(`Reading ${path}`);
      throw new CheckpointError(path, `cannot fetch ${url} (${(e as Error).message})`);
    }
  }
}

function httpError(path: string, method: string, url: string, response: Response): CheckpointError {
  void response.body?.cancel(); // release the connection; the error page is not needed
  const what = response.status === 404 ? 'not found' : `${method} failed`;
  return new CheckpointError(path, `${what}: ${url} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
}
