import { backend } from './backend.js';
import type { Encoding } from './encoding.js';

/** Names of the wire prefixes in the core's table. */
export type PrefixName =
  | 'TOKEN_NATIVE'
  | 'TOKEN'
  | 'BROTLI'
  | 'BROTLI_DICTIONARY'
  | 'HISTORY'
  | 'BROTLI_SESSION'
  | 'ZLIB_LEGACY'
  | 'DICTIONARY'
  | 'DICTIONARY_LEGACY'
  | 'FRAME_V1'
  | 'VERSIONED';

/** The core's tables: the one home of the wire prefixes and encoding ids. */
export interface CoreTables {
  prefixes: Record<PrefixName, string>;
  /** Length of the longest prefix. */
  maxPrefixLen: number;
  /** Each encoding with its TokenNative text id (`C`/`O`/`L`) and binary id byte. */
  encodings: { name: Encoding; wire: string; byte: number }[];
  algorithms: string[];
  /** Sizes of the frame's keys and AEAD nonce. */
  frame: { aeadNonceBytes: number; aeadKeyBytes: number; hmacMinKeyBytes: number };
  errorCodes: string[];
  /** Ids of the trained dictionaries the package ships (`build/dictionaries/<id>.m2md`). */
  dictionaries: string[];
  /** The largest session history per direction (`#BH|`) the core compresses or decodes against. */
  maxHistoryBytes: number;
}

let tables: CoreTables | undefined;

/** The core's tables, read once from the loaded backend. */
export function coreTables(): CoreTables {
  tables ??= JSON.parse(backend().coreTables()) as CoreTables;
  return tables;
}

/** A wire prefix by name. */
export function wirePrefix(name: PrefixName): string {
  return coreTables().prefixes[name];
}

/** The encoding of a `#TK|<id>|` wire string, if it names a known one. */
export function tokenNativeEncoding(wire: string): Encoding | undefined {
  const head = wirePrefix('TOKEN_NATIVE');
  if (!wire.startsWith(head)) return undefined;
  const id = wire.charAt(head.length);
  return coreTables().encodings.find((e) => e.wire === id)?.name;
}

/** The encoding of a binary TokenNative id byte, if it is a known one. */
export function encodingOfByte(byte: number | undefined): Encoding | undefined {
  return coreTables().encodings.find((e) => e.byte === byte)?.name;
}

/** The dictionary id a `#BD|<id>.<version>.<hash>|` (or `…:`) wire string names, if it is one. */
export function trainedDictionaryId(wire: string): string | undefined {
  const head = wirePrefix('BROTLI_DICTIONARY');
  if (!wire.startsWith(head)) return undefined;
  const dot = wire.indexOf('.', head.length);
  return dot > head.length && dot < head.length + 33 ? wire.slice(head.length, dot) : undefined;
}
