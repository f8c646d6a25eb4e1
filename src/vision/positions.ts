import type { Qwen35Config } from '../loader/config.ts';
import type { GridThw } from '../loader/vision-config.ts';
import type { PreparedVisual } from './preprocess.ts';
import { VisionPromptError } from './errors.ts';

/** Token kinds of mm_token_type_ids. */
export const TEXT = 0;
export const IMAGE = 1;
export const VIDEO = 2;

/** 0 text, 1 image placeholder, 2 video placeholder, for every prompt token. */
export function tokenTypes(ids: ArrayLike<number>, imageTokenId: number | null, videoTokenId: number | null): Int32Array {
  const types = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) types[i] = ids[i] === imageTokenId ? IMAGE : ids[i] === videoTokenId ? VIDEO : TEXT;
  return types;
}

/**
 * Qwen3.5's get_rope_index: M-RoPE positions [3, T] (temporal, height, width) of a prompt and its
 * rope delta. Text runs advance all three axes together; each run of placeholders takes the next
 * grid of its kind (a video contributes one grid per temporal group, since timestamps separate
 * them), places its merged tokens at (s, s + row, s + column) and moves on by max(rows, columns).
 * Decode step p then sits at p + delta on every axis.
 */
export function multimodalPositions(
  types: Int32Array, imageGrids: readonly GridThw[], videoGrids: readonly GridThw[], mergeSize: number,
): { positions: Int32Array; ropeDelta: number } {
  const T = types.length;
  const positions = new Int32Array(3 * T);
  const queues: Record<number, GridThw[]> = {
    [IMAGE]: [...imageGrids],
    [VIDEO]: videoGrids.flatMap((g) => Array.from({ length: g.t }, () => ({ t: 1, h: g.h, w: g.w }))),
  };
  let current = 0;
  let max = -1;
  for (let start = 0; start < T; ) {
    let end = start;
    while (end < T && types[end] === types[start]) end++;
    if (types[start] === TEXT) {
      for (let i = start; i < end; i++) {
        const p = current + i - start;
        positions[i] = positions[T + i] = positions[2 * T + i] = p;
      }
      current += end - start;
      max = Math.max(max, current - 1);
    } else {
      const grid = queues[types[start]].shift();
      const kind = types[start] === IMAGE ? 'image' : 'video';
      if (!grid) throw new VisionPromptError(`The prompt has more ${kind} placeholder runs than ${kind} inputs`);
      const rows = grid.h / mergeSize;
      const cols = grid.w / mergeSize;
      if (end - start !== grid.t * rows * cols) {
        throw new VisionPromptError(`A run of ${end - start} ${kind} placeholders does not match its grid ${grid.t}×${grid.h}×${grid.w} (${grid.t * rows * cols} tokens)`);
      }
      let i = start;
      for (let t = 0; t < grid.t; t++) {
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++, i++) {
            positions[i] = current + t;
            positions[T + i] = current + r;
            positions[2 * T + i] = current + c;
            max = Math.max(max, current + t, current + r, current + c);
          }
        }
      }
      current += Math.max(grid.h, grid.w) / mergeSize;
    }
    start = end;
  }
  return { positions, ropeDelta: max + 1 - T };
}

/**
 * M-RoPE positions of the prompt and its placeholder rows: the prompt indexes of the image pads and
 * of the video pads, in order, checked against the tokens the inputs need.
 */
export function promptPlacement(
  ids: ArrayLike<number>, config: Qwen35Config, images: readonly PreparedVisual[], videos: readonly PreparedVisual[], mergeSize: number,
): { positions: Int32Array; ropeDelta: number; imageRows: Int32Array; videoRows: Int32Array } {
  const types = tokenTypes(ids, config.imageTokenId, config.videoTokenId);
  const rowsOf = (kind: number) => Int32Array.from(Array.from(types).flatMap((t, i) => (t === kind ? [i] : [])));
  const imageRows = rowsOf(IMAGE);
  const videoRows = rowsOf(VIDEO);
  const imageTokens = images.reduce((sum, p) => sum + p.tokens, 0);
  const videoTokens = videos.reduce((sum, p) => sum + p.tokens, 0);
  if (imageRows.length !== imageTokens || videoRows.length !== videoTokens) {
    throw new VisionPromptError(`The prompt encodes to ${imageRows.length} image and ${videoRows.length} video placeholder tokens, but the inputs need ${imageTokens} and ${videoTokens}`);
  }
  const { positions, ropeDelta } = multimodalPositions(types, images.map((p) => p.grid), videos.map((p) => p.grid), mergeSize);
  return { positions, ropeDelta, imageRows, videoRows };
}
