// package.json's facts against their other homes: the optional peer
// dependencies against ts/node/peers.ts, the platform packages against napi-rs's
// targets and npm/<platform>/. (The packed tarball itself is checked by the
// consumer suite, test/consumer/run.ts.)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTIONAL_PEERS } from '../ts/node/peers.js';

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** napi-rs's platform name of a Rust target triple (the ones this package can list). */
const PLATFORMS: Record<string, string> = {
  'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
  'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
  'x86_64-unknown-linux-musl': 'linux-x64-musl',
  'aarch64-unknown-linux-musl': 'linux-arm64-musl',
  'x86_64-apple-darwin': 'darwin-x64',
  'aarch64-apple-darwin': 'darwin-arm64',
  'x86_64-pc-windows-msvc': 'win32-x64-msvc',
  'aarch64-pc-windows-msvc': 'win32-arm64-msvc',
};

describe('package.json', () => {
  it('declares exactly the optional peers the code loads, each optional and a dev dependency', () => {
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(Object.keys(OPTIONAL_PEERS).sort());
    for (const name of Object.keys(OPTIONAL_PEERS)) {
      expect(pkg.peerDependenciesMeta[name], name).toEqual({ optional: true });
      expect(pkg.devDependencies[name], name).toBeDefined();
      expect(pkg.dependencies?.[name], name).toBeUndefined();
    }
  });

  it('has one platform package per napi-rs target, at the package version, with its npm/ folder', () => {
    const platforms = (pkg.napi.targets as string[]).map((t) => PLATFORMS[t] ?? `unknown target ${t}`);
    expect(Object.keys(pkg.optionalDependencies).sort()).toEqual(platforms.map((p) => `${pkg.name}-${p}`).sort());
    for (const platform of platforms) {
      const dir = join(root, 'npm', platform);
      expect(existsSync(join(dir, 'package.json')), dir).toBe(true);
      const sub = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      expect(sub.name).toBe(`${pkg.name}-${platform}`);
      expect(sub.version).toBe(pkg.version);
      expect(pkg.optionalDependencies[sub.name]).toBe(pkg.version);
    }
  });
});
