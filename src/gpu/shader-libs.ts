import reduce from '../../shaders/lib/reduce.wgsl?raw';
import activations from '../../shaders/lib/activations.wgsl?raw';
import gelu from '../../shaders/lib/gelu.wgsl?raw';

/** Include-only WGSL snippets, by the path kernels name in `// #include "..."`. */
export const SHADER_LIBS: Record<string, string> = {
  'lib/reduce.wgsl': reduce,
  'lib/activations.wgsl': activations,
  'lib/gelu.wgsl': gelu,
};
