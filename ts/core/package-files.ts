/**
 * The files this package ships beside its code (`build/`, `package.json`),
 * found from wherever the code runs: `ts/` from source, `dist/`, or a chunk
 * of the bundled `dist/` (scripts/bundle.mjs), which sit at other depths.
 * Node only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { M2MError } from './errors.js';

/** The `name` in this package's package.json. */
const PACKAGE_NAME = 'm2m-protocol';

/** The fields of package.json the code reads. */
export interface PackageManifest {
  name: string;
  version: string;
  optionalDependencies?: Record<string, string>;
}

let found: { root: string; manifest: PackageManifest } | undefined;

function locate(): { root: string; manifest: PackageManifest } {
  if (found) return found;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as PackageManifest;
      if (manifest.name === PACKAGE_NAME) {
        found = { root: dir, manifest };
        return found;
      }
    }
    if (dirname(dir) === dir) {
      throw new M2MError(
        'BACKEND_UNAVAILABLE',
        `this install of ${PACKAGE_NAME} is incomplete: no package.json of ${PACKAGE_NAME} in ${start} or above it`,
      );
    }
  }
}

/** The absolute path of `relative` (e.g. `build/ranks/cl100k_base.bpe`) inside the package. */
export function packagePath(relative: string): string {
  return join(locate().root, relative);
}

/** This package's package.json. */
export function packageManifest(): PackageManifest {
  return locate().manifest;
}
