/**
 * A deterministic corpus of realistic LLM API traffic for benchmarks and the
 * auto-selection study: chat requests (with system prompts, tools and JSON
 * schemas), responses, streaming chunks, embeddings requests and long
 * documents, in several languages, from ~60 B to ~100 KB.
 */

/** A small, fast, seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SENTENCES = [
  'Can you summarize the main points of the attached report for the leadership meeting?',
  'The quarterly revenue grew by 12% while operating costs stayed flat.',
  'Please rewrite this paragraph in a more formal tone and keep it under 100 words.',
  'What is the difference between a process and a thread in operating systems?',
  'I am getting a TypeError: Cannot read properties of undefined (reading "map") in my React component.',
  'Translate the following text into French, keeping the technical terms in English.',
  'The customer reported that the export button does nothing on Safari 17.',
  'Here is the stack trace from the failing job, can you tell me what went wrong?',
  'Explain how Brotli differs from gzip in terms of compression ratio and speed.',
  'Write a unit test for the function below using vitest.',
  '¿Puedes explicarme cómo funciona la fotosíntesis en términos sencillos?',
  'Bitte fasse den folgenden Artikel in drei Stichpunkten zusammen.',
  '请用简单的语言解释一下量子计算的基本原理。',
  'Объясни, пожалуйста, разницу между TCP и UDP.',
  'この文章をもっと自然な日本語に直してください。',
  'Sure! Here is a concise summary of the key findings, organised by theme.',
  'The function returns early when the input array is empty, which avoids the crash.',
  'Based on the data you provided, the best option is the second plan 🚀.',
];

const CODE = [
  'function debounce(fn, ms) {\n  let t;\n  return (...args) => {\n    clearTimeout(t);\n    t = setTimeout(() => fn(...args), ms);\n  };\n}',
  'def fib(n: int) -> int:\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a',
  "SELECT user_id, COUNT(*) AS orders\nFROM orders\nWHERE created_at > NOW() - INTERVAL '30 days'\nGROUP BY user_id\nORDER BY orders DESC;",
  'fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!("{:?}", v);\n}',
];

const MODELS = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4-turbo',
  'gpt-3.5-turbo',
  'o1-mini',
  'claude-3-5-sonnet-20241022',
  'llama-3.1-70b',
];

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)] as T;
}

function prose(r: () => number, sentences: number): string {
  const out: string[] = [];
  for (let i = 0; i < sentences; i++) out.push(r() < 0.15 ? `\n\n${pick(r, CODE)}\n\n` : pick(r, SENTENCES));
  return out.join(' ');
}

function tool(r: () => number, i: number) {
  return {
    type: 'function',
    function: {
      name: `${pick(r, ['get', 'list', 'create', 'search'])}_${pick(r, ['weather', 'orders', 'users', 'files'])}_${i}`,
      description: pick(r, SENTENCES),
      parameters: {
        type: 'object',
        properties: {
          location: { type: 'string', description: 'City and country, e.g. Paris, France' },
          unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
          limit: { type: 'integer', minimum: 1, maximum: 100 },
        },
        required: ['location'],
      },
    },
  };
}

function chatRequest(r: () => number, turns: number, sentencesPerTurn: number, tools: number) {
  const messages: object[] = [];
  if (r() < 0.7) messages.push({ role: 'system', content: prose(r, 1 + Math.floor(r() * 3)) });
  for (let i = 0; i < turns; i++) {
    messages.push({ role: 'user', content: prose(r, sentencesPerTurn) });
    if (i < turns - 1) messages.push({ role: 'assistant', content: prose(r, sentencesPerTurn) });
  }
  const req: Record<string, unknown> = { model: pick(r, MODELS), messages };
  if (r() < 0.5) req.temperature = pick(r, [0, 0.2, 0.7, 1]);
  if (r() < 0.3) req.max_tokens = pick(r, [256, 512, 1024, 4096]);
  if (r() < 0.2) req.stream = true;
  if (tools > 0) req.tools = Array.from({ length: tools }, (_, i) => tool(r, i));
  return req;
}

function chatResponse(r: () => number, sentences: number) {
  const prompt = 20 + Math.floor(r() * 2000);
  const completion = 5 + Math.floor(r() * 800);
  return {
    id: `chatcmpl-${Math.floor(r() * 1e12).toString(36)}`,
    object: 'chat.completion',
    created: 1_730_000_000 + Math.floor(r() * 1e6),
    model: pick(r, MODELS),
    choices: [{ index: 0, message: { role: 'assistant', content: prose(r, sentences) }, finish_reason: 'stop' }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

function streamChunk(r: () => number) {
  return {
    id: 'chatcmpl-abc123',
    object: 'chat.completion.chunk',
    created: 1_730_000_000,
    model: 'gpt-4o',
    choices: [
      { index: 0, delta: { content: pick(r, SENTENCES).slice(0, 1 + Math.floor(r() * 20)) }, finish_reason: null },
    ],
  };
}

/** One message of traffic, with a label saying what kind it is. */
export interface TrafficItem {
  kind: string;
  content: string;
}

/** `count` messages of mixed, realistic traffic (deterministic for a seed). */
export function traffic(count: number, seed = 42): TrafficItem[] {
  const r = rng(seed);
  const items: TrafficItem[] = [];
  for (let i = 0; i < count; i++) {
    const x = r();
    let kind: string;
    let value: unknown;
    if (x < 0.2) [kind, value] = ['chunk', streamChunk(r)];
    else if (x < 0.45) [kind, value] = ['request-small', chatRequest(r, 1, 1 + Math.floor(r() * 2), 0)];
    else if (x < 0.6)
      [kind, value] = ['request-tools', chatRequest(r, 1 + Math.floor(r() * 2), 2, 1 + Math.floor(r() * 3))];
    else if (x < 0.75) [kind, value] = ['request-multiturn', chatRequest(r, 2 + Math.floor(r() * 6), 3, 0)];
    else if (x < 0.9) [kind, value] = ['response', chatResponse(r, 1 + Math.floor(r() * 12))];
    else if (x < 0.95)
      [kind, value] = ['embeddings', { model: 'text-embedding-3-small', input: prose(r, 2 + Math.floor(r() * 5)) }];
    else [kind, value] = ['document', chatRequest(r, 1, 40 + Math.floor(r() * 400), 0)];
    items.push({ kind, content: JSON.stringify(value) });
  }
  return items;
}

/** A chat request close to `bytes` long (for per-size benchmarks). */
export function chatPayloadOfSize(bytes: number, seed = 7): string {
  const r = rng(seed);
  const messages: object[] = [{ role: 'system', content: 'You are a helpful assistant.' }];
  let text = JSON.stringify({ model: 'gpt-4o', messages });
  while (text.length < bytes) {
    messages.push({ role: messages.length % 2 ? 'user' : 'assistant', content: prose(r, 1) });
    text = JSON.stringify({ model: 'gpt-4o', messages });
  }
  // Trim the last message so the payload lands near the target size.
  const last = messages[messages.length - 1] as { content: string };
  last.content = last.content.slice(0, Math.max(1, last.content.length - (text.length - bytes)));
  return JSON.stringify({ model: 'gpt-4o', messages });
}
