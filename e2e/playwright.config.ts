import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from '../scripts/chromium.ts';

// The e2e tests run the BUILT demo and library (npm run build) in Debian's headless Chromium with
// WebGPU on SwiftShader. SwiftShader compiles and runs shaders on the CPU, so timeouts are generous.
export default defineConfig({
  testDir: '.',
  outputDir: '../test-results/e2e',
  timeout: 6 * 60_000,
  expect: { timeout: 90_000 },
  workers: 1,
  fullyParallel: false,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    // A fake camera (and no permission prompt) for the camera-clip test.
    launchOptions: { executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] },
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
  },
});
