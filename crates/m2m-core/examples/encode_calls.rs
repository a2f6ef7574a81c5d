//! Microseconds per call of `encode_ordinary` and `count` (cl100k_base) on
//! each file named on the command line (one text, or several separated by
//! NUL, taken in turn), one tab-separated line per file:
//! `path encode_µs count_µs`. `bench/boundary.ts` runs it beside the same
//! calls through the Node addon.
//! Run: `cargo run --release -p m2m-core --example encode_calls -- FILE...`.
#[path = "timing/mod.rs"]
mod timing;

use m2m_core::bpe::Tokenizer;
use m2m_core::Encoding;
use timing::{best_of_five, calls_for};

fn main() {
    let ranks = std::fs::read("build/ranks/cl100k_base.bpe").expect("run the set-up first");
    let tokenizer = Tokenizer::from_rank_data(Encoding::Cl100kBase, &ranks).unwrap();
    let mut sum = 0;
    for path in std::env::args().skip(1) {
        let file = std::fs::read_to_string(&path).unwrap();
        let texts: Vec<&str> = file.split('\0').collect();
        let calls = calls_for(file.len() / texts.len());
        let mut next = 0;
        let mut text = || {
            next += 1;
            texts[next % texts.len()]
        };
        let encode = best_of_five(calls, &mut sum, || tokenizer.encode_ordinary(text()).len());
        let count = best_of_five(calls, &mut sum, || tokenizer.count(text()));
        println!("{path}\t{encode:.3}\t{count:.3}");
    }
    eprintln!("checksum {sum}");
}
