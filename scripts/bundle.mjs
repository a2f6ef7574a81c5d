// Bundles the package's Node entry points (after tsc has written dist/) so an
// import loads a few files instead of ~40: one file per entry and the code they
// share in dist/chunks/, one copy of each module for all of them. The browser
// entries (dist/browser.js, dist/security/index.js, dist/worker.js) stay as tsc
// wrote them, for the bundlers of browser apps. Dependencies stay imports.
// Run by scripts/build.sh; docs/performance.md "Start-up" has the figures.
import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ENTRIES = [
  'index.js',
  'security.js',
  'node/cli.js',
  'node/session/index.js',
  'node/server/index.js',
  'node/server/plugin.js',
  'node/server/pool-worker.js',
  'node/gateway/plugin.js',
];
const BROWSER_ENTRIES = ['browser.js', 'security/index.js', 'worker.js'];
// Every JS file package.json's exports and bin name must be in one of the two lists.
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const targets = (value) =>
  typeof value === 'string' ? [value] : Object.values(value ?? {}).flatMap((inner) => targets(inner));
for (const target of [...targets(pkg.exports), ...targets(pkg.bin)]) {
  const file = target.replace(/^\.\//, '');
  if (!file.startsWith('dist/') || !file.endsWith('.js')) continue;
  const entry = file.slice('dist/'.length);
  if (!ENTRIES.includes(entry) && !BROWSER_ENTRIES.includes(entry)) {
    throw new Error(`scripts/bundle.mjs: package.json names ${file}, which neither entry list holds`);
  }
}
const out = 'build/bundle';
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: ENTRIES.map((entry) => `dist/${entry}`),
  outbase: 'dist',
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  keepNames: true,
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});
// The modules the browser entries load; every other tsc output is now in the bundle.
const { metafile } = await build({
  entryPoints: BROWSER_ENTRIES.map((entry) => `dist/${entry}`),
  outdir: 'build/bundle-browser',
  bundle: true,
  write: false,
  metafile: true,
  format: 'esm',
  platform: 'browser',
  packages: 'external',
  logLevel: 'warning',
});
const browserModules = new Set(Object.keys(metafile.inputs));
for (const file of readdirSync('dist', { recursive: true })) {
  const path = join('dist', file);
  if (path.endsWith('.js') && !browserModules.has(path)) rmSync(path);
}
rmSync('dist/chunks', { recursive: true, force: true });
cpSync(out, 'dist', { recursive: true });
rmSync(out, { recursive: true, force: true });
