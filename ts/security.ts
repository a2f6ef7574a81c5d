/**
 * `m2m/security` in Node: the scanner, with the Node backend (the native
 * addon, else wasm) for its classifier. Browsers get `security/index.ts` and
 * call `init()` from `m2m/browser` first.
 */
import { setDefaultBackendLoader } from './core/backend.js';
import { loadDefaultNodeBackend } from './core/backend-node.js';

export * from './security/index.js';

setDefaultBackendLoader(loadDefaultNodeBackend);
