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
    const out = new Uint8Array(end - start);
    await this.readInto(path, start, end, out, signal);
    return out;
  }

  /**
   * Streams bytes [start, end) into the start of `target` as they arrive, so the only copy of the
   * range the heap ever holds is `target` itself (a whole response body is never buffered).
   */
  async readInto(path: string, start: number, end: number, target: Uint8Array, signal?: AbortSignal): Promise<void> {
    const length = end - start;
    if (length <= 0) return;
    if (target.byteLength < length) throw new RangeError(`target holds ${target.byteLength} bytes, ${length} needed`);
    const url = this.url(path);
    const response = await this.request(path, url, 'GET', { Range: `bytes=${start}-${end - 1}` }, signal);
    if (response.status === 416) {
      void response.body?.cancel();
      throw new CheckpointError(path, `read past the end: bytes [${start}, ${end}) requested from ${url} (HTTP 416)`);
    }
    if (!response.ok) throw httpError(path, 'GET', url, response);
    // A 200 is the whole file from a server that ignores Range: skip to `start`, stop at `end`.
    const partial = response.status === 206;
    const received = await this.stream(path, url, response, target, partial ? 0 : start, length, signal);
    if (partial && received !== length) throw new CheckpointError(path, `${received < length ? 'short' : 'long'} read: bytes [${start}, ${end}) requested from ${url}, ${received} received (HTTP 206)`);
    if (!partial && received < length) throw new CheckpointError(path, `read past the end (${end} > ${start + received} bytes) at ${url} (HTTP ${response.status})`);
  }

  /**
   * Copies body bytes [skip, skip + length) into target. Returns how many body bytes from `skip` on
   * arrived; it stops reading (and says more than `length`) once the body goes past the range.
   */
  private async stream(path: string, url: string, response: Response, target: Uint8Array, skip: number, length: number, signal?: AbortSignal): Promise<number> {
    if (!response.body) return 0;
    const reader = response.body.getReader();
    let seen = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return Math.max(0, seen - skip);
        const from = Math.max(0, skip - seen);
        const to = Math.min(value.byteLength, skip + length - seen);
        if (to > from) target.set(value.subarray(from, to), seen + from - skip);
        seen += value.byteLength;
        if (seen - skip > length) {
          void reader.cancel();
          return seen - skip;
        }
      }
    } catch (e) {
      if (signal?.aborted) throw new AbortError(`Reading ${path}`);
      throw new CheckpointError(path, `download from ${url} broke off (${(e as Error).message})`);
    }
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

/** The server answered, with an error status (as opposed to not answering at all). */
export class HttpStatusError extends CheckpointError {
  constructor(
    file: string,
    problem: string,
    readonly status: number,
  ) {
    super(file, problem);
  }
}

function httpError(path: string, method: string, url: string, response: Response): HttpStatusError {
  void response.body?.cancel(); // release the connection; the error page is not needed
  const what = response.status === 404 ? 'not found' : `${method} failed`;
  return new HttpStatusError(path, `${what}: ${url} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`, response.status);
}
