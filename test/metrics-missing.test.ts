// Without prom-client the server still runs, and /metrics answers MISSING_DEPENDENCY
// (prom-client's absence is simulated: its loader reports it missing, as peers.ts does).
import { describe, expect, it, vi } from 'vitest';
import { M2MError } from '../ts/core/errors.js';

vi.mock('../ts/node/peers.js', async (importOriginal) => {
  const peers = await importOriginal<typeof import('../ts/node/peers.js')>();
  return {
    ...peers,
    requirePeer: <T>(name: string, feature?: string): T => {
      if (name === 'prom-client')
        throw new M2MError(
          'MISSING_DEPENDENCY',
          `${feature ?? name} needs prom-client: run \`npm install prom-client\``,
        );
      return peers.requirePeer<T>(name as never, feature);
    },
  };
});

describe('/metrics without prom-client', () => {
  it('answers 500 MISSING_DEPENDENCY naming the package, and the other routes work', async () => {
    const { startServer } = await import('../ts/node/server/index.js');
    const server = await startServer({ port: 0, logLevel: false });
    try {
      const res = await fetch(`${server.url}/metrics`);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect([res.status, body.error.code]).toEqual([500, 'MISSING_DEPENDENCY']);
      expect(body.error.message).toMatch(/npm install prom-client/);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
