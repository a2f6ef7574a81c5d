/**
 * The M2M v1 frame (#M2M|1|) against #BR| on a ~1 KB chat request, native and
 * wasm: encode and decode time per message with no protection, HMAC-SHA256
 * and ChaCha20-Poly1305, the frame's size overhead, and the cost of an X25519
 * key agreement (one side of a keyed handshake). Run: `npx tsx bench/frame.ts [--quick]`.
 */
import { compress, decompress, KeyHierarchy, x25519KeyPair, x25519SessionKey } from '../ts/index.js';
import { chatPayloadOfSize } from './corpus.js';
import { measure, on, report } from './util.js';

const quick = process.argv.includes('--quick');
const time = quick ? 150 : 400;
const text = chatPayloadOfSize(1_000);
const key = new KeyHierarchy(new Uint8Array(32).fill(1), 'bench').sharedKey();
const forms = {
  '#BR|': { algorithm: 'brotli' },
  'm2m none': { algorithm: 'm2m' },
  'm2m hmac': { algorithm: 'm2m', security: { mode: 'hmac', key } },
  'm2m aead': { algorithm: 'm2m', security: { mode: 'aead', key } },
} as const;

console.log(`input: ${Buffer.byteLength(text)} B chat request (bench/corpus.ts chatPayloadOfSize(1000))`);
for (const kind of ['native', 'wasm'] as const) {
  const tasks: Record<string, () => unknown> = {};
  for (const [name, options] of Object.entries(forms)) {
    const wire = on(kind, () => compress(text, options)).wire;
    const security = 'security' in options ? { security: options.security } : {};
    if (on(kind, () => decompress(wire, security)) !== text) throw new Error(`${name} does not round-trip`);
    tasks[`encode ${name}`] = () => on(kind, () => compress(text, options));
    tasks[`decode ${name}`] = () => on(kind, () => decompress(wire, security));
  }
  const rows = await measure(tasks, time);
  report(
    `${kind}: encode`,
    rows.filter((r) => r.name.startsWith('encode')),
    'encode #BR|',
    Buffer.byteLength(text),
  );
  report(
    `${kind}: decode`,
    rows.filter((r) => r.name.startsWith('decode')),
    'decode #BR|',
    Buffer.byteLength(text),
  );
}

console.log('\nwire size (text form, bytes)');
const brotli = compress(text, forms['#BR|']).wireBytes;
for (const [name, options] of Object.entries(forms)) {
  const bytes = compress(text, options).wireBytes;
  console.log(
    `  ${name.padEnd(10)} ${String(bytes).padStart(5)} B  ${bytes - brotli >= 0 ? '+' : ''}${bytes - brotli} B vs #BR|`,
  );
}

for (const kind of ['native', 'wasm'] as const) {
  const peer = on(kind, () => x25519KeyPair());
  const rows = await measure(
    {
      'x25519 key pair': () => on(kind, () => x25519KeyPair()),
      'key pair + session key': () => on(kind, () => x25519SessionKey(x25519KeyPair().secretKey, peer.publicKey)),
    },
    time,
  );
  report(`${kind}: one side of a keyed handshake (X25519 + HKDF)`, rows, 'x25519 key pair');
}
