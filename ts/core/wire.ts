import { backend, type RawTokenIds } from './backend.js';
import { type Encoding, toEncoding } from './encoding.js';
import { M2MError } from './errors.js';

/** Token ids together with the vocabulary they belong to. */
export interface TokenIds {
  encoding: Encoding;
  ids: Uint32Array;
}

const U32_MAX = 0xffff_ffff;

/**
 * Converts caller-supplied ids to a Uint32Array, rejecting anything that is
 * not an integer in [0, 2^32) (a Uint32Array would silently wrap it).
 */
export function toTokenIds(ids: ArrayLike<number>): Uint32Array {
  if (ids instanceof Uint32Array) return ids;
  const out = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (!Number.isInteger(id) || id < 0 || id > U32_MAX) {
      throw new M2MError('INVALID_TOKEN_ID', `token id at index ${i} is ${id}: ids are integers from 0 to ${U32_MAX}`);
    }
    out[i] = id;
  }
  return out;
}

function fromRaw(raw: RawTokenIds): TokenIds {
  return { encoding: toEncoding(raw.encoding), ids: raw.ids };
}

/** Encodes ids as unsigned LEB128 varints (7 bits a byte, low bits first). */
export function varintEncode(ids: ArrayLike<number>): Uint8Array {
  return backend().varintEncode(toTokenIds(ids));
}

/** Decodes unsigned LEB128 varints; throws `TRUNCATED_VARINT`, `VARINT_OVERFLOW` or `NON_CANONICAL_VARINT`. */
export function varintDecode(bytes: Uint8Array): Uint32Array {
  return backend().varintDecode(bytes);
}

/** Standard, padded base64. */
export function base64Encode(bytes: Uint8Array): string {
  return backend().base64Encode(bytes);
}

/** Decodes standard, padded base64; throws `INVALID_BASE64`. */
export function base64Decode(text: string): Uint8Array {
  return backend().base64Decode(text);
}

/** Packs token ids into the TokenNative text form `#TK|<C|O|L>|<base64 varints>`. */
export function packTokenNative(ids: ArrayLike<number>, encoding: Encoding): string {
  return backend().packTokenNative(toTokenIds(ids), toEncoding(encoding));
}

/** Unpacks the TokenNative text form into its encoding and ids. */
export function unpackTokenNative(wire: string): TokenIds {
  return fromRaw(backend().unpackTokenNative(wire));
}

/** Packs token ids into the TokenNative binary form `<0|1|2><varints>`. */
export function packTokenNativeBinary(ids: ArrayLike<number>, encoding: Encoding): Uint8Array {
  return backend().packTokenNativeBinary(toTokenIds(ids), toEncoding(encoding));
}

/** Unpacks the TokenNative binary form into its encoding and ids. */
export function unpackTokenNativeBinary(bytes: Uint8Array): TokenIds {
  return fromRaw(backend().unpackTokenNativeBinary(bytes));
}
