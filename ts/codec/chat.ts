/**
 * Token counts of chat requests: the message overheads of OpenAI's chat
 * format, and limit checks that stop counting once the limit is passed.
 */
import type { Encoding } from '../core/encoding.js';
import { M2MError } from '../core/errors.js';
import { countTokens, encode } from '../core/tokenizer.js';
import { findModel, modelInfo } from './models.js';

/** A chat message as the Chat Completions API takes it (text parts only are counted). */
export interface ChatMessage {
  role: string;
  content?: string | readonly { type: string; text?: string }[] | null;
  name?: string;
}

/** How to count: a model from the registry, or an encoding with the format's reply overhead. */
export type ChatTokenizer = string | { encoding: Encoding; replyTokens?: number };

/** Tokens the chat format adds per message, and per `name` field. */
const PER_MESSAGE = 3;
const PER_NAME = 1;

function resolve(tokenizer: ChatTokenizer): { encoding: Encoding; replyTokens: number } {
  if (typeof tokenizer === 'string') {
    const info = modelInfo(tokenizer);
    return { encoding: info.encoding, replyTokens: info.replyTokens };
  }
  return { encoding: tokenizer.encoding, replyTokens: tokenizer.replyTokens ?? 3 };
}

function contentText(message: ChatMessage, index: number): string[] {
  const content = message.content;
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) {
    throw new M2MError('INVALID_OPTION', `messages[${index}].content must be a string, an array of parts or null`);
  }
  return content.map((part, i) => {
    if (part?.type !== 'text' || typeof part.text !== 'string') {
      throw new M2MError(
        'INVALID_OPTION',
        `messages[${index}].content[${i}] is a ${String(part?.type)} part: only text parts can be counted`,
      );
    }
    return part.text;
  });
}

/** Tokens of one message in the chat format (without the reply overhead). */
function messageTokens(message: ChatMessage, index: number, encoding: Encoding): number {
  if (typeof message?.role !== 'string')
    throw new M2MError('INVALID_OPTION', `messages[${index}].role must be a string`);
  let total = PER_MESSAGE + countTokens(message.role, encoding);
  for (const text of contentText(message, index)) total += countTokens(text, encoding);
  if (typeof message.name === 'string') total += countTokens(message.name, encoding) + PER_NAME;
  return total;
}

/**
 * The prompt tokens a chat request's messages cost, with the per-message and
 * reply overheads OpenAI documents (tools, images and response formats add
 * tokens this does not count: they are refused or not passed here).
 */
export function countChatTokens(messages: readonly ChatMessage[], tokenizer: ChatTokenizer): number {
  const { encoding, replyTokens } = resolve(tokenizer);
  let total = replyTokens;
  messages.forEach((message, i) => {
    total += messageTokens(message, i, encoding);
  });
  return total;
}

/**
 * The chat formats' special-token ids, as gpt-tokenizer's `encodeChat` lays
 * them out: ChatML (`<|im_start|>` role `<|im_sep|>` content `<|im_end|>`, for
 * the models with a 3-token reply overhead) and Harmony (`<|start|>` role
 * `<|message|>` content `<|end|>`, for gpt-5 and the o-series, 2 tokens). The
 * core's cl100k_base and o200k_base tables (tiktoken's) carry none of these
 * ids, so `decode()` refuses them (`UNKNOWN_TOKEN`).
 */
const CHAT_FORMATS: Partial<
  Record<Encoding, { 3?: readonly [number, number, number]; 2?: readonly [number, number, number] }>
> = {
  // [start, separator, end]
  cl100k_base: { 3: [100264, 100266, 100265] },
  o200k_base: { 3: [200003, 200005, 200004], 2: [200006, 200008, 200007] },
};

/**
 * The token ids of `messages` in the chat format of `tokenizer`'s model, ending
 * with the reply's opening (`<|im_start|>assistant<|im_sep|>`, or
 * `<|start|>assistant` in Harmony): per message the start token, the role, the
 * separator, each text part encoded on its own (special-token text as plain
 * text) and the end token. The ids are gpt-tokenizer's `encodeChat`'s (see
 * `CHAT_FORMATS`), and the length always equals {@link countChatTokens}.
 *
 * @throws M2MError `INVALID_OPTION` for a message with a `name` (the formats'
 * layout of names is not documented), for Llama 3 (its chat template costs
 * other overheads than OpenAI's, which `countChatTokens` counts), and for an
 * encoding and reply overhead with no chat format; `UNKNOWN_MODEL` for a model
 * the registry does not know.
 */
export function encodeChat(messages: readonly ChatMessage[], tokenizer: ChatTokenizer): Uint32Array {
  const { encoding, replyTokens } = resolve(tokenizer);
  const ids = CHAT_FORMATS[encoding]?.[replyTokens as 2 | 3];
  if (ids === undefined) {
    throw new M2MError(
      'INVALID_OPTION',
      encoding === 'llama3'
        ? "encodeChat does not lay out Llama 3's chat template (its overheads differ from the OpenAI format countChatTokens counts)"
        : `encodeChat has no chat format for ${encoding} with a ${replyTokens}-token reply overhead`,
    );
  }
  const [start, separator, end] = ids;
  const out: number[] = [];
  const push = (text: string) => {
    for (const id of encode(text, encoding)) out.push(id);
  };
  messages.forEach((message, i) => {
    if (typeof message?.role !== 'string') throw new M2MError('INVALID_OPTION', `messages[${i}].role must be a string`);
    if (message.name !== undefined) {
      throw new M2MError(
        'INVALID_OPTION',
        `messages[${i}] has a name: encodeChat cannot lay it out (the chat format's tokens for names are not documented)`,
      );
    }
    out.push(start);
    push(message.role);
    out.push(separator);
    for (const text of contentText(message, i)) push(text);
    out.push(end);
  });
  out.push(start);
  push('assistant');
  if (replyTokens === 3) out.push(separator);
  return Uint32Array.from(out);
}

/** Longest text counted in one call while checking a limit (the count stops at the first chunk past it). */
const CHUNK_CHARS = 16 * 1024;

/**
 * Where `text` may be cut so that the tokens of the parts add up to those of
 * the whole: before a letter or digit that follows a line break (no
 * pre-tokenizer piece of the three encodings spans such a place).
 */
function cutPoint(text: string, from: number): number {
  if (text.length - from <= CHUNK_CHARS) return text.length;
  for (let i = from + CHUNK_CHARS; i < text.length; i++) {
    if (text.charCodeAt(i - 1) === 0x0a && /[\p{L}\p{N}]/u.test(text[i] as string)) return i;
  }
  return text.length;
}

/** Counts `text` chunk by chunk, stopping once `budget` is passed; returns the count or `Infinity`. */
function countUpTo(text: string, encoding: Encoding, budget: number): number {
  let total = 0;
  for (let from = 0; from < text.length; ) {
    const to = cutPoint(text, from);
    total += countTokens(from === 0 && to === text.length ? text : text.slice(from, to), encoding);
    if (total > budget) return Number.POSITIVE_INFINITY;
    from = to;
  }
  return total;
}

/**
 * The token count of `input` (text, or chat messages in the chat format) if it
 * is at most `limit`, else `false`. Counting stops as soon as the limit is
 * passed, so a huge input over a small limit costs little.
 */
export function isWithinTokenLimit(
  input: string | readonly ChatMessage[],
  limit: number,
  tokenizer: ChatTokenizer,
): number | false {
  if (!Number.isInteger(limit) || limit < 0) throw new M2MError('INVALID_OPTION', 'limit must be a whole number ≥ 0');
  const { encoding, replyTokens } = resolve(tokenizer);
  if (typeof input === 'string') {
    const n = countUpTo(input, encoding, limit);
    return n <= limit ? n : false;
  }
  let total = replyTokens;
  for (let i = 0; i < input.length && total <= limit; i++) {
    const message = input[i] as ChatMessage;
    if (typeof message?.role !== 'string') throw new M2MError('INVALID_OPTION', `messages[${i}].role must be a string`);
    total += PER_MESSAGE + countTokens(message.role, encoding);
    for (const text of contentText(message, i)) total += countUpTo(text, encoding, limit - total);
    if (typeof message.name === 'string') total += countTokens(message.name, encoding) + PER_NAME;
  }
  return total <= limit ? total : false;
}

/** Whether the registry knows `model` (for callers choosing a fallback). */
export function isKnownModel(model: string): boolean {
  return findModel(model) !== undefined;
}
