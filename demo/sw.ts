// The offline app shell. The build (scripts/vite-app-shell.ts) replaces the two placeholders with
// the list of built files and a hash of them. Model files are never handled here: the engine keeps
// them in its own Cache Storage cache (CachedSource), which this worker leaves alone.
const worker = self as unknown as ServiceWorkerGlobalScope;

const SHELL: string[] = ['__APP_SHELL_FILES__'];
const CACHE = 'qwen-webgpu-shell-__APP_SHELL_VERSION__';
const SHELL_PREFIX = 'qwen-webgpu-shell-';

const scope = new URL(worker.registration.scope);
const shellUrls = new Set(SHELL.map((file) => new URL(file, scope).href));
const indexUrl = new URL('index.html', scope).href;

worker.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll([...shellUrls])).then(() => worker.skipWaiting()));
});

worker.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith(SHELL_PREFIX) && name !== CACHE) await caches.delete(name);
    await worker.clients.claim();
  })());
});

worker.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (request.mode === 'navigate' && url.href.startsWith(scope.href)) {
    // Pages come fresh from the network when it answers, so a new deploy shows up; offline, the cached shell.
    event.respondWith(fetch(request).catch(async () => (await caches.match(indexUrl, { cacheName: CACHE })) ?? Response.error()));
    return;
  }
  url.search = '';
  if (!shellUrls.has(url.href)) return;
  // Built assets have content hashes in their names: the cached copy is always right.
  event.respondWith(caches.match(url.href, { cacheName: CACHE }).then((hit) => hit ?? fetch(request)));
});

export {};
