/**
 * m2m for Node.js: the native addon when it loads, the wasm build otherwise.
 * `M2M_BACKEND=native|wasm` or `useBackend()` forces one.
 */
import { type Backend, type BackendKind, backend, installBackend, setDefaultBackendLoader } from './core/backend.js';
import { loadDefaultNodeBackend, loadNodeBackend } from './core/backend-node.js';

export * from './api.js';

setDefaultBackendLoader(loadDefaultNodeBackend);

/**
 * Makes every call use the given backend from now on.
 *
 * @throws M2MError `BACKEND_UNAVAILABLE` if it cannot be loaded.
 */
export function useBackend(kind: BackendKind): Backend {
  const loaded = loadNodeBackend(kind);
  installBackend(loaded);
  return loaded;
}

/** The kind of backend in use (loading the default one if none is yet). */
export function backendKind(): BackendKind {
  return backend().kind;
}

/** Loads a backend without making it the active one (e.g. to compare backends). */
export { loadNodeBackend as loadBackend };
