// Fetching a layer's tensors by Hugging Face name, with a size check so a wrong config or
// checkpoint fails at construction, not as silent garbage in a forward pass.

/** Returns the tensor named hfName, widened to float32, row-major in the checkpoint's shape. */
export type WeightSource = (hfName: string) => Float32Array;

export function takeWeight(weights: WeightSource, name: string, ...shape: number[]): Float32Array {
  const w = weights(name);
  const expected = shape.reduce((a, b) => a * b, 1);
  if (w.length !== expected) throw new Error(`${name}: expected [${shape.join(', ')}] (${expected} values), got ${w.length}`);
  return w;
}
