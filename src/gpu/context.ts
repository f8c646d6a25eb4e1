import { GpuUnavailableError } from '../loader/errors.ts';
import { BufferPool } from './buffers.ts';
import { ParamLayout, STEP_LAYOUT } from './params.ts';

/** How weights are stored on the GPU: f16 pairs packed in u32 (default), or f32 pairs. */
export type WeightStorage = 'f16' | 'f32';

export type BindingKind = 'uniform' | 'read' | 'read_write';

/** A WGSL kernel and what it is specialised on; one entry point (`main`) per file. */
export interface KernelSpec {
  /** Shader file name without extension; also the pipeline label's prefix. */
  name: string;
  source: string;
  params: ParamLayout;
  /** Compile-time sizes injected as `const NAME: u32`; everything else is a uniform. */
  consts?: Record<string, number>;
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

/**
 * The device plus what every kernel needs: shader assembly, a pipeline cache keyed by the
 * kernel's canonical spec, and the buffer pool that owns the model's memory.
 */
export class GpuContext {
  readonly pool: BufferPool;
  private readonly pipelines = new Map<string, Promise<CompiledKernel>>();

  /** Largest buffer one binding may cover; weight matrices past it are split by rows. */
  readonly maxBindingBytes: number;

  constructor(
    readonly device: GPUDevice,
    readonly storage: WeightStorage,
    private readonly libraries: Record<string, string>,
    /** A smaller binding cap than the adapter's, to exercise weight splitting on small models. */
    maxBindingBytes?: number,
  ) {
    this.pool = new BufferPool(device);
    const adapterMax = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.maxBindingBytes = Math.min(maxBindingBytes ?? adapterMax, adapterMax);
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** `rmsnorm_f16_WG256`: readable, unique per variant; used as cache key and GPU label. */
  keyOf(spec: KernelSpec): string {
    const consts = Object.entries(spec.consts ?? {}).map(([k, v]) => `${k}${v}`);
    return [spec.name, this.storage, ...consts].join('_');
  }

  assemble(spec: KernelSpec): string {
    const consts = Object.entries(spec.consts ?? {})
      .map(([k, v]) => {
        if (!Number.isInteger(v) || v < 0) throw new Error(`${spec.name}: const ${k} must be a non-negative integer, got ${v}`);
        return `const ${k}: u32 = ${v}u;`;
      })
      .join('\n');
    const body = spec.source.replace(INCLUDE, (_, path: string) => {
      const lib = this.libraries[path];
      if (lib === undefined) throw new Error(`${spec.name}: unknown include "${path}"`);
      return lib;
    });
    return `// ${this.keyOf(spec)} (generated prelude)\n${consts}\n${WEIGHT_PRELUDE[this.storage]}${spec.params.wgsl()}${STEP_LAYOUT.wgsl()}\n${body}`;
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

function parseBindings(code: string, key: string): BindingKind[] {
  const kinds: BindingKind[] = [];
  for (const m of code.matchAll(BINDING)) {
    const kind = m[2].replace(/\s/g, '');
    kinds[Number(m[1])] = kind === 'uniform' ? 'uniform' : kind === 'storage,read_write' ? 'read_write' : 'read';
  }
  for (let i = 0; i < kinds.length; i++) if (!kinds[i]) throw new Error(`${key}: bindings must be numbered 0..n-1 without gaps (missing ${i})`);
  return kinds;
}
