/**
 * Small tokenizer results as views into shared buffers, as Node's
 * `Buffer.allocUnsafe` pools small Buffers: a new ArrayBuffer is the largest
 * part of a small call (docs/performance.md, "The fixed cost of a call").
 * A result's `buffer` may therefore hold other results; `ids.slice()` is a
 * copy of its own.
 */
import { toM2MError } from './errors.js';

/** Ids per pool (16 KiB). */
export const ID_POOL_IDS = 4096;

/** A pool with less room than this is left for a new one before the next call. */
const MIN_ROOM_IDS = 1024;

/** The binding's `encodeOrdinaryInto`: the ids' count when they fit in `pool` from `offset`, else the ids. */
export type EncodeInto = (text: string, encoding: string, pool: Uint32Array, offset: number) => number | Uint32Array;

/**
 * `encodeOrdinary` that hands out views of pools made by `newPool`. Views
 * never overlap and a pool is never written again once left, so a result
 * stays valid however long it is kept.
 */
export function pooledEncodeOrdinary(
  into: EncodeInto,
  newPool: () => Uint32Array,
): (text: string, encoding: string) => Uint32Array {
  // No pool until the first call, so loading the backend allocates nothing.
  let pool: Uint32Array = new Uint32Array(0);
  let used = 0;
  return (text, encoding) => {
    // A pool whose buffer was detached (ArrayBuffer.prototype.transfer) has length 0 and is left too.
    if (pool.length - used < MIN_ROOM_IDS) {
      pool = newPool();
      used = 0;
    }
    let result: number | Uint32Array;
    try {
      result = into(text, encoding, pool, used);
    } catch (err) {
      throw toM2MError(err);
    }
    if (typeof result !== 'number') return result;
    const ids = new Uint32Array(pool.buffer, pool.byteOffset + used * Uint32Array.BYTES_PER_ELEMENT, result);
    used += result;
    return ids;
  };
}
