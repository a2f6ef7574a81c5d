import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type Backend, type BackendKind, wrapBinding } from './backend.js';
import { M2MError } from './errors.js';

const require = createRequire(import.meta.url);

/** Where each backend's build output lives, relative to this file (ts/ or dist/). */
const BINDING_PATHS: Record<BackendKind, string> = {
  native: '../../build/native/index.cjs',
  wasm: '../../build/wasm-node/m2m_wasm.js',
};

const loaded = new Map<BackendKind, Backend>();

/** Reads an encoding's rank data from `build/ranks/` (made by the set-up). */
export function readRankFile(encoding: string): Uint8Array {
  const path = fileURLToPath(new URL(`../../build/ranks/${encoding}.bpe`, import.meta.url));
  try {
    return readFileSync(path);
  } catch (err) {
    throw new M2MError(
      'RANK_DATA_UNAVAILABLE',
      `the rank data of ${encoding} could not be read from ${path} (run the set-up command): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Loads one backend in Node.
 *
 * @throws M2MError `BACKEND_UNAVAILABLE` when it is not built or cannot load
 *   on this platform, with the loader's own error as `cause`.
 */
export function loadNodeBackend(kind: BackendKind): Backend {
  const cached = loaded.get(kind);
  if (cached) return cached;
  if (!(kind in BINDING_PATHS)) {
    throw new M2MError('BACKEND_UNAVAILABLE', `unknown backend ${JSON.stringify(kind)}: use 'native' or 'wasm'`);
  }
  const path = fileURLToPath(new URL(BINDING_PATHS[kind], import.meta.url));
  let binding: Record<string, unknown>;
  try {
    if (!existsSync(path)) throw new Error(`${path} does not exist (run the set-up command)`);
    binding = require(path);
  } catch (err) {
    throw new M2MError('BACKEND_UNAVAILABLE', `the ${kind} backend could not be loaded: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const backend = wrapBinding(kind, binding, readRankFile);
  loaded.set(kind, backend);
  return backend;
}

/** Reads `M2M_BACKEND` (`native`, `wasm` or unset). */
export function requestedBackend(env: NodeJS.ProcessEnv = process.env): BackendKind | undefined {
  const value = env.M2M_BACKEND?.trim();
  if (value === undefined || value === '') return undefined;
  if (value === 'native' || value === 'wasm') return value;
  throw new M2MError(
    'BACKEND_UNAVAILABLE',
    `M2M_BACKEND=${JSON.stringify(value)} is not a backend: use 'native' or 'wasm'`,
  );
}

/**
 * The default in Node: the backend `M2M_BACKEND` names (failing loudly if it
 * cannot load), else native, else wasm.
 */
export function loadDefaultNodeBackend(): Backend {
  const forced = requestedBackend();
  if (forced) return loadNodeBackend(forced);
  try {
    return loadNodeBackend('native');
  } catch (nativeErr) {
    try {
      return loadNodeBackend('wasm');
    } catch (wasmErr) {
      throw new M2MError(
        'BACKEND_UNAVAILABLE',
        `no m2m backend could be loaded: ${(nativeErr as Error).message}; ${(wasmErr as Error).message}`,
      );
    }
  }
}
