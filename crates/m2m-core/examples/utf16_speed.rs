//! Times the UTF-16 helpers on the files named on the command line.
//! Run: `cargo run --release -p m2m-core --example utf16_speed -- FILE...`.
use std::time::Instant;

fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap();
        let units: Vec<u16> = text.encode_utf16().collect();
        // The results are summed and printed, so the calls cannot be elided.
        let mut sum = 0;
        let mut time = |f: &dyn Fn() -> usize| {
            let mut best = f64::MAX;
            for _ in 0..5 {
                let start = Instant::now();
                for _ in 0..200 {
                    sum += f();
                }
                best = best.min(start.elapsed().as_secs_f64() * 1e6 / 200.0);
            }
            best
        };
        let len = time(&|| m2m_core::utf16::utf8_len(&units).unwrap());
        let conv = time(&|| m2m_core::utf16::to_utf8_lossy(&units).len());
        println!(
            "{path}: {} units, utf8_len {len:.1} µs, to_utf8_lossy {conv:.1} µs (checksum {sum})",
            units.len()
        );
    }
}
