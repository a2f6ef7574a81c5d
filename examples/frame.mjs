// examples/frame.mjs
import { compress, decompress, inspect, KeyHierarchy, M2MError } from 'm2m-protocol';

const request = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'What is 2+2? Answer with one word.' },
  ],
  max_tokens: 16,
});

// A 32-byte key; in production from a file or the environment.
const key = new KeyHierarchy(new Uint8Array(32).fill(7), 'acme').sessionKey('gateway', 'worker-1', 's1');
const frame = compress(request, { algorithm: 'm2m', security: { mode: 'aead', key } });
console.log(frame.wire.slice(0, 12), frame.originalBytes, '->', frame.wireBytes);

const { model, messageCount, roles, maxTokens, security, flags } = inspect(frame.wire);
console.log(model, messageCount, roles, maxTokens, security, flags);

console.log(decompress(frame.wire, { security: { mode: 'aead', key } }) === request);
for (const options of [{}, { security: { mode: 'hmac', key } }]) {
  try {
    decompress(frame.wire, options);
  } catch (err) {
    console.log(err instanceof M2MError, err.code);
  }
}
