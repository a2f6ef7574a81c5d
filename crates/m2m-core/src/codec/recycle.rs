//! The Brotli encoder's allocator: its large buffers are recycled per thread.
//!
//! The `brotli` crate's `StandardAlloc` zero-fills every buffer it hands out
//! and frees it when the call ends. At quality 5 that clears a 1 MiB hash table
//! on every call, which costs about as much as compressing a 1 KB message, and
//! for larger messages the kernel often has to fault the ring buffer and the
//! command array in afresh. C Brotli `malloc`s these without clearing them.
//!
//! [`Recycler`] keeps the large buffers that this thread's last calls gave back
//! (at most [`POOL_LIMIT_BYTES`]) and hands them out again. A recycled buffer
//! is cleared, just as a fresh one is, unless the encoder writes every element
//! of it before reading that element (see [`Recycler::may_skip_clearing`]):
//! either way the encoder reads the same values, so its output is the same as
//! with `StandardAlloc`. The tests compare the two on thousands of inputs.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::mem::size_of;

use ::brotli::enc::command::Command;
use ::brotli::enc::BrotliAlloc;
use ::brotli::{Allocator, SliceWrapper, SliceWrapperMut};

/// Smaller buffers come from the heap each time: clearing them is cheap.
const MIN_POOLED_BYTES: usize = 16 * 1024;
/// Idle buffers kept per thread, at most; the oldest are dropped first.
pub const POOL_LIMIT_BYTES: usize = 4 * 1024 * 1024;
/// Elements in the smallest hash-chain table of the H5/H6/H9 hashers: 2^14
/// buckets of 2^4 slots, at quality 5.
const MIN_HASH_CHAIN_TABLE_LEN: usize = 1 << 18;

/// An idle buffer: a `Vec<T>` with `T` erased.
struct Idle {
    type_id: TypeId,
    len: usize,
    bytes: usize,
    data: Box<dyn Any>,
}

thread_local! {
    /// This thread's idle buffers, the most recently given back last.
    static POOL: RefCell<Vec<Idle>> = const { RefCell::new(Vec::new()) };
}

/// The allocator of one Brotli encoder.
pub struct Recycler {
    /// Qualities 5 to 9, whose hashers (H5, H6, H9) keep hash chains.
    hash_chains: bool,
}

impl Recycler {
    /// An allocator for an encoder at `quality`.
    pub fn new(quality: u32) -> Self {
        Recycler {
            hash_chains: (5..=9).contains(&quality),
        }
    }

    /// Whether a recycled `[T; len]` may be handed out without clearing: only
    /// where the encoder provably writes each element before it reads it.
    ///
    /// - `Command`: the encoder's one command array (`commands_`). It is filled
    ///   from index 0 on and read only below `num_commands_`.
    /// - `u32` of 2^18 elements or more, at qualities 5 to 9: the hash-chain
    ///   table (`buckets`) of the H5, H6 or H9 hasher, the only `u32` buffer
    ///   that large at these qualities (their greedy block splitter makes at
    ///   most one block per 512 symbols of a metablock of at most 16 MiB, so
    ///   its arrays stay within 2^16 elements). Bucket `k`'s slots are read
    ///   only below its counter `num[k]`, and every slot below the counter
    ///   was written as the counter passed it. The counters (`u16`) are
    ///   always cleared. C Brotli relies on the same invariant: it clears the
    ///   counters and not the table. The H2, H3, H4 and H54 tables of
    ///   qualities 2 to 4 are read unguarded, hence the quality condition.
    fn may_skip_clearing<T: 'static>(&self, len: usize) -> bool {
        let t = TypeId::of::<T>();
        t == TypeId::of::<Command>()
            || (self.hash_chains && t == TypeId::of::<u32>() && len >= MIN_HASH_CHAIN_TABLE_LEN)
    }
}

/// Takes the smallest idle `Vec<T>` of at least `len` elements, if one is at
/// most twice that long.
fn take_idle<T: 'static>(len: usize) -> Option<Vec<T>> {
    POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let t = TypeId::of::<T>();
        let best = pool
            .iter()
            .enumerate()
            .filter(|(_, idle)| idle.type_id == t && idle.len >= len && idle.len / 2 <= len)
            .min_by_key(|(_, idle)| idle.len)
            .map(|(i, _)| i)?;
        pool.remove(best)
            .data
            .downcast::<Vec<T>>()
            .ok()
            .map(|data| *data)
    })
    .ok()
    .flatten()
}

/// Keeps `data` for a later call if it is large enough to be worth it,
/// dropping the oldest idle buffers beyond the limit. Drops `data` instead
/// while the thread is exiting.
fn keep_idle<T: 'static>(data: Vec<T>) {
    let bytes = data.len() * size_of::<T>();
    if !(MIN_POOLED_BYTES..=POOL_LIMIT_BYTES).contains(&bytes) {
        return;
    }
    let _ = POOL.try_with(|pool| {
        // Never borrowed elsewhere while a buffer is dropped: the pool only
        // holds plain vectors, whose drop does not come back here.
        let mut pool = pool.borrow_mut();
        let mut total = bytes + pool.iter().map(|idle| idle.bytes).sum::<usize>();
        while total > POOL_LIMIT_BYTES {
            total -= pool.remove(0).bytes;
        }
        pool.push(Idle {
            type_id: TypeId::of::<T>(),
            len: data.len(),
            bytes,
            data: Box::new(data),
        });
    });
}

/// The bytes of idle buffers this thread keeps.
#[cfg(test)]
fn idle_bytes() -> usize {
    POOL.with(|pool| pool.borrow().iter().map(|idle| idle.bytes).sum())
}

/// A buffer of the encoder: the first `len` elements of `data`. Dropping it
/// gives `data` back to this thread's pool (if it is large enough).
pub struct Buffer<T: 'static> {
    data: Vec<T>,
    len: usize,
}

impl<T: 'static> Default for Buffer<T> {
    fn default() -> Self {
        Buffer {
            data: Vec::new(),
            len: 0,
        }
    }
}

impl<T: 'static> SliceWrapper<T> for Buffer<T> {
    fn slice(&self) -> &[T] {
        &self.data[..self.len]
    }
}

impl<T: 'static> SliceWrapperMut<T> for Buffer<T> {
    fn slice_mut(&mut self) -> &mut [T] {
        &mut self.data[..self.len]
    }
}

impl<T: 'static> Drop for Buffer<T> {
    fn drop(&mut self) {
        keep_idle(std::mem::take(&mut self.data));
    }
}

impl<T: Clone + Default + 'static> Allocator<T> for Recycler {
    type AllocatedMemory = Buffer<T>;

    fn alloc_cell(&mut self, len: usize) -> Buffer<T> {
        let recycled = if len * size_of::<T>() >= MIN_POOLED_BYTES {
            take_idle::<T>(len)
        } else {
            None
        };
        let data = match recycled {
            Some(mut data) => {
                if !self.may_skip_clearing::<T>(len) {
                    data[..len].fill(T::default());
                }
                data
            }
            None => vec![T::default(); len],
        };
        Buffer { data, len }
    }

    /// Dropping the buffer gives it back to the pool.
    fn free_cell(&mut self, _data: Buffer<T>) {}
}

impl BrotliAlloc for Recycler {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::brotli::{
        compress, compress_tuned, compress_upstream, compress_with, compress_with_tuning,
        decompress, smallest_window, window_for, Fresh, Tuning,
    };

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const TEXT: &str = r#"{"role":"user","content":"Summarise the attached report for the leadership meeting: revenue grew 12% while costs stayed flat. ¿Puedes explicarlo? Объясни разницу между TCP и UDP. 请解释量子计算。"},{"role":"assistant","tool_calls":[{"id":"call_7","function":{"name":"lookup","arguments":"{\"q\":\"weather in Paris\"}"}}]},"#;

    /// Input of one of several kinds: random bytes, text, text with random
    /// edits, short repeats, runs of one byte, or all of these in turn.
    fn input(rng: &mut Rng, len: usize) -> Vec<u8> {
        let text = TEXT.as_bytes();
        let kind = rng.below(6);
        let period = 1 + rng.below(40);
        let mut data = Vec::with_capacity(len);
        while data.len() < len {
            let kind = if kind == 5 { rng.below(5) } else { kind };
            let chunk = if kind == 5 { 1 + rng.below(4096) } else { len };
            for _ in 0..chunk.min(len - data.len()) {
                let i = data.len();
                data.push(match kind {
                    0 => rng.next() as u8,
                    1 => text[i % text.len()],
                    2 if rng.below(16) == 0 => rng.next() as u8,
                    2 => text[(i * 7) % text.len()],
                    3 => b"abcabcabd\x00\xff"[i % period % 11],
                    _ => b'x',
                });
            }
        }
        data
    }

    /// The encoder with recycled buffers gives the bytes of the plain
    /// upstream call (the `brotli` crate's own allocator, every buffer freshly
    /// cleared), at every quality, with buffers left over from other sizes and
    /// content.
    #[test]
    fn recycled_buffers_give_the_upstream_bytes() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..2000 {
            // All qualities, but the slow ones (10, 11) on smaller inputs.
            let quality = rng.below(12) as u32;
            let max_len = match quality {
                10 | 11 => 20_000,
                _ if rng.below(8) == 0 => 300_000,
                _ => 40_000,
            };
            let len = match rng.below(3) {
                0 => rng.below(300),
                _ => rng.below(max_len + 1),
            };
            let data = input(&mut rng, len);
            let recycled = compress_with(
                Recycler::new(quality),
                &data,
                quality,
                window_for(data.len()),
                &[],
            )
            .unwrap();
            let upstream = compress_upstream(&data, quality);
            assert!(
                recycled == upstream,
                "case {case}: {len} bytes at quality {quality} differ"
            );
            assert_eq!(decompress(&recycled).unwrap(), data);
        }
        assert!(idle_bytes() <= POOL_LIMIT_BYTES);
    }

    /// The settings auto uses on small messages (smallest window, literal
    /// context modeling off, any quality) give the upstream bytes too.
    #[test]
    fn tuned_settings_give_the_upstream_bytes() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for case in 0..600 {
            let quality = rng.below(12) as u32;
            let len = rng.below(if quality >= 10 { 3000 } else { 20_000 });
            let data = input(&mut rng, len);
            let tuning = Tuning {
                quality,
                lgwin: smallest_window(len) + rng.below(2) as u32,
                literal_context_modeling: rng.below(2) == 0,
            };
            let recycled = compress_tuned(&data, tuning).unwrap();
            let upstream = compress_with_tuning(Fresh, &data, tuning, &[]).unwrap();
            assert!(
                recycled == upstream,
                "case {case}: {tuning:?} on {len} bytes differ"
            );
            assert_eq!(decompress(&recycled).unwrap(), data);
        }
    }

    /// A stale table is really handed out again (else the test above would
    /// prove nothing), and the pool stays within its limit.
    #[test]
    fn the_hash_table_is_reused_and_the_pool_is_bounded() {
        let text = TEXT.as_bytes().repeat(10);
        compress(&text, 5).unwrap();
        let idle = idle_bytes();
        assert!(idle >= MIN_HASH_CHAIN_TABLE_LEN * size_of::<u32>());
        let mut recycler = Recycler::new(5);
        let table: Buffer<u32> = recycler.alloc_cell(MIN_HASH_CHAIN_TABLE_LEN);
        assert!(idle_bytes() < idle, "the table came from the pool");
        drop(table);
        assert_eq!(idle_bytes(), idle);
        for len in [100_000, 1_000_000, 3_000_000] {
            compress(&text.repeat(len / text.len() + 1), 5).unwrap();
            assert!(idle_bytes() <= POOL_LIMIT_BYTES);
        }
    }
}
