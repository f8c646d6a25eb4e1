/**
 * Where the vision tower's output enters the decoder. A prompt's images form one segment and its
 * videos another (each in prompt order, as transformers places them): a segment's embedding rows
 * replace the token embeddings at its placeholder rows, on the GPU, right after the embedding
 * gather. (Qwen3-VL's DeepStack levels would be added at the same rows after the first layers.)
 */
export interface VisualSegment {
  /** Prompt rows (indexes into the ids given to prefill; distinct) taking this segment's rows, in order. */
  rows: Int32Array;
  /** [rows.length, H] f32: the merger's output rows. */
  embeddings: GPUBuffer;
  /** [levels, rows.length, H] f32: Qwen3-VL's DeepStack rows (Qwen3.5 has none). */
  deepstack?: GPUBuffer;
}

/** The rows of `ids` holding `tokenId` (an image or video placeholder), in order. */
export function placeholderRows(ids: ArrayLike<number>, tokenId: number | null): Int32Array {
  const rows: number[] = [];
  if (tokenId !== null) for (let i = 0; i < ids.length; i++) if (ids[i] === tokenId) rows.push(i);
  return Int32Array.from(rows);
}

/** One entry per prompt position: the segment row it takes, or -1 (the scatter_rows kernel's map). */
export function segmentRowMap(T: number, segment: VisualSegment): Int32Array {
  const map = new Int32Array(T).fill(-1);
  segment.rows.forEach((row, i) => {
    if (!(row >= 0 && row < T)) throw new RangeError(`visual segment row ${row} is outside the ${T}-token prompt`);
    if (map[row] !== -1) throw new RangeError(`visual segment row ${row} is given twice`);
    map[row] = i;
  });
  return map;
}
