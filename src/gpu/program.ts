import type { CompiledKernel, GpuContext } from './context.ts';
import { STEP_LAYOUT, type StepValues } from './params.ts';

/** A buffer or a byte range of one, as bound to a kernel. */
export type Resource = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

/** WebGPU caps each grid dimension at 65535; kernels rebuild a flat id as x + y * num_workgroups.x. */
export function grid(count: number, y = 1): [number, number, number] {
  if (count <= 65535) return [Math.max(count, 1), y, 1];
  if (y !== 1) throw new Error(`grid: ${count} workgroups with y=${y} exceeds one dimension`);
  return [65535, Math.ceil(count / 65535), 1];
}

/** Uniform values packed at build time, or a caller-owned uniform buffer it rewrites itself. */
export type ParamSource = Record<string, number> | GPUBuffer;

interface Dispatch {
  kind: 'dispatch';
  kernel: CompiledKernel;
  params: ParamSource;
  resources: Resource[];
  workgroups: [number, number, number];
}
interface Copy {
  kind: 'copy';
  src: GPUBuffer;
  srcOffset: number;
  dst: GPUBuffer;
  dstOffset: number;
  size: number;
}
type Step = Dispatch | Copy;

const UNIFORM_ALIGN = 256;

/**
 * Records a fixed sequence of dispatches once, with every bind group and uniform written at build
 * time; running it only rewrites the small Step uniform and encodes the passes. The decode step
 * is one such program, so the decode loop allocates nothing.
 */
export class ProgramBuilder {
  private readonly steps: Step[] = [];

  constructor(
    private readonly ctx: GpuContext,
    readonly label: string,
  ) {}

  dispatch(kernel: CompiledKernel, params: ParamSource, resources: Resource[], workgroups: number | [number, number, number]): this {
    const wg = typeof workgroups === 'number' ? grid(workgroups) : workgroups;
    if (wg.some((n) => n === 0)) return this;
    this.steps.push({ kind: 'dispatch', kernel, params, resources, workgroups: wg });
    return this;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): this {
    this.steps.push({ kind: 'copy', src, srcOffset, dst, dstOffset, size });
    return this;
  }

  build(): Program {
    const { device, pool } = this.ctx;
    const packed = this.steps.filter((s) => s.kind === 'dispatch' && !(s.params instanceof GPUBuffer));
    const paramBuffer = pool.create(`${this.label}.params`, Math.max(1, packed.length) * UNIFORM_ALIGN, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const stepBuffer = pool.create(`${this.label}.step`, STEP_LAYOUT.byteSize, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const staging = new DataView(new ArrayBuffer(paramBuffer.size));
    const encoded: EncodedStep[] = [];
    let slot = 0;
    for (const step of this.steps) {
      if (step.kind === 'copy') {
        encoded.push(step);
        continue;
      }
      const { kernel } = step;
      const own = step.params instanceof GPUBuffer ? null : step.params;
      const offset = own ? slot++ * UNIFORM_ALIGN : 0;
      if (own) kernel.params.pack(own, staging, offset);
      const paramsBinding = own ? { buffer: paramBuffer, offset, size: kernel.params.byteSize } : { buffer: step.params as GPUBuffer };
      let uniformsSeen = 0;
      let next = 0;
      const entries: GPUBindGroupEntry[] = kernel.bindings.map((kind, binding) => {
        if (kind === 'uniform') {
          // The kernel's first uniform binding is its Params, a second one is the shared Step.
          return { binding, resource: uniformsSeen++ === 0 ? paramsBinding : { buffer: stepBuffer } };
        }
        const r = step.resources[next++];
        if (!r) throw new Error(`${kernel.key}: binding ${binding} has no buffer (${step.resources.length} given)`);
        return { binding, resource: 'buffer' in r ? r : { buffer: r } };
      });
      if (next !== step.resources.length) throw new Error(`${kernel.key}: ${step.resources.length} buffers given for ${next} storage bindings`);
      const bindGroup = device.createBindGroup({ label: kernel.key, layout: kernel.pipeline.getBindGroupLayout(0), entries });
      encoded.push({ kind: 'dispatch', pipeline: kernel.pipeline, bindGroup, workgroups: step.workgroups });
    }
    device.queue.writeBuffer(paramBuffer, 0, staging.buffer);
    return new Program(this.ctx, this.label, encoded, paramBuffer, stepBuffer);
  }
}

type EncodedStep = Copy | { kind: 'dispatch'; pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; workgroups: [number, number, number] };

export class Program {
  readonly dispatchCount: number;
  /** Compute passes per run: one, plus one more after each copy (copies cannot sit inside a pass). */
  readonly passCount: number;
  private readonly stepData = new DataView(new ArrayBuffer(STEP_LAYOUT.byteSize));

  constructor(
    private readonly ctx: GpuContext,
    readonly label: string,
    private readonly steps: EncodedStep[],
    private readonly paramBuffer: GPUBuffer,
    private readonly stepBuffer: GPUBuffer,
  ) {
    this.dispatchCount = steps.filter((s) => s.kind === 'dispatch').length;
    let passes = 0;
    let inPass = false;
    for (const s of steps) {
      if (s.kind === 'dispatch' && !inPass) passes++;
      inPass = s.kind === 'dispatch';
    }
    this.passCount = passes;
  }

  /** Writes the step uniform (queued before the encoder's work) and records the program. */
  encode(encoder: GPUCommandEncoder, step: StepValues): void {
    STEP_LAYOUT.pack({ ...step }, this.stepData);
    this.ctx.device.queue.writeBuffer(this.stepBuffer, 0, this.stepData.buffer);
    let pass: GPUComputePassEncoder | null = null;
    for (const s of this.steps) {
      if (s.kind === 'copy') {
        pass?.end();
        pass = null;
        encoder.copyBufferToBuffer(s.src, s.srcOffset, s.dst, s.dstOffset, s.size);
        continue;
      }
      pass ??= encoder.beginComputePass({ label: this.label });
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroup);
      pass.dispatchWorkgroups(...s.workgroups);
    }
    pass?.end();
  }

  destroy(): void {
    this.ctx.pool.destroy(this.paramBuffer);
    this.ctx.pool.destroy(this.stepBuffer);
  }
}
