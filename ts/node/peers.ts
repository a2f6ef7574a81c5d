/**
 * The optional peer dependencies: what a library-only install leaves out, and
 * the clear error when a feature that needs one runs without it.
 * `package.json`'s `peerDependencies` list the same names (test/package.test.ts
 * checks they agree).
 */
import { createRequire } from 'node:module';
import { M2MError } from '../core/errors.js';

const require = createRequire(import.meta.url);

/** Each optional peer dependency and the feature that needs it. */
export const OPTIONAL_PEERS = {
  fastify: 'the server and the fastify plugin',
  'fastify-plugin': 'the fastify plugin and the server',
  '@fastify/static': "the server's playground page",
  ioredis: "the server's Redis session store",
  ws: 'the WebSocket transport (server, and the client on Node 20)',
  'smol-toml': 'reading a TOML config file',
  'cli-progress': "the CLI's progress bar",
  'prom-client': "the server's /metrics endpoint",
} as const;

export type OptionalPeer = keyof typeof OPTIONAL_PEERS;

/** The install command for `names`, at the ranges package.json gives. */
function installHint(names: readonly OptionalPeer[]): string {
  return `npm install ${names.join(' ')}`;
}

/** Peers of `names` that cannot be resolved from this package. */
export function missingPeers(names: readonly OptionalPeer[]): OptionalPeer[] {
  return names.filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
}

/**
 * Throws `MISSING_DEPENDENCY` naming every missing one of `names`, what needs
 * it and the command that installs it.
 */
export function assertPeers(names: readonly OptionalPeer[], feature: string): void {
  const missing = missingPeers(names);
  if (missing.length === 0) return;
  throw new M2MError(
    'MISSING_DEPENDENCY',
    `${feature} needs ${missing.join(', ')} (optional peer dependencies of m2m-protocol, not installed with the library): run \`${installHint(missing)}\``,
  );
}

/** Loads the CommonJS peer `name`, or throws `MISSING_DEPENDENCY` (see {@link assertPeers}). */
export function requirePeer<T>(name: OptionalPeer, feature: string = OPTIONAL_PEERS[name]): T {
  assertPeers([name], feature);
  return require(name) as T;
}
