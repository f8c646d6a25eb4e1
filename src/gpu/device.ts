import { DeviceLostError, GpuUnavailableError } from '../loader/errors.ts';

/** Limits the engine asks for: as much as the adapter offers, since the defaults (128 MiB bindings) are too small for real models. */
const WANTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxStorageBuffersPerShaderStage',
] as const;

export interface DeviceOptions {
  /** Use f16 arithmetic where the adapter has shader-f16 (default true). */
  allowF16?: boolean;
}

/**
 * Requests a device with the adapter's full limits, and shader-f16 and subgroups when offered. Works on any
 * `GPUAdapter`: a browser's `navigator.gpu` or Node's `webgpu` (Dawn) package.
 */
export async function requestEngineDevice(adapter: GPUAdapter | null, options: DeviceOptions = {}): Promise<GPUDevice> {
  if (!adapter) throw new GpuUnavailableError('No WebGPU adapter was found');
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures: GPUFeatureName[] = [];
  if (options.allowF16 !== false && adapter.features.has('shader-f16')) requiredFeatures.push('shader-f16');
  // Lane reductions use subgroup shuffles where offered (lib/lane_sum_subgroup.wgsl).
  if (adapter.features.has('subgroups' as GPUFeatureName)) requiredFeatures.push('subgroups' as GPUFeatureName);
  try {
    return await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'qwen-webgpu' });
  } catch (e) {
    throw new GpuUnavailableError(`The adapter refused a device (${(e as Error).message})`);
  }
}

/** Resolves with a typed error when the device is lost, so pending work can fail cleanly. */
export function deviceLost(device: GPUDevice): Promise<DeviceLostError> {
  return device.lost.then((info) => new DeviceLostError(info.message || info.reason || 'unknown reason'));
}
