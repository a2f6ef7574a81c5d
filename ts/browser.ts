/**
 * m2m for browsers: the WebAssembly build. Await `init()` once before calling
 * anything else.
 */
import initWasm, * as wasm from '../build/wasm-web/m2m_wasm.js';
import { type Backend, installBackend, wrapBinding } from './backend.js';

export * from './api.js';

let ready: Promise<Backend> | undefined;

/**
 * Loads the wasm module. `module` may be a URL, a Response or the bytes of
 * `m2m_wasm_bg.wasm`; by default it is fetched from beside the glue code.
 */
export function init(module?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module): Promise<Backend> {
  ready ??= initWasm(module === undefined ? undefined : { module_or_path: module }).then(() => {
    const loaded = wrapBinding('wasm', wasm as unknown as Record<string, unknown>);
    installBackend(loaded);
    return loaded;
  });
  return ready;
}
