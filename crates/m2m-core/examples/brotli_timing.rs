//! Times Brotli compression of chat-like payloads at several sizes.
//! Run: `cargo run --release -p m2m-core --example brotli_timing`.
use std::time::Instant;

fn main() {
    let unit = r#"{"role":"user","content":"Can you summarize the main points of the attached report for the leadership meeting? The quarterly revenue grew by 12% while operating costs stayed flat."},"#;
    for size in [100usize, 1_000, 10_000, 100_000] {
        let text: String = unit.repeat(size / unit.len() + 1)[..size].to_owned();
        for quality in [4u32, 5, 6] {
            let iters = (2_000_000 / size).max(20);
            let start = Instant::now();
            let mut out = 0;
            for _ in 0..iters {
                out = m2m_core::codec::brotli::compress(text.as_bytes(), quality)
                    .unwrap()
                    .len();
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / iters as f64;
            println!("{size:>7} B  q{quality}  {us:>8.1} µs  -> {out} B");
        }
    }
}
