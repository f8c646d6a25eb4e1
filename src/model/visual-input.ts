import type { Qwen35Config } from '../loader/config.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { ProgramBuilder } from '../gpu/program.ts';
import type { KernelSet } from '../layers/kernel-set.ts';
import type { Scratch } from '../layers/scratch.ts';

/**
 * Where a vision tower's output enters the decoder. A prompt's images form one segment and its
 * videos another (each in prompt order, as transformers places them): the segment's embedding rows
 * replace the token embeddings at its placeholder rows, and for Qwen3-VL its DeepStack level k is
 * added to the residual stream at the same rows after decoder layer k. Everything stays on the GPU.
 */
export interface VisualSegment {
  /** Prompt rows (indexes into the ids given to prefill; distinct) taking this segment's rows, in order. */
  rows: Int32Array;
  /** [rows.length, H] f32: the merger's output rows. */
  embeddings: GPUBuffer;
  /** [levels, rows.length, H] f32, levels = deepstack_visual_indexes.length: the DeepStack mergers' rows. */
  deepstack?: GPUBuffer;
}

/** The rows of `ids` holding `tokenId` (an image or video placeholder), in order. */
export function placeholderRows(ids: Int32Array, tokenId: number | null): Int32Array {
  if (tokenId === null) return new Int32Array(0);
  const rows: number[] = [];
  ids.forEach((id, row) => id === tokenId && rows.push(row));
  return Int32Array.from(rows);
}

interface PreparedSegment {
  /** (prompt row, source row) pairs sorted by prompt row. */
  map: GPUBuffer;
  sortedRows: Int32Array;
  n: number;
  embeddings: GPUBuffer;
  deepstack?: GPUBuffer;
}

/** What one prefill chunk's program records: the segments' map entries whose rows fall in the chunk. */
export interface VisualChunk {
  rowBase: number;
  H: number;
  levels: number;
  parts: { map: GPUBuffer; mapOffset: number; count: number; n: number; embeddings: GPUBuffer; deepstack?: GPUBuffer }[];
}

/** A prompt's visual segments checked against the prompt and the config, with their maps uploaded. */
export class PreparedVisual {
  private constructor(
    private readonly ctx: GpuContext,
    private readonly segments: PreparedSegment[],
    private readonly H: number,
    private readonly levels: number,
  ) {}

  static prepare(ctx: GpuContext, c: Qwen35Config, ids: Int32Array, segments: readonly VisualSegment[]): PreparedVisual {
    const H = c.hiddenSize;
    const levels = c.deepstackVisualIndexes.length;
    const placeholders = new Set([c.imageTokenId, c.videoTokenId].filter((id): id is number => id !== null));
    const taken = new Set<number>();
    for (const [s, seg] of segments.entries()) {
      const n = seg.rows.length;
      for (const row of seg.rows) {
        if (!(row >= 0 && row < ids.length)) throw new RangeError(`visual segment ${s}: row ${row} is outside the ${ids.length}-token prompt`);
        if (taken.has(row)) throw new RangeError(`visual segment ${s}: row ${row} is given twice`);
        if (placeholders.size && !placeholders.has(ids[row])) throw new RangeError(`visual segment ${s}: row ${row} holds token ${ids[row]}, not an image or video placeholder`);
        taken.add(row);
      }
      if (seg.embeddings.size < n * H * 4) throw new RangeError(`visual segment ${s}: embeddings hold ${seg.embeddings.size} bytes, [${n}, ${H}] f32 needs ${n * H * 4}`);
      if (levels > 0 && !seg.deepstack) throw new RangeError(`visual segment ${s}: this model adds ${levels} DeepStack levels, but none were given`);
      if (levels === 0 && seg.deepstack) throw new RangeError(`visual segment ${s}: DeepStack features given, but this model has no DeepStack levels`);
      if (seg.deepstack && seg.deepstack.size < levels * n * H * 4) throw new RangeError(`visual segment ${s}: DeepStack features hold ${seg.deepstack.size} bytes, [${levels}, ${n}, ${H}] f32 needs ${levels * n * H * 4}`);
    }
    const prepared = segments.filter((seg) => seg.rows.length > 0).map((seg, s): PreparedSegment => {
      const order = Array.from(seg.rows.keys()).sort((a, b) => seg.rows[a] - seg.rows[b]);
      const pairs = new Uint32Array(order.flatMap((src) => [seg.rows[src], src]));
      const map = ctx.pool.storage(`visual.map${s}`, pairs.byteLength);
      ctx.device.queue.writeBuffer(map, 0, pairs);
      return { map, sortedRows: Int32Array.from(order, (src) => seg.rows[src]), n: seg.rows.length, embeddings: seg.embeddings, deepstack: seg.deepstack };
    });
    return new PreparedVisual(ctx, prepared, H, levels);
  }

  /** The visual work of prompt chunk [start, start + n), or undefined when no visual row falls in it. */
  chunk(start: number, n: number): VisualChunk | undefined {
    const parts = this.segments.flatMap((seg) => {
      const lo = lowerBound(seg.sortedRows, start);
      const hi = lowerBound(seg.sortedRows, start + n);
      return hi > lo ? [{ map: seg.map, mapOffset: lo, count: hi - lo, n: seg.n, embeddings: seg.embeddings, deepstack: seg.deepstack }] : [];
    });
    return parts.length ? { rowBase: start, H: this.H, levels: this.levels, parts } : undefined;
  }

  destroy(): void {
    for (const seg of this.segments) this.ctx.pool.destroy(seg.map);
  }
}

function lowerBound(sorted: Int32Array, value: number): number {
  let [lo, hi] = [0, sorted.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** After the token embedding: the visual rows replace the placeholders' embeddings in s.x. */
export function recordVisualEmbeddings(b: ProgramBuilder, k: KernelSet, s: Scratch, v: VisualChunk): void {
  for (const p of v.parts) {
    k.scatterRows.record(b, { map: p.map, mapOffset: p.mapOffset, count: p.count, src: p.embeddings, srcOffset: 0, out: s.x, rowBase: v.rowBase, H: v.H, accumulate: false });
  }
}

/** After decoder layer `layer` < levels: that DeepStack level is added at the visual rows of s.x. */
export function recordDeepstack(b: ProgramBuilder, k: KernelSet, s: Scratch, v: VisualChunk, layer: number): void {
  for (const p of v.parts) {
    k.scatterRows.record(b, { map: p.map, mapOffset: p.mapOffset, count: p.count, src: p.deepstack!, srcOffset: layer * p.n * v.H, out: s.x, rowBase: v.rowBase, H: v.H, accumulate: true });
  }
}
