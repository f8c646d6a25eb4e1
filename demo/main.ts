// The demo app: one full-page <qwen-chat>. `?model=<repo id or base URL>` preloads that model
// (after its fit check); `?weights=q4` and `?memory=8GiB` set the element's weights and
// memory-budget attributes. The address bar follows what the user chooses, so the link can be shared.
import { defineQwenChat } from '../src/embed/qwen-chat.ts';
import './demo.css';

const DEFAULT_MODEL = 'Qwen/Qwen3.5-0.8B';

defineQwenChat();
const chat = document.querySelector('qwen-chat')!;
const params = new URLSearchParams(location.search);
const requested = params.get('model');
// Before the model: its first fit check already uses them (an unreadable value is warned about and ignored).
for (const [param, attribute] of [['weights', 'weights'], ['memory', 'memory-budget']]) {
  const value = params.get(param);
  if (value) chat.setAttribute(attribute, value);
}

// A shared link loads its model right away; a model picked later is shown with its download size
// first, and loads when the user says so.
if (requested) {
  chat.setAttribute('autoload', '');
  const settle = () => chat.removeAttribute('autoload');
  chat.addEventListener('qwen-load', settle, { once: true });
  chat.addEventListener('qwen-error', settle, { once: true });
}
chat.model = requested || DEFAULT_MODEL;

function follow(values: Record<string, string | null>): void {
  const url = new URL(location.href);
  for (const [param, value] of Object.entries(values)) {
    if (value) url.searchParams.set(param, value);
    else url.searchParams.delete(param);
  }
  if (url.href !== location.href) history.replaceState(null, '', url);
}

chat.addEventListener('qwen-model', (e) => follow({ model: (e as CustomEvent<{ model: string }>).detail.model }));
chat.addEventListener('qwen-load-options', (e) => {
  const { weights, memoryBudget } = (e as CustomEvent<{ weights: string; memoryBudget: string | null }>).detail;
  follow({ weights: weights === 'f16' ? null : weights, memory: memoryBudget });
});

// The app shell works offline once a service worker has cached it; models live in their own cache.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  void navigator.serviceWorker.register(new URL('./sw.js', location.href)).catch((e) => console.warn('service worker not registered:', e));
}
