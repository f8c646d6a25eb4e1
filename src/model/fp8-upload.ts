import type { Checkpoint } from '../loader/checkpoint.ts';
import { toF32, type FloatDtype } from '../loader/dtype.ts';
import { checkNoFp8NaN, type Fp8Tensor } from '../loader/fp8.ts';
import type { GpuContext } from '../gpu/context.ts';
import { ProgramBuilder, type Program } from '../gpu/program.ts';
import { matrixRowPairs, uploadF32, type GpuMatrix } from '../gpu/weights.ts';
import { Fp8Dequant } from '../kernels/fp8-dequant.ts';

/**
 * Loads FP8 checkpoints without a conversion step: each tensor's raw e4m3 bytes go to the GPU in
 * bounded chunks of whole rows (one reused staging buffer), its block scales once as f32, and
 * fp8_dequant.wgsl writes the dequantized rows straight into the matrix parts, in whatever pair
 * storage the context uses. Nothing stays allocated afterwards but the weights themselves.
 */
export class Fp8Uploader {
  private staging: GPUBuffer | null = null;

  private constructor(
    private readonly ctx: GpuContext,
    private readonly kernel: Fp8Dequant,
    private readonly chunkBytes: number,
  ) {}

  static async create(ctx: GpuContext, chunkBytes: number): Promise<Fp8Uploader> {
    return new Fp8Uploader(ctx, await Fp8Dequant.create(ctx), chunkBytes);
  }

  /**
   * Writes row r of tensor `t` [rows, cols] into matrix row rowBase + r·rowStep (a step of 2
   * interleaves two tensors); onChunk gets each chunk's bytes.
   */
  async upload(matrix: GpuMatrix, rowBase: number, rowStep: number, checkpoint: Checkpoint, t: Fp8Tensor, signal: AbortSignal | undefined, onChunk: (bytes: number) => void): Promise<void> {
    const { ctx } = this;
    const { name, file, shape: [, cols] } = t.weight;
    const scale = uploadF32(ctx, `${name}.scale`, toF32(await checkpoint.readTensor(t.scale.name, signal), t.scale.dtype as FloatDtype));
    const programs: Program[] = [];
    try {
      for await (const chunk of checkpoint.readTensorRows(name, this.chunkBytes, signal)) {
        checkNoFp8NaN(name, file, chunk.bytes, chunk.rowStart, cols);
        const words = padToWords(chunk.bytes);
        const staging = this.stagingFor(words.byteLength);
        ctx.device.queue.writeBuffer(staging, 0, words.buffer, words.byteOffset, words.byteLength);
        const b = new ProgramBuilder(ctx, `fp8_dequant.${name}`);
        const end = chunk.rowStart + chunk.rows;
        for (const part of matrix.parts) {
          // Tensor rows whose matrix row falls in this part.
          const from = Math.max(chunk.rowStart, Math.ceil((part.rowStart - rowBase) / rowStep));
          const to = Math.min(end, Math.floor((part.rowStart + part.rows - 1 - rowBase) / rowStep) + 1);
          if (from >= to) continue;
          this.kernel.record(b, {
            fp8: staging, scale, out: part.buffer, rows: to - from, cols, rowPairs: matrixRowPairs(matrix),
            srcRow: from - chunk.rowStart, dstRow: rowBase + from * rowStep - part.rowStart, dstStep: rowStep, tensorRow: chunk.rowStart, block: t.block,
          });
        }
        const program = b.build();
        programs.push(program);
        const encoder = ctx.device.createCommandEncoder({ label: program.label });
        program.encode(encoder, { cache_pos: 0, seed: 0 });
        ctx.device.queue.submit([encoder.finish()]);
        onChunk(chunk.bytes.byteLength);
      }
      // The staging buffer and the programs' uniforms are reused or freed only after the GPU read them.
      await ctx.device.queue.onSubmittedWorkDone();
    } finally {
      for (const p of programs) p.destroy();
      ctx.pool.destroy(scale);
    }
  }

  destroy(): void {
    if (this.staging) this.ctx.pool.destroy(this.staging);
    this.staging = null;
  }

  private stagingFor(bytes: number): GPUBuffer {
    if (this.staging && this.staging.size >= bytes) return this.staging;
    this.destroy();
    this.staging = this.ctx.pool.storage('fp8_dequant.staging', Math.max(bytes, this.chunkBytes));
    return this.staging;
  }
}

/** writeBuffer moves whole 4-byte words; a chunk of odd-width rows gets zero padding. */
function padToWords(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength % 4 === 0) return bytes;
  const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  padded.set(bytes);
  return padded;
}
