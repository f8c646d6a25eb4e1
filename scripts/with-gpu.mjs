// Usage: node scripts/with-gpu.mjs <command> [args...]
// Runs the command with a Vulkan driver Dawn (the `webgpu` package) can use. Machines without a GPU
// get SwiftShader from Debian's Chromium package; a machine with a GPU, or a caller who already
// chose a driver, keeps its environment.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { constants } from 'node:os';

const CHROMIUM_LIB = '/usr/lib/chromium';
const SWIFTSHADER_ICD = `${CHROMIUM_LIB}/vk_swiftshader_icd.json`;

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/with-gpu.mjs <command> [args...]');
  process.exit(2);
}

function hasGpuDevice() {
  if (existsSync('/dev/nvidia0')) return true;
  try {
    return readdirSync('/dev/dri').some((name) => name.startsWith('renderD'));
  } catch {
    return false;
  }
}

const env = { ...process.env };
const driverChosen = env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES;
if (!driverChosen && !hasGpuDevice() && existsSync(SWIFTSHADER_ICD)) {
  env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  // Chromium's directory also holds the Vulkan loader (libvulkan.so.1) SwiftShader is paired with.
  env.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH ? `${CHROMIUM_LIB}:${env.LD_LIBRARY_PATH}` : CHROMIUM_LIB;
}

const child = spawn(command, args, { stdio: 'inherit', env });

// Pass termination requests on, so Ctrl-C or a CI timeout stops the child rather than orphaning it.
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];
for (const signal of FORWARDED) process.on(signal, () => child.kill(signal));

child.on('error', (error) => {
  console.error(`with-gpu: cannot run ${command}: ${error.message}`);
  process.exit(127);
});

child.on('exit', (code, signal) => {
  if (signal) {
    // Die by the same signal so our parent sees what happened to the child.
    for (const s of FORWARDED) process.removeAllListeners(s);
    process.kill(process.pid, signal);
    // Signals whose default action Node overrides land here: report them the way a shell would.
    process.exit(128 + (constants.signals[signal] ?? 0));
  } else {
    process.exit(code ?? 1);
  }
});
