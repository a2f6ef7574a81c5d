// Type tests (compiled by `tsc --noEmit` in npm test, never run): the
// backend interface of ts/core/backend.ts against the declarations napi-rs and
// wasm-bindgen generate from the Rust bindings. A function added, removed or
// retyped in crates/m2m-napi or crates/m2m-wasm without the same change in
// `CoreFunctions` / `AsyncCoreFunctions` fails to compile here.
import type * as Native from '../build/native/index.cjs';
import type * as WasmNode from '../build/wasm-node/m2m_wasm.js';
import type * as WasmWeb from '../build/wasm-web/m2m_wasm.js';
import type { AsyncCoreFunctions, CoreFunctions } from '../ts/core/backend.js';
import type { TokenTexts } from '../ts/core/decode-table.js';
import type { EncodeInto } from '../ts/core/id-pool.js';

/** Compiles only when `T` is `never`. */
type AssertNever<T extends never> = T;

/** What the native addon's async calls settle with: the result, or a core failure carried as data. */
type SettlesWithFailure<F> = {
  [K in keyof F]: F[K] extends (...args: infer A) => Promise<infer R>
    ? (...args: A) => Promise<R | Native.CoreFailure>
    : never;
};

// Every core function exists in each binding, with arguments we may pass and results we may read.
export const native: CoreFunctions & SettlesWithFailure<AsyncCoreFunctions> = {} as typeof Native;
export const wasmNode: CoreFunctions = {} as typeof WasmNode;
export const wasmWeb: CoreFunctions = {} as typeof WasmWeb;

// The wasm bindings' token table has the shape decode-table.ts reads.
export const tokenTextsNode: (encoding: string) => TokenTexts = {} as typeof WasmNode.tokenTexts;
export const tokenTextsWeb: (encoding: string) => TokenTexts = {} as typeof WasmWeb.tokenTexts;

// The native binding's pooled encode has the shape id-pool.ts calls.
export const encodeInto: EncodeInto = {} as typeof Native.encodeOrdinaryInto;

/** Exports the TS layer knows of beyond the core functions. */
type KnownExtras =
  | 'utf8LengthChecked' // native only: a faster UTF-8 length for long text
  | 'encodeOrdinaryInto' // native only: encode into a pool of id-pool.ts
  | '__napiBindingTarget' // napi-rs's loader
  | 'default' // wasm-bindgen's web init()
  | 'initSync' // wasm-bindgen's web synchronous init
  | 'tokenTexts' // wasm only: the token table of decode-table.ts
  | 'TokenTexts'; // its class

// No binding exports a function the TS layer does not declare.
export type NativeExtras = AssertNever<
  Exclude<keyof typeof Native, keyof CoreFunctions | keyof AsyncCoreFunctions | KnownExtras>
>;
export type WasmNodeExtras = AssertNever<Exclude<keyof typeof WasmNode, keyof CoreFunctions | KnownExtras>>;
export type WasmWebExtras = AssertNever<Exclude<keyof typeof WasmWeb, keyof CoreFunctions | KnownExtras>>;
