import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { markAsUntransferable } from 'node:worker_threads';
import { type Backend, type BackendKind, wrapBinding } from './backend.js';
import { M2MError } from './errors.js';
import { ID_POOL_IDS } from './id-pool.js';
import { packageManifest, packagePath } from './package-files.js';

const require = createRequire(import.meta.url);

/** Where each backend's build output lives in the package. */
const BINDING_PATHS: Record<BackendKind, string> = {
  native: 'build/native/index.cjs',
  wasm: 'build/wasm-node/m2m_wasm.js',
};

const loaded = new Map<BackendKind, Backend>();

/** Reads an encoding's rank data from `build/ranks/` (made by the set-up). */
export function readRankFile(encoding: string): Uint8Array {
  const path = packagePath(`build/ranks/${encoding}.bpe`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new M2MError(
      'RANK_DATA_UNAVAILABLE',
      `the rank data of ${encoding} could not be read from ${path} (this m2m-protocol install lacks build/ranks/; reinstall the package): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Reads a trained dictionary from `build/dictionaries/` (made by the set-up); undefined when absent. */
export function readDictionaryFile(id: string): Uint8Array | undefined {
  if (!/^[a-z0-9-]{1,32}$/.test(id)) return undefined;
  const path = packagePath(`build/dictionaries/${id}.m2md`);
  return existsSync(path) ? readFileSync(path) : undefined;
}

/**
 * A pool for small encode results, marked untransferable: `postMessage` with
 * a result's `buffer` in the transfer list would otherwise detach every other
 * result in it (Node copies it instead, or from Node 21 refuses it).
 */
function newIdPool(): Uint32Array {
  const pool = new Uint32Array(ID_POOL_IDS);
  markAsUntransferable(pool.buffer);
  return pool;
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
  const path = packagePath(BINDING_PATHS[kind]);
  let binding: Record<string, unknown>;
  try {
    if (!existsSync(path)) throw new Error(`${path} does not exist`);
    binding = require(path);
  } catch (err) {
    const why = kind === 'native' ? nativeUnavailable() : (err as Error).message;
    // napi-rs's loader wraps the real load errors in advice for this package's own developers
    // (npm bugs, reinstalling); the consumer gets those load errors instead.
    const napiCause = (err as Error).message.startsWith('Cannot find native binding')
      ? (err as Error).cause
      : undefined;
    throw new M2MError('BACKEND_UNAVAILABLE', `the ${kind} backend could not be loaded: ${why}`, {
      cause: napiCause ?? err,
    });
  }
  const backend = wrapBinding(kind, binding, readRankFile, readDictionaryFile, newIdPool);
  loaded.set(kind, backend);
  return backend;
}

/** This machine as napi-rs names platforms, e.g. `linux-x64-gnu`. */
export function platformName(): string {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const libc = process.platform === 'linux' ? (report?.header?.glibcVersionRuntime ? '-gnu' : '-musl') : '';
  return `${process.platform}-${process.arch}${libc}`;
}

/**
 * Why the native addon did not load, in a consumer's terms: napi-rs's own
 * message (about npm bugs and reinstalling) is kept as the error's `cause`.
 */
function nativeUnavailable(): string {
  const pkg = packageManifest();
  const platforms = Object.keys(pkg.optionalDependencies ?? {}).map((name) => name.slice(pkg.name.length + 1));
  const here = platformName();
  return platforms.includes(here)
    ? `${pkg.name}-${here} (the addon for this platform, ${here}) is not installed or does not load here; it is an optional dependency, so an install with --omit=optional or --no-optional leaves it out`
    : `no prebuilt addon for ${here} (there are addons for ${platforms.join(', ') || 'no platform'})`;
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
        `no m2m backend could be loaded on ${platformName()} (Node ${process.version}): ${(nativeErr as Error).message}; ${(wasmErr as Error).message}. The wasm backend ships in the package itself (build/wasm-node/) and runs everywhere Node does, so this install of m2m-protocol is incomplete: reinstall it`,
        { cause: wasmErr },
      );
    }
  }
}
