/**
 * m2m for browsers: the WebAssembly build. Await `init()` once, naming the
 * encodings you will use, before calling anything else; each encoding's rank
 * data is fetched only when asked for, and the wasm module only on the first
 * `init()`. Bundlers pick this file through the package's `browser` export
 * condition. To keep a page responsive, run m2m in a Web Worker instead
 * (`m2m-protocol/worker`).
 */
export * from './api.js';
export { type InitOptions, init, loadedEncodings } from './core/backend-web.js';
