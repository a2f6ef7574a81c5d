import { type Backend, type BackendKind, loadBackend, M2MError } from '../ts/index.js';

/** Both backends, loaded; a backend that fails to load fails the suite. */
export const BACKENDS: Record<BackendKind, Backend> = {
  native: loadBackend('native'),
  wasm: loadBackend('wasm'),
};

/** What a call produced: its value, or the code of the M2MError it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string };

export function outcome<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (!(err instanceof M2MError)) throw err;
    return { ok: false, code: err.code };
  }
}

/** Typed arrays compared by content and type (Buffer and Uint8Array differ in toEqual). */
export function normalise(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) {
    return {
      type: value.constructor.name,
      bytes: Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)),
    };
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  }
  return value;
}
