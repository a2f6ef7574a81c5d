//! Times Brotli decompression of the files named on the command line, each
//! compressed first at quality 5.
//! Run: `cargo run --release -p m2m-core --example unbrotli_files -- FILE...`.
use std::time::Instant;

fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap();
        let packed = m2m_core::codec::brotli::compress(&data, 5).unwrap();
        let iters = (20_000_000 / data.len().max(1)).clamp(50, 200_000);
        let mut out = 0;
        // The best of five batches: the least disturbed by other work.
        let mut us = f64::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            for _ in 0..iters / 5 {
                out += m2m_core::codec::brotli::decompress(&packed).unwrap().len();
            }
            us = us.min(start.elapsed().as_secs_f64() * 1e6 / (iters / 5) as f64);
        }
        println!(
            "{path}: {} B from {} B, {us:.2} µs (checksum {out})",
            data.len(),
            packed.len()
        );
    }
}
