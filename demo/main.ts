// The demo app: one full-page <qwen-chat>. `?model=<repo id or base URL>` preloads that model
// (after its fit check), and the address bar follows the chosen model so the link can be shared.
import { defineQwenChat } from '../src/embed/qwen-chat.ts';
import './demo.css';

const DEFAULT_MODEL = 'Qwen/Qwen3.5-0.8B';

defineQwenChat();
const chat = document.querySelector('qwen-chat')!;
const requested = new URLSearchParams(location.search).get('model');

// A shared link loads its model right away; a model picked later is shown with its download size
// first, and loads when the user says so.
if (requested) {
  chat.setAttribute('autoload', '');
  const settle = () => chat.removeAttribute('autoload');
  chat.addEventListener('qwen-load', settle, { once: true });
  chat.addEventListener('qwen-error', settle, { once: true });
}
chat.model = requested || DEFAULT_MODEL;

chat.addEventListener('qwen-model', (e) => {
  const { model } = (e as CustomEvent<{ model: string }>).detail;
  const url = new URL(location.href);
  if (url.searchParams.get('model') === model) return;
  url.searchParams.set('model', model);
  history.replaceState(null, '', url);
});

// The app shell works offline once a service worker has cached it; models live in their own cache.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  void navigator.serviceWorker.register(new URL('./sw.js', location.href)).catch((e) => console.warn('service worker not registered:', e));
}
