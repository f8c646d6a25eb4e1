import reduce from '../../shaders/lib/reduce.wgsl?raw';
import activations from '../../shaders/lib/activations.wgsl?raw';
import gelu from '../../shaders/lib/gelu.wgsl?raw';
import laneSumSubgroup from '../../shaders/lib/lane_sum_subgroup.wgsl?raw';
import laneSumWorkgroup from '../../shaders/lib/lane_sum_workgroup.wgsl?raw';
import xUnit from '../../shaders/lib/x_unit.wgsl?raw';
import xNorm from '../../shaders/lib/x_norm.wgsl?raw';
import matmulStore from '../../shaders/lib/matmul_store.wgsl?raw';

/**
 * Include-only WGSL snippets, by the path kernels name in `// #include "..."`. Kernels include
 * "lib/lane_sum.wgsl"; GpuContext resolves it to the subgroup or the workgroup-memory variant.
 */
export const SHADER_LIBS: Record<string, string> = {
  'lib/reduce.wgsl': reduce,
  'lib/activations.wgsl': activations,
  'lib/gelu.wgsl': gelu,
  'lib/lane_sum_subgroup.wgsl': laneSumSubgroup,
  'lib/lane_sum_workgroup.wgsl': laneSumWorkgroup,
  'lib/x_unit.wgsl': xUnit,
  'lib/x_norm.wgsl': xNorm,
  'lib/matmul_store.wgsl': matmulStore,
};
