// Debian's Chromium with WebGPU on SwiftShader (no GPU needed): shared by `npm run verify` and the
// e2e tests. See ../shared/WEBGPU-ON-THIS-MACHINE.md.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  // Without these Chromium keeps trying to reach the network, which CI machines do not have.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}
