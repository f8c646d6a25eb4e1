import * as Comlink from 'comlink';
import { QwenError } from '../engine/errors.ts';

interface SerializedError {
  isError: true;
  value: { name: string; message: string; code?: string; stack?: string };
}

/**
 * Comlink sends a thrown Error as its name and message only. The engine's errors also carry a
 * `code` callers branch on, so both ends of the worker boundary install this: the page then gets a
 * QwenError with the worker's name, code and message (`e.code === 'busy'`, `e.name === 'EngineBusyError'`).
 */
export function keepErrorCodes(): void {
  const base = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<{ value: unknown }, SerializedError | { isError: false }>;
  if ((base as { keepsCodes?: boolean }).keepsCodes) return;
  const handler = {
    keepsCodes: true,
    canHandle: base.canHandle,
    serialize(thrown: { value: unknown }): [SerializedError | { isError: false }, Transferable[]] {
      const [serialized, transfer] = base.serialize(thrown);
      if (serialized.isError && thrown.value instanceof QwenError) serialized.value.code = thrown.value.code;
      return [serialized, transfer];
    },
    deserialize(serialized: SerializedError | { isError: false }): { value: unknown } {
      if (!serialized.isError || serialized.value.code === undefined) return base.deserialize(serialized);
      const { name, message, code } = serialized.value;
      const error = new QwenError(code, message);
      error.name = name;
      throw error;
    },
  };
  Comlink.transferHandlers.set('throw', handler);
}

export { QwenError };
