/**
 * Uniform layouts defined once: a field list generates both the WGSL `struct Params` text and the
 * packer, so the two can never disagree about order or type. Every field is a 4-byte scalar, which
 * keeps the WGSL layout rules trivial (offset = 4 × index, size rounded up to 16).
 */
export type ScalarType = 'u32' | 'i32' | 'f32';
export type ParamFields = Record<string, ScalarType>;

export class ParamLayout {
  readonly names: string[];
  readonly byteSize: number;

  constructor(
    readonly structName: string,
    readonly fields: ParamFields,
  ) {
    this.names = Object.keys(fields);
    this.byteSize = Math.max(16, Math.ceil((this.names.length * 4) / 16) * 16);
  }

  wgsl(): string {
    const body = this.names.map((n) => `  ${n}: ${this.fields[n]},`).join('\n');
    return `struct ${this.structName} {\n${body}\n}\n`;
  }

  /** Writes `values` at `byteOffset` of `target`; every field must be given. */
  pack(values: Record<string, number>, target: DataView, byteOffset = 0): void {
    this.names.forEach((name, i) => {
      const v = values[name];
      if (v === undefined || !Number.isFinite(v)) throw new Error(`${this.structName}.${name} missing or not finite: ${v}`);
      const at = byteOffset + i * 4;
      const type = this.fields[name];
      if (type === 'f32') target.setFloat32(at, v, true);
      else if (type === 'i32') target.setInt32(at, v, true);
      else {
        if (v < 0 || !Number.isInteger(v)) throw new Error(`${this.structName}.${name} must be a non-negative integer, got ${v}`);
        target.setUint32(at, v, true);
      }
    });
  }
}

/** Per-step values shared by every dispatch of a program and rewritten before each submit. */
export const STEP_LAYOUT = new ParamLayout('Step', {
  /** Cache row of the program's first token (tokens before it are already in the KV cache). */
  cache_pos: 'u32',
  /** Sampling: a fresh random seed per step. */
  seed: 'u32',
});
export interface StepValues {
  cache_pos: number;
  seed: number;
}
