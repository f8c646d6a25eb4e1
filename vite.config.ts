import { fileURLToPath } from 'node:url';
import { defineConfig, type UserConfig } from 'vite';
import { appShell } from './scripts/vite-app-shell.ts';

// Two builds from one source tree:
//   vite build             the demo app (demo/) with its offline service worker, into dist/
//   vite build --mode lib  the npm library and the embed script, into dist/lib/
// `vite` (dev) serves the demo; `npm run verify` reuses this config with the repo root as root,
// since its page lives in scripts/verify-page/. Shaders are `?raw` imports, which Vite handles
// natively (Node gets the same through scripts/wgsl-loader.mjs).
const path = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const common: UserConfig = {
  // Relative URLs everywhere, so the app and the library work from any folder of any host.
  base: './',
  // Engine workers are module workers; ES output lets them import shared chunks.
  worker: { format: 'es' },
};

export default defineConfig(({ mode }): UserConfig => {
  if (mode === 'lib') {
    return {
      ...common,
      publicDir: false,
      build: {
        // WebGPU browsers all support ES2022 (top-level await included).
        target: 'es2022',
        outDir: path('dist/lib'),
        emptyOutDir: true,
        lib: { entry: { 'qwen-webgpu': path('src/embed/index.ts'), 'qwen-chat': path('src/embed/define.ts') }, formats: ['es'] },
      },
    };
  }
  return {
    ...common,
    root: path('demo'),
    publicDir: path('public'),
    build: {
      target: 'es2022',
      outDir: path('dist'),
      emptyOutDir: true,
      rollupOptions: {
        input: { index: path('demo/index.html'), sw: path('demo/sw.ts') },
        // The service worker must sit at the root of the scope it controls.
        output: { entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js') },
      },
    },
    plugins: [appShell(path('public'))],
  };
});
