// Vite plugin for the demo's offline app shell: fills demo/sw.ts's placeholders with every file the
// build writes (bundle and public/) and a hash of their contents, so each deploy's service worker
// caches exactly that deploy and replaces the previous cache.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Plugin } from 'vite';

export function appShell(publicDir: string, swChunkName = 'sw'): Plugin {
  return {
    name: 'qwen-app-shell',
    apply: 'build',
    // After Vite's HTML plugin, which emits index.html in its own generateBundle.
    enforce: 'post',
    generateBundle(_options, bundle) {
      const sw = Object.values(bundle).find((file) => file.type === 'chunk' && file.name === swChunkName);
      if (!sw || sw.type !== 'chunk') this.error(`no '${swChunkName}' chunk: add the service worker as a build input`);
      const contents = new Map<string, string | Uint8Array>();
      for (const file of Object.values(bundle)) {
        if (file === sw || file.fileName.endsWith('.map')) continue;
        contents.set(file.fileName, file.type === 'chunk' ? file.code : file.source);
      }
      for (const path of listFiles(publicDir)) contents.set(relative(publicDir, path).split(sep).join('/'), readFileSync(path));
      const files = [...contents.keys()].sort();
      const hash = createHash('sha256');
      for (const name of files) hash.update(name).update(contents.get(name)!);
      const filled = sw.code
        .replace(/(["'`])__APP_SHELL_FILES__\1/, files.map((f) => JSON.stringify(f)).join(','))
        .replace('__APP_SHELL_VERSION__', hash.digest('hex').slice(0, 16));
      if (filled.includes('__APP_SHELL_')) this.error('the service worker still has a placeholder: did its source change?');
      sw.code = filled;
    },
  };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}
