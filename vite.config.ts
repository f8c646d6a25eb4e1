import { defineConfig } from 'vite';

// Shaders are imported as `../../shaders/x.wgsl?raw`, which Vite handles natively (Node gets the
// same through scripts/wgsl-loader.mjs). The repo root is the root: the demo and the verify page
// (scripts/verify-page/) both import the engine from src/.
export default defineConfig({
  // WebGPU browsers all support ES2022 (top-level await included).
  build: { target: 'es2022' },
  // Engine workers are module workers; ES output lets them import shared chunks.
  worker: { format: 'es' },
});
