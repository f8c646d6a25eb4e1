// The engine in a dedicated worker: GPU work, downloads and tokenization never touch the page's
// main thread. The page talks to it through comlink (src/worker/client.ts).
import * as Comlink from 'comlink';
import { QwenEngine } from '../engine/engine.ts';
import { keepErrorCodes } from './errors.ts';

keepErrorCodes();
Comlink.expose(QwenEngine.forBrowser());
