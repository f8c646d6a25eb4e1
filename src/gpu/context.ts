import { GpuUnavailableError } from '../loader/errors.ts';
import { BufferPool } from './buffers.ts';
import { ParamLayout, STEP_LAYOUT } from './params.ts';
import { arithPrelude, formatPrelude, hasShiftFreeDecode, type ShaderArith } from './shader-preludes.ts';
import type { WeightFormat } from './weight-formats.ts';

/** How unquantized weights are stored on the GPU: f16 pairs packed in u32 (default), or f32 pairs. */
export type WeightStorage = 'f16' | 'f32';
export type { ShaderArith } from './shader-preludes.ts';

export type BindingKind = 'uniform' | 'read' | 'read_write';

/** A WGSL kernel and what it is specialised on; one entry point (`main`) per file. */
export interface KernelSpec {
  /** Shader file name without extension; also the pipeline label's prefix. */
  name: string;
  source: string;
  params: ParamLayout;
  /** Compile-time sizes injected as `const NAME: u32`; everything else is a uniform. */
  consts?: Record<string, number>;
  /** The weight format the kernel decodes through the `w_unit` prelude (shader-preludes.ts). */
  weights?: { format: WeightFormat; groupSize: number };
}

export interface ContextOptions {
  /** Arithmetic type `F` of the kernels that use it: 'f16' needs the device's shader-f16. */
  arith?: ShaderArith;
  /** Use subgroup operations for lane reductions (default: when the device has `subgroups`). */
  subgroups?: boolean;
  /**
   * Prefer kernels without workgroup barriers (default: on CPU adapters). SwiftShader runs a
   * workgroup with barriers as one coroutine per 4 invocations: measured there, a kernel of 256-lane
   * workgroups pays ~1.4 ms per workgroup just for having a barrier (ARCHITECTURE.md).
   */
  barrierFree?: boolean;
}

export interface CompiledKernel {
  key: string;
  pipeline: GPUComputePipeline;
  /** Binding kinds in binding order, parsed from the shader's declarations. */
  bindings: BindingKind[];
  params: ParamLayout;
}

const INCLUDE = /^\s*\/\/\s*#include\s+"([^"]+)"\s*$/gm;
const BINDING = /@group\(0\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage\s*,\s*read_write|storage\s*,\s*read|storage)\s*>/g;

const WEIGHT_PRELUDE: Record<WeightStorage, string> = {
  f16: 'alias WPair = u32;\nfn w_pair(p: u32) -> vec2<f32> { return unpack2x16float(p); }\n',
  f32: 'alias WPair = vec2<f32>;\nfn w_pair(p: vec2<f32>) -> vec2<f32> { return p; }\n',
};
const SUBGROUP_BUILTIN = /\bsubgroup[A-Z]\w*\s*\(/;

/**
 * The device plus what every kernel needs: shader assembly, a pipeline cache keyed by the
 * kernel's canonical spec, and the buffer pool that owns the model's memory.
 */
/**
 * Pipelines depend only on the device, the shader libraries and the key (which names every input
 * of assemble()), so contexts on one device share them: a second model, or a test's many small
 * contexts, compile nothing twice (SwiftShader takes ~0.3-0.5 s per matmul pipeline).
 */
const PIPELINES = new WeakMap<GPUDevice, WeakMap<Record<string, string>, Map<string, Promise<CompiledKernel>>>>();

function pipelineCache(device: GPUDevice, libraries: Record<string, string>): Map<string, Promise<CompiledKernel>> {
  let byLibraries = PIPELINES.get(device);
  if (!byLibraries) PIPELINES.set(device, (byLibraries = new WeakMap()));
  let cache = byLibraries.get(libraries);
  if (!cache) byLibraries.set(libraries, (cache = new Map()));
  return cache;
}

export class GpuContext {
  readonly pool: BufferPool;
  private readonly pipelines: Map<string, Promise<CompiledKernel>>;

  /** Largest buffer one binding may cover; weight matrices past it are split by rows. */
  readonly maxBindingBytes: number;
  readonly arith: ShaderArith;
  readonly subgroups: boolean;
  readonly barrierFree: boolean;

  constructor(
    readonly device: GPUDevice,
    readonly storage: WeightStorage,
    private readonly libraries: Record<string, string>,
    /** A smaller binding cap than the adapter's, to exercise weight splitting on small models. */
    maxBindingBytes?: number,
    options: ContextOptions = {},
  ) {
    this.pool = new BufferPool(device);
    this.pipelines = pipelineCache(device, libraries);
    const adapterMax = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.maxBindingBytes = Math.min(maxBindingBytes ?? adapterMax, adapterMax);
    this.arith = options.arith ?? 'f32';
    if (this.arith === 'f16' && !device.features.has('shader-f16')) throw new GpuUnavailableError('f16 arithmetic needs a device with shader-f16');
    this.subgroups = options.subgroups ?? device.features.has('subgroups');
    if (this.subgroups && !device.features.has('subgroups')) throw new GpuUnavailableError('subgroup reductions need a device with the subgroups feature');
    this.barrierFree = options.barrierFree ?? isCpuAdapter(device);
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** `rmsnorm_f16_WG256`, `matmul_gemv_q4g32_f16x_sg_...`: readable, unique per variant; cache key and GPU label. */
  keyOf(spec: KernelSpec): string {
    const consts = Object.entries(spec.consts ?? {}).map(([k, v]) => `${k}${v}`);
    const weights = spec.weights ? `${spec.weights.format}${spec.weights.groupSize ? `g${spec.weights.groupSize}` : ''}` : this.storage;
    const variant = [this.arith === 'f16' ? 'f16x' : null, this.subgroups && this.usesLaneSum(spec) ? 'sg' : null, this.shiftFree(spec) ? 'sf' : null].filter(Boolean);
    return [spec.name, weights, ...variant, ...consts].join('_');
  }

  /** CPU adapters decode q8/q4 without vector shifts, which SwiftShader scalarises (shader-preludes.ts). */
  private shiftFree(spec: KernelSpec): boolean {
    return this.barrierFree && spec.weights !== undefined && hasShiftFreeDecode(spec.weights.format);
  }

  private usesLaneSum(spec: KernelSpec): boolean {
    return spec.source.includes('#include "lib/lane_sum.wgsl"');
  }

  assemble(spec: KernelSpec): string {
    const consts = Object.entries(spec.consts ?? {})
      .map(([k, v]) => {
        if (!Number.isInteger(v) || v < 0) throw new Error(`${spec.name}: const ${k} must be a non-negative integer, got ${v}`);
        return `const ${k}: u32 = ${v}u;`;
      })
      .join('\n');
    const body = spec.source.replace(INCLUDE, (_, path: string) => {
      // The lane reduction is the one include with two implementations: subgroup shuffles or workgroup memory.
      const resolved = path === 'lib/lane_sum.wgsl' ? `lib/lane_sum_${this.subgroups ? 'subgroup' : 'workgroup'}.wgsl` : path;
      const lib = this.libraries[resolved];
      if (lib === undefined) throw new Error(`${spec.name}: unknown include "${resolved}"`);
      return lib;
    });
    const enables = [this.arith === 'f16' ? 'enable f16;' : '', SUBGROUP_BUILTIN.test(body) ? 'enable subgroups;' : ''].filter(Boolean).join('\n');
    const weights = spec.weights ? formatPrelude(spec.weights.format, spec.weights.groupSize, this.arith, this.shiftFree(spec)) : WEIGHT_PRELUDE[this.storage];
    return `${enables}\n// ${this.keyOf(spec)} (generated prelude)\n${consts}\n${arithPrelude(this.arith)}${weights}${spec.params.wgsl()}${STEP_LAYOUT.wgsl()}\n${body}`;
  }

  kernel(spec: KernelSpec): Promise<CompiledKernel> {
    const key = this.keyOf(spec);
    let compiled = this.pipelines.get(key);
    if (!compiled) {
      compiled = this.compile(key, spec);
      this.pipelines.set(key, compiled);
    }
    return compiled;
  }

  private async compile(key: string, spec: KernelSpec): Promise<CompiledKernel> {
    const code = this.assemble(spec);
    const bindings = parseBindings(code, key);
    const module = this.device.createShaderModule({ label: key, code });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length) {
      const lines = code.split('\n');
      const detail = errors.map((m) => `line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1] ?? ''}`).join('\n');
      throw new Error(`WGSL compile error in ${key}:\n${detail}`);
    }
    const layout = this.device.createBindGroupLayout({
      label: key,
      entries: bindings.map((kind, binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage' },
      })),
    });
    this.device.pushErrorScope('validation');
    const pipeline = await this.device.createComputePipelineAsync({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    const error = await this.device.popErrorScope();
    if (error) throw new GpuUnavailableError(`Pipeline ${key} failed: ${error.message}`);
    return { key, pipeline, bindings, params: spec.params };
  }
}

/** SwiftShader (and any adapter the browser marks as the software fallback) emulates the GPU on the CPU. */
function isCpuAdapter(device: GPUDevice): boolean {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).adapterInfo;
  return Boolean(info && (info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(`${info.architecture} ${info.device} ${info.description}`)));
}

function parseBindings(code: string, key: string): BindingKind[] {
  const kinds: BindingKind[] = [];
  for (const m of code.matchAll(BINDING)) {
    const kind = m[2].replace(/\s/g, '');
    kinds[Number(m[1])] = kind === 'uniform' ? 'uniform' : kind === 'storage,read_write' ? 'read_write' : 'read';
  }
  for (let i = 0; i < kinds.length; i++) if (!kinds[i]) throw new Error(`${key}: bindings must be numbered 0..n-1 without gaps (missing ${i})`);
  return kinds;
}
