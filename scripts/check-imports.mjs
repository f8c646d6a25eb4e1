// Enforces the pipeline's import direction: a folder of src/ may import only from the folders
// listed for it (and from itself, and the public types in src/api.ts), so the architecture in the
// tree stays the architecture in the code.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

const ALLOWED = {
  loader: [],
  gpu: ['loader'],
  kernels: ['gpu', 'loader'],
  layers: ['kernels', 'gpu', 'loader'],
  model: ['layers', 'kernels', 'gpu', 'loader'],
  generate: ['model', 'kernels', 'gpu', 'loader'],
  verify: ['vision', 'generate', 'model', 'kernels', 'gpu', 'loader'],
  bench: ['model', 'kernels', 'gpu', 'loader'],
  reference: ['loader'],
  chat: ['loader'],
  // Image and video preprocessing on the CPU: decoding, resizing, frame sampling, M-RoPE positions.
  vision: ['loader'],
  engine: ['chat', 'vision', 'generate', 'model', 'kernels', 'gpu', 'loader'],
  // The frames worker resizes video frames with vision's code; the embed captures them with it in the page.
  worker: ['engine', 'vision'],
  embed: ['worker', 'vision'],
  // src/api.ts: the public types, importable from every layer; it imports nothing itself.
  'api.ts': [],
};

const root = resolve(dirname(new URL(import.meta.url).pathname), '..', 'src');
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.ts')) files.push(path);
  }
};
walk(root);

const problems = [];
for (const file of files) {
  const from = relative(root, file).split(sep)[0];
  const allowed = ALLOWED[from];
  if (!allowed) {
    problems.push(`${relative(root, file)}: folder src/${from} has no import rule; add it to scripts/check-imports.mjs`);
    continue;
  }
  for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from\s+['"](\.[^'"]+)['"]/gm)) {
    const target = relative(root, resolve(dirname(file), m[1]));
    if (target.startsWith('..')) continue; // shaders/ and other repo files
    const to = target.split(sep)[0];
    if (to !== from && to !== 'api.ts' && !allowed.includes(to)) problems.push(`${relative(root, file)} imports ${m[1]}: src/${from} may not depend on src/${to}`);
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`imports: ${files.length} files follow the layer rules`);
