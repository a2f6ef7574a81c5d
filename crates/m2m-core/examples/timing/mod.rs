//! The timing loop the examples share (`#[path = "timing/mod.rs"] mod timing;`).
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
