/**
 * Token decoding by joining JavaScript strings, for the wasm backend, where a
 * call into wasm and the string it returns cost more than the work on a
 * short message (docs/performance.md, "Decoding in the wasm backend"). The
 * first decode of an encoding makes a table of every token (from the core's
 * `tokenTexts`): a token that holds whole characters is a string; a run of
 * tokens that cut characters is joined as bytes and decoded as strict UTF-8.
 * Anything else (an unknown id, bytes that are not UTF-8) goes to the core,
 * so the result and every error are the core's.
 */

/** What the binding gives (see `m2m_core::bpe::TokenTexts`). */
export interface TokenTexts {
  readonly text: string;
  readonly ends: Uint32Array;
  readonly cutBytes: Uint8Array;
  readonly cutEnds: Uint32Array;
  free?(): void;
}

/** Token id → its text ('' for a token that cuts a character), and id → its bytes for those. */
export interface DecodeTable {
  texts: string[];
  cuts: (Uint8Array | undefined)[];
}

/** The table of an encoding's tokens. */
export function tableFrom(source: TokenTexts): DecodeTable {
  const { text, ends, cutBytes, cutEnds } = source;
  const n = ends.length - 1;
  const texts = new Array<string>(n);
  const cuts = new Array<Uint8Array | undefined>(n).fill(undefined);
  for (let id = 0; id < n; id++) {
    texts[id] = text.slice(ends[id], ends[id + 1]);
    const from = cutEnds[id] as number;
    const to = cutEnds[id + 1] as number;
    if (to > from) cuts[id] = cutBytes.subarray(from, to);
  }
  return { texts, cuts };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Where joining strings pays (docs/performance.md, "Decoding in the wasm
 * backend"): calls of at most this many ids, of which at most one in
 * `MAX_CUT_SHARE` cuts a character; longer calls and text of many cut
 * characters decode faster in the core.
 */
export const TABLE_MAX_IDS = 4096;
export const MAX_CUT_SHARE = 8;

/**
 * The text of `ids`, or undefined where the core must decode them: an
 * unknown id or bytes that are not UTF-8 (the core says what is wrong), or a
 * call the core does faster (see {@link TABLE_MAX_IDS}).
 */
export function joinFromTable({ texts, cuts }: DecodeTable, ids: Uint32Array): string | undefined {
  const n = ids.length;
  if (n > TABLE_MAX_IDS) return undefined;
  let out = '';
  let cutIds = 0;
  for (let i = 0; i < n; i++) {
    const piece = texts[ids[i] as number];
    if (piece) {
      out += piece;
      continue;
    }
    // A run of tokens that cut characters: their bytes together must be UTF-8.
    let length = 0;
    let j = i;
    for (; j < n && !texts[ids[j] as number]; j++) {
      const bytes = cuts[ids[j] as number];
      if (bytes === undefined) return undefined;
      length += bytes.length;
    }
    cutIds += j - i;
    if (cutIds * MAX_CUT_SHARE > n) return undefined;
    const run = new Uint8Array(length);
    for (let k = i, at = 0; k < j; k++) {
      const bytes = cuts[ids[k] as number] as Uint8Array;
      run.set(bytes, at);
      at += bytes.length;
    }
    try {
      out += strictUtf8.decode(run);
    } catch {
      return undefined;
    }
    i = j - 1;
  }
  return out;
}

/** Wraps a backend's `decodeTokens` with the table path (a table per encoding, made on first use). */
export function withDecodeTable(
  decode: (ids: Uint32Array, encoding: string) => string,
  source: (encoding: string) => TokenTexts,
): (ids: Uint32Array, encoding: string) => string {
  const tables = new Map<string, DecodeTable>();
  return (ids, encoding) => {
    let table = tables.get(encoding);
    if (table === undefined) {
      const texts = source(encoding);
      table = tableFrom(texts);
      texts.free?.();
      tables.set(encoding, table);
    }
    return joinFromTable(table, ids) ?? decode(ids, encoding);
  };
}
