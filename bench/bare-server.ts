/**
 * The baseline of bench/load.ts: a bare fastify route that parses the same
 * JSON body as `POST /v1/compress/auto` and answers a reply of the same
 * shape without compressing, on N workers (node:cluster) like `m2m server`.
 * Usage: `node --import tsx bench/bare-server.ts <workers>`; prints the URL.
 */
import cluster from 'node:cluster';
import Fastify from 'fastify';

const workers = Number(process.argv[2] ?? '1');

if (cluster.isPrimary && workers > 1) {
  let listening = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', (msg: { url?: string }) => {
      if (msg.url && ++listening === workers) console.log(msg.url);
    });
  }
  process.once('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const app = Fastify({ logger: false });
  app.post('/v1/compress/auto', async (req) => {
    const { content } = req.body as { content: string };
    return { wire: content, algorithm: 'none', original_bytes: content.length, wire_bytes: content.length };
  });
  const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.BARE_PORT ?? 0) });
  if (cluster.isWorker) process.send?.({ url });
  else console.log(url);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}
