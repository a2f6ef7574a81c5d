//! The timing loop the examples share (`#[path = "timing/mod.rs"] mod timing;`).
// Each example includes this module and uses part of it.
#![allow(dead_code)]
use std::time::Instant;

/// Microseconds per call of `f`: the best of five batches of `calls` calls,
/// the batch least disturbed by other work. `f`'s results are added to
/// `checksum`, which the caller prints, so the calls cannot be optimised away.
pub fn best_of_five(calls: usize, checksum: &mut usize, mut f: impl FnMut() -> usize) -> f64 {
    let calls = calls.max(1);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..calls {
            *checksum = checksum.wrapping_add(f());
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e6 / calls as f64);
    }
    best
}

/// Calls per batch for an input of `bytes`: about 4 MB of input per batch,
/// from 10 to 40,000 calls.
pub fn calls_for(bytes: usize) -> usize {
    (4_000_000 / bytes.max(1)).clamp(10, 40_000)
}
