// Usage: node scripts/rewrite-dts-imports.mjs <dir>
// The sources import each other as './x.ts' (run as-is by Node and Vite); declarations that keep
// those specifiers only resolve for consumers who enable allowImportingTsExtensions. Rewriting them
// to './x.js' makes the emitted .d.ts files resolve under every moduleResolution mode.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const walk = (dir) => readdirSync(dir).flatMap((name) => {
  const path = join(dir, name);
  return statSync(path).isDirectory() ? walk(path) : path.endsWith('.d.ts') ? [path] : [];
});
const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/rewrite-dts-imports.mjs <dir>');
  process.exit(2);
}
let count = 0;
for (const file of walk(dir)) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+?)\.ts(['"])/g, '$1$2.js$3');
  if (rewritten !== text) {
    writeFileSync(file, rewritten);
    count++;
  }
}
console.log(`declarations: rewrote .ts imports in ${count} files under ${dir}`);
