//! Times Brotli compression of the files named on the command line, at
//! quality `Q` (default 5).
//! Run: `cargo run --release -p m2m-core --example brotli_files -- FILE...`.
#[path = "timing/mod.rs"]
mod timing;

use m2m_core::codec::brotli;
use timing::{best_of_five, calls_for};

fn main() {
    let quality: u32 = std::env::var("Q")
        .ok()
        .and_then(|q| q.parse().ok())
        .unwrap_or(5);
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap();
        let calls = calls_for(data.len());
        let out = brotli::compress(&data, quality).unwrap().len();
        let mut sum = 0;
        // A warm-up batch first (buffers recycled, caches filled).
        best_of_five(calls / 10, &mut sum, || {
            brotli::compress(&data, quality).unwrap().len()
        });
        let us = best_of_five(calls, &mut sum, || {
            brotli::compress(&data, quality).unwrap().len()
        });
        println!(
            "{path}: {} B q{quality} {us:.2} µs -> {out} B (checksum {sum})",
            data.len()
        );
    }
}
