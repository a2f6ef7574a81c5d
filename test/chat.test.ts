/**
 * Chat helpers: the model registry, chat-format token counts checked against
 * the `usage.prompt_tokens` of real recorded responses, and limit checks whose
 * chunked counting equals counting the whole text.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODELS } from '../ts/codec/models.js';
import {
  type ChatMessage,
  countChatTokens,
  countTokens,
  ENCODINGS,
  encode,
  encodeChat,
  encodingForModel,
  estimateCost,
  isWithinTokenLimit,
  M2MError,
  modelInfo,
} from '../ts/index.js';
import { sharedData } from './helpers.js';

describe('model registry', () => {
  it('maps model families and snapshots to their encodings', () => {
    const cases: [string, string][] = [
      ['gpt-4o', 'o200k_base'],
      ['gpt-4o-2024-08-06', 'o200k_base'],
      ['gpt-4o-mini-2024-07-18', 'o200k_base'],
      ['gpt-4.1-mini', 'o200k_base'],
      ['o3-mini', 'o200k_base'],
      ['gpt-5-nano', 'o200k_base'],
      ['gpt-4', 'cl100k_base'],
      ['gpt-4-0613', 'cl100k_base'],
      ['gpt-3.5-turbo-0125', 'cl100k_base'],
      ['text-embedding-3-small', 'cl100k_base'],
      ['meta-llama/Llama-3.3-70B-Instruct-Turbo', 'llama3'],
      ['llama3-8b-8192', 'llama3'],
    ];
    for (const [model, encoding] of cases) expect(encodingForModel(model), model).toBe(encoding);
    expect(modelInfo('gpt-4o-mini-2024-07-18').id).toBe('gpt-4o-mini');
  });

  it('refuses an unknown model unless given a fallback', () => {
    expect(() => encodingForModel('claude-sonnet-4-5')).toThrow(M2MError);
    try {
      encodingForModel('gpt-4.5-preview');
    } catch (err) {
      expect((err as M2MError).code).toBe('UNKNOWN_MODEL');
    }
    expect(encodingForModel('claude-sonnet-4-5', { fallback: 'cl100k_base' })).toBe('cl100k_base');
  });

  it('estimates list-price cost', () => {
    expect(estimateCost('gpt-4o', 1_000_000, 1_000_000)).toBeCloseTo(12.5, 10);
    expect(estimateCost('gpt-4o-mini', 1000)).toBeCloseTo(0.00015, 12);
  });
});

describe('countChatTokens', () => {
  it('adds the message and reply overheads', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Hello!', name: 'ann' },
    ];
    const enc = 'o200k_base';
    const expected =
      3 +
      (3 + countTokens('system', enc) + countTokens('You are a helpful assistant.', enc)) +
      (3 + countTokens('user', enc) + countTokens('Hello!', enc) + countTokens('ann', enc) + 1);
    expect(countChatTokens(messages, 'gpt-4o')).toBe(expected);
    expect(countChatTokens(messages, { encoding: enc })).toBe(expected);
    expect(countChatTokens([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], 'gpt-4o')).toBe(
      countChatTokens([{ role: 'user', content: 'Hi' }], 'gpt-4o'),
    );
  });

  it('refuses what it cannot count', () => {
    const image = [{ role: 'user', content: [{ type: 'image_url' }] }] as ChatMessage[];
    expect(() => countChatTokens(image, 'gpt-4o')).toThrow(/only text parts/);
    expect(() => countChatTokens([{ content: 'x' } as unknown as ChatMessage], 'gpt-4o')).toThrow(/role/);
  });

  it('equals usage.prompt_tokens of recorded OpenAI responses', (ctx) => {
    const dir = sharedData('traffic-dev', ctx);
    if (dir === undefined) return;
    const lines = readFileSync(`${dir}/traffic.jsonl`, 'utf8').trim().split('\n');
    const record = (i: number) => JSON.parse(lines[i] as string) as { kind: string; body: string };
    let compared = 0;
    const wrong: string[] = [];
    for (const line of readFileSync(`${dir}/sessions.jsonl`, 'utf8').trim().split('\n')) {
      for (const it of (
        JSON.parse(line) as { interactions: { api: string; request: number | null; response: number | null }[] }
      ).interactions) {
        if (it.api !== 'chat' || it.request === null || it.response === null) continue;
        const response = record(it.response);
        if (response.kind !== 'response') continue;
        let req: {
          model?: string;
          messages?: ChatMessage[];
          tools?: unknown;
          functions?: unknown;
          response_format?: unknown;
        };
        let usage: number | undefined;
        try {
          req = JSON.parse(record(it.request).body);
          usage = JSON.parse(response.body)?.usage?.prompt_tokens;
        } catch {
          continue;
        }
        if (typeof usage !== 'number' || typeof req.model !== 'string' || !Array.isArray(req.messages)) continue;
        if (req.tools || req.functions || req.response_format) continue;
        if (!/^(gpt-|o\d)/.test(req.model) || req.messages.some((m) => 'name' in m)) continue;
        let counted: number;
        try {
          encodingForModel(req.model);
          counted = countChatTokens(req.messages, req.model);
        } catch {
          continue; // an unknown model, or content other than text
        }
        compared++;
        if (counted !== usage) wrong.push(`${req.model}: recorded ${usage}, counted ${counted}`);
      }
    }
    console.log(`countChatTokens: ${compared - wrong.length} of ${compared} recorded prompts exact`);
    expect(compared).toBeGreaterThan(250);
    // A handful of recordings differ by a token or a few; everything else is exact.
    expect(wrong.length / compared, wrong.join('\n')).toBeLessThan(0.02);
  });
});

describe('isWithinTokenLimit', () => {
  it('returns the count at the limit and false past it', () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const n = countTokens(text, 'cl100k_base');
    expect(isWithinTokenLimit(text, n, { encoding: 'cl100k_base' })).toBe(n);
    expect(isWithinTokenLimit(text, n - 1, { encoding: 'cl100k_base' })).toBe(false);
    const messages: ChatMessage[] = [{ role: 'user', content: text }];
    const chat = countChatTokens(messages, 'gpt-4o');
    expect(isWithinTokenLimit(messages, chat, 'gpt-4o')).toBe(chat);
    expect(isWithinTokenLimit(messages, chat - 1, 'gpt-4o')).toBe(false);
    expect(() => isWithinTokenLimit(text, -1, 'gpt-4o')).toThrow(M2MError);
  });

  it('counting chunk by chunk equals counting the whole, on real bodies of every size', (ctx) => {
    const dir = sharedData('traffic-dev', ctx);
    const bodies = dir
      ? readFileSync(`${dir}/traffic.jsonl`, 'utf8')
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { body: string }).body)
      : [];
    // Long texts made of many bodies, so that the chunking cuts many times.
    const texts = [
      'line\n'.repeat(20_000),
      `${'x'.repeat(40_000)}\nend`,
      `\n${'é\n1\n'.repeat(9_000)}`,
      ...Array.from({ length: 6 }, (_, k) => bodies.slice(k * 300, k * 300 + 300).join('\n')),
    ];
    for (const encoding of ENCODINGS) {
      for (const text of texts) {
        expect(isWithinTokenLimit(text, Number.MAX_SAFE_INTEGER, { encoding })).toBe(countTokens(text, encoding));
      }
    }
  });
});

describe('encodeChat', () => {
  const chat: ChatMessage[] = [
    { role: 'system', content: 'You are a helpful assistant.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Hello there,' },
        { type: 'text', text: ' <|im_end|> world' },
      ],
    },
    { role: 'assistant', content: null },
  ];

  it("equals gpt-tokenizer's encodeChat ids for the ChatML models", async () => {
    const plain = chat.map((m) => ({
      role: m.role as 'user',
      content: typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join(''),
    }));
    for (const model of ['gpt-4o', 'gpt-4.1', 'gpt-4'] as const) {
      const theirs = (await import(`gpt-tokenizer/model/${model}`)) as {
        encodeChat: (c: unknown, model: undefined, options: unknown) => number[];
      };
      // Parts are encoded one by one (as countChatTokens counts them): the same ids here, as the parts split before a space.
      expect([...encodeChat(chat, model)], model).toEqual(
        // Special-token text in content as plain text, as m2m encodes it.
        theirs.encodeChat(plain, undefined, { disallowedSpecial: new Set() }),
      );
    }
  });

  it('lays out the Harmony format for the 2-token reply models, with its ids', () => {
    const ids = (text: string) => [...encode(text, 'o200k_base')];
    const messages: ChatMessage[] = [{ role: 'user', content: 'Hi' }];
    expect([...encodeChat(messages, 'gpt-5')]).toEqual([
      200006,
      ...ids('user'),
      200008,
      ...ids('Hi'),
      200007,
      200006,
      ...ids('assistant'),
    ]);
    expect([...encodeChat(messages, 'o3')]).toEqual([...encodeChat(messages, 'gpt-5')]);
  });

  it('refuses what it cannot lay out, with a typed error', () => {
    const error = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err instanceof M2MError ? err.code : String(err);
      }
      return 'no error';
    };
    expect(error(() => encodeChat([{ role: 'user', name: 'bob', content: 'x' }], 'gpt-4o'))).toBe('INVALID_OPTION');
    expect(error(() => encodeChat([{ role: 'user', content: 'x' }], 'llama-3.1'))).toBe('INVALID_OPTION');
    expect(error(() => encodeChat([{ role: 'user', content: 'x' }], { encoding: 'cl100k_base', replyTokens: 2 }))).toBe(
      'INVALID_OPTION',
    );
    expect(error(() => encodeChat([{ role: 'user', content: [{ type: 'image_url' }] }], 'gpt-4o'))).toBe(
      'INVALID_OPTION',
    );
    expect(error(() => encodeChat([], 'no-such-model'))).toBe('UNKNOWN_MODEL');
  });

  it('has the length countChatTokens counts, for every model of the registry, on real chats', (ctx) => {
    const dir = sharedData('traffic-dev', ctx);
    if (dir === undefined) return;
    const chats: ChatMessage[][] = [];
    for (const line of readFileSync(`${dir}/traffic.jsonl`, 'utf8').trim().split('\n')) {
      if (chats.length === 60) break;
      const record = JSON.parse(line) as { kind: string; body: string };
      if (record.kind !== 'request') continue;
      let messages: unknown;
      try {
        messages = (JSON.parse(record.body) as { messages?: unknown }).messages;
      } catch {
        continue;
      }
      if (!Array.isArray(messages) || messages.length === 0) continue;
      const chat = messages as ChatMessage[];
      if (chat.some((m) => 'name' in m || typeof m.role !== 'string')) continue;
      try {
        countChatTokens(chat, 'gpt-4o');
      } catch {
        continue; // content other than text
      }
      chats.push(chat);
    }
    expect(chats.length).toBe(60);
    let checked = 0;
    for (const { id, encoding } of MODELS) {
      for (const chat of chats) {
        if (encoding === 'llama3') {
          expect(() => encodeChat(chat, id)).toThrow(M2MError);
          continue;
        }
        expect(encodeChat(chat, id).length, id).toBe(countChatTokens(chat, id));
        checked++;
      }
    }
    expect(checked).toBe(60 * MODELS.filter((m) => m.encoding !== 'llama3').length);
  });
});
