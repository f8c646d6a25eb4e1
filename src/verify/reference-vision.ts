import type { GpuContext } from '../gpu/context.ts';
import type { VisualSegment } from '../model/visual-input.ts';

/** The reference.safetensors reads this needs (ReferenceTensors in verify-fixture.ts). */
export interface ReferenceReader {
  has(name: string): boolean;
  f32(name: string): Promise<Float32Array>;
  i32(name: string): Promise<Int32Array>;
}

/**
 * `npm run verify -- DIR --from-reference-vision`: the decoder's visual input taken from the
 * reference instead of a vision tower, a check of the decoder half only. Images are the rows with
 * mm_token_type_ids 1, videos those with 2, each in prompt order (as transformers places them);
 * their embeddings are the reference `embeddings` at those rows, their DeepStack levels the
 * reference `image_/video_deepstack_features` ([levels, rows, H]).
 */
export async function referenceVisualInput(ctx: GpuContext, reference: ReferenceReader, H: number): Promise<VisualSegment[]> {
  const types = await reference.i32('mm_token_type_ids');
  const embeddings = await reference.f32('embeddings');
  const segments: VisualSegment[] = [];
  for (const [type, prefix] of [[1, 'image'], [2, 'video']] as const) {
    const rows = Int32Array.from(types.keys()).filter((row) => types[row] === type);
    if (rows.length === 0) continue;
    const picked = new Float32Array(rows.length * H);
    rows.forEach((row, i) => picked.set(embeddings.subarray(row * H, (row + 1) * H), i * H));
    const features = `${prefix}_deepstack_features`;
    segments.push({
      rows,
      embeddings: upload(ctx, `verify.${prefix}_embeddings`, picked),
      deepstack: reference.has(features) ? upload(ctx, `verify.${features}`, await reference.f32(features)) : undefined,
    });
  }
  return segments;
}

function upload(ctx: GpuContext, label: string, data: Float32Array): GPUBuffer {
  const buffer = ctx.pool.storage(label, data.byteLength);
  ctx.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}
