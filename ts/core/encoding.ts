import { M2MError } from './errors.js';

/** The BPE vocabularies m2m knows. */
export type Encoding = 'cl100k_base' | 'o200k_base' | 'llama3';

/** Every encoding, in wire-byte order (0, 1, 2). */
export const ENCODINGS: readonly Encoding[] = ['cl100k_base', 'o200k_base', 'llama3'];

/** Narrows a string to an `Encoding`, or throws `UNKNOWN_TOKENIZER`. */
export function toEncoding(name: string): Encoding {
  if ((ENCODINGS as readonly string[]).includes(name)) return name as Encoding;
  throw new M2MError(
    'UNKNOWN_TOKENIZER',
    `unknown encoding ${JSON.stringify(name)} (expected one of ${ENCODINGS.join(', ')})`,
  );
}
