// Lets Node import `file?raw` as Vite does: the default export is the file's text. Used by the
// CLIs and tests through `node --import tsx --import ./scripts/wgsl-loader.mjs ...`.
// The same file is both the entry (which registers) and the hooks module (loaded with `?hooks`).
import { register } from 'node:module';
import { readFile } from 'node:fs/promises';

if (!import.meta.url.endsWith('?hooks')) register(`${import.meta.url}?hooks`);

function isRaw(specifierOrUrl) {
  const query = specifierOrUrl.indexOf('?');
  return query >= 0 && new URLSearchParams(specifierOrUrl.slice(query + 1)).has('raw');
}

export async function resolve(specifier, context, nextResolve) {
  if (!isRaw(specifier)) return nextResolve(specifier, context);
  // Resolve the path the ordinary way (relative, absolute or a package's file), then keep the query.
  const resolved = await nextResolve(specifier.slice(0, specifier.indexOf('?')), context);
  return { url: `${resolved.url}?raw`, shortCircuit: true };
}

export async function load(url, context, nextLoad) {
  if (!isRaw(url)) return nextLoad(url, context);
  const file = new URL(url);
  file.search = '';
  const text = await readFile(file, 'utf8');
  return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
}
