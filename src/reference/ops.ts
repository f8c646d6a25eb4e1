// Every reference kernel in one namespace: the contract the GPU kernel tests compare against.
export { sigmoid, silu, softplus, swiglu } from './activations.ts';
export { gatedAttention } from './attention.ts';
export { causalConv1dSilu } from './conv1d.ts';
export { gatedDeltaRuleChunked, gatedDeltaRuleRecurrent, gdnGatesAndBeta, l2NormalizeHeads } from './gated-delta.ts';
export { matmul } from './matmul.ts';
export { gatedRmsNorm, rmsNorm } from './rmsnorm.ts';
export { mropeAxis, ropeInPlace, type RopeSpec } from './rope.ts';
export { sampleToken } from './sample.ts';
export { decodeE4M3, dequantFp8 } from './fp8.ts';
export { decodeRows, type StoredRows } from './quant.ts';
