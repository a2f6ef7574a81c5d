import { backend } from './backend.js';
import { type Encoding, toEncoding } from './encoding.js';
import { toTokenIds } from './wire.js';

/** Options of `encode()`. */
export interface EncodeOptions {
  /**
   * Special tokens recognised in the text: `'all'`, or a list of names such
   * as `['<|endoftext|>']`. Default: none — special-token text is encoded as
   * plain text, so input cannot smuggle control tokens into a model.
   */
  allowedSpecial?: 'all' | readonly string[];
}

function ready(encoding: Encoding) {
  const name = toEncoding(encoding);
  const core = backend();
  core.ensureEncoding(name);
  return { core, name };
}

/**
 * Tokenizes text with a BPE encoding; the ids equal tiktoken's (and Meta's Llama 3).
 * With the native addon, a small result is a view of a shared buffer (as Node
 * pools small Buffers): its `buffer` holds other results, `ids.slice()` is a copy
 * of its own.
 */
export function encode(text: string, encoding: Encoding, options: EncodeOptions = {}): Uint32Array {
  const { core, name } = ready(encoding);
  const allowed = options.allowedSpecial;
  if (allowed === undefined || (Array.isArray(allowed) && allowed.length === 0)) {
    return core.encodeOrdinary(text, name);
  }
  return core.encodeWithSpecial(text, name, allowed === 'all' ? null : [...allowed]);
}

/**
 * Turns ids back into text. Throws `UNKNOWN_TOKEN` for an id the encoding
 * lacks and `INVALID_UTF8` when the ids do not form valid UTF-8 (for example
 * half of a multi-byte character); never returns partial text.
 */
export function decode(ids: ArrayLike<number>, encoding: Encoding): string {
  const { core, name } = ready(encoding);
  return core.decodeTokens(toTokenIds(ids), name);
}

/** The number of tokens of `text` (special-token text counted as plain text). */
export function countTokens(text: string, encoding: Encoding): number {
  const { core, name } = ready(encoding);
  return core.countTokens(text, name);
}
