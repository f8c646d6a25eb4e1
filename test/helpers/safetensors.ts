/** Builds safetensors files in memory, valid or deliberately broken, for the loader tests. */

/** 8-byte length (overridable, to forge truncation), the header JSON padded with spaces to 8 bytes, then the data. */
export function encodeSafetensors(header: unknown, data: Uint8Array = new Uint8Array(0), lengthField?: bigint): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.byteLength);
  return out;
}

export interface TensorData {
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** A well-formed file holding the tensors back to back, in the order given. */
export function packTensors(tensors: Record<string, TensorData>, metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const data = new Uint8Array(offset);
  offset = 0;
  for (const t of Object.values(tensors)) {
    data.set(t.data, offset);
    offset += t.data.byteLength;
  }
  return encodeSafetensors(header, data);
}

export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
