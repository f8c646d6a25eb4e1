// Depthwise causal conv1d over time with SiLU, carrying the last KERNEL-1 inputs between calls:
// out[t, c] = silu(sum_k w[c, k] * x[t - KERNEL + 1 + k, c]), earlier inputs taken from the state.
// Reference: src/reference causalConv1dSilu. Used by the Gated DeltaNet on its q|k|v channels.
// Dispatch: ceil(C / WG); one lane per channel walks the tokens in order with the window in registers.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T, in_stride], channels 0..C-1
@group(0) @binding(2) var<storage, read> w: array<f32>;              // [C, KERNEL]
@group(0) @binding(3) var<storage, read_write> state: array<f32>;    // [C, KERNEL - 1], oldest first
@group(0) @binding(4) var<storage, read_write> out: array<f32>;      // [T, C]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.C) { return; }
  var window: array<f32, KERNEL>;
  for (var k = 0u; k + 1u < KERNEL; k++) { window[k] = state[c * (KERNEL - 1u) + k]; }
  for (var t = 0u; t < params.T; t++) {
    window[KERNEL - 1u] = x[t * params.in_stride + c];
    var acc = 0.0;
    for (var k = 0u; k < KERNEL; k++) { acc += w[c * KERNEL + k] * window[k]; }
    out[t * params.C + c] = acc / (1.0 + exp(-acc));
    for (var k = 0u; k + 1u < KERNEL; k++) { window[k] = window[k + 1u]; }
  }
  for (var k = 0u; k + 1u < KERNEL; k++) { state[c * (KERNEL - 1u) + k] = window[k]; }
}
