import { analyze, compress, countTokens, decompress, encode } from 'm2m-protocol';

const request = JSON.stringify({
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'What is the capital of France? Answer in one word.' },
  ],
});

console.log(encode('Hello, world!', 'cl100k_base'));
console.log(countTokens(request, 'o200k_base'));

const tk = compress(request, { algorithm: 'token-native' });
console.log(tk.wire.slice(0, 40), tk.originalBytes, '->', tk.wireBytes);
const t1 = compress(request, { algorithm: 'token' });
console.log(t1.wire);
console.log(decompress(tk.wire) === request, decompress(t1.wire) === request);

const auto = compress(request, { countTokens: true });
console.log(auto.algorithm, auto.wireBytes, auto.originalTokens, auto.wireTokens);
console.log(
  analyze(request)
    .algorithms.map((a) => `${a.algorithm}:${a.wireBytes}`)
    .join(' '),
);
