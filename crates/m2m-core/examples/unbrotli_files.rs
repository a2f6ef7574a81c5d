//! Times Brotli decompression of the files named on the command line, each
//! compressed first at quality 5.
//! Run: `cargo run --release -p m2m-core --example unbrotli_files -- FILE...`.
#[path = "timing/mod.rs"]
mod timing;

use m2m_core::codec::brotli;
use timing::{best_of_five, calls_for};

fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap();
        let packed = brotli::compress(&data, 5).unwrap();
        let calls = calls_for(data.len());
        let mut sum = 0;
        let us = best_of_five(calls, &mut sum, || {
            brotli::decompress(&packed).unwrap().len()
        });
        println!(
            "{path}: {} B from {} B, {us:.2} µs (checksum {sum})",
            data.len(),
            packed.len()
        );
    }
}
