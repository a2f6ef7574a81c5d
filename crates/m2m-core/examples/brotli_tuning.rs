//! Brotli's ratio and cost per message size on real bodies, for the settings
//! auto chooses between (quality, window, literal context modeling).
//! Run: `cargo run --release -p m2m-core --example brotli_tuning -- DIR`
//! with DIR the development corpus (`../shared/data/traffic-dev`): its
//! `traffic.jsonl` and `sse-events.jsonl`, one `{"kind","body"}` a line.
//! Prints, per size class, the median bytes saved (Brotli bytes + the `#BR|`
//! base64 wire against the body) and µs per message (best of five passes).
use m2m_core::codec::auto::brotli_tuning_for;
use m2m_core::codec::brotli::{self, Tuning};

/// A named way to choose settings from the body's size.
type Config = (&'static str, Box<dyn Fn(usize) -> Tuning>);
use std::time::Instant;

fn main() {
    let dir = std::env::args().nth(1).expect("the corpus folder");
    let per_class: usize = std::env::var("PER_CLASS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let mut bodies: Vec<String> = Vec::new();
    for file in ["traffic.jsonl", "sse-events.jsonl"] {
        let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        for line in text.lines().filter(|l| !l.is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            bodies.push(v["body"].as_str().unwrap().to_owned());
        }
    }
    let classes = [
        100,
        256,
        512,
        768,
        1024,
        1536,
        2048,
        3072,
        4096,
        8192,
        16384,
        65536,
        1 << 30,
    ];
    let configs: Vec<Config> = vec![
        ("auto", Box::new(brotli_tuning_for)),
        ("q5", Box::new(|n| Tuning::plain(5, n))),
        ("q10", Box::new(|n| Tuning::plain(10, n))),
        (
            "q10 small-win",
            Box::new(|n| Tuning {
                lgwin: brotli::smallest_window(n),
                ..Tuning::plain(10, n)
            }),
        ),
        (
            "q10 sw no-lcm",
            Box::new(|n| Tuning {
                lgwin: brotli::smallest_window(n),
                literal_context_modeling: false,
                ..Tuning::plain(10, n)
            }),
        ),
        ("q11", Box::new(|n| Tuning::plain(11, n))),
        (
            "q11 small-win",
            Box::new(|n| Tuning {
                lgwin: brotli::smallest_window(n),
                ..Tuning::plain(11, n)
            }),
        ),
        (
            "q11 no-lcm",
            Box::new(|n| Tuning {
                literal_context_modeling: false,
                ..Tuning::plain(11, n)
            }),
        ),
        (
            "q11 sw no-lcm",
            Box::new(|n| Tuning {
                lgwin: brotli::smallest_window(n),
                literal_context_modeling: false,
                ..Tuning::plain(11, n)
            }),
        ),
    ];
    let only = std::env::var("ONLY").ok();
    let configs: Vec<_> = configs
        .into_iter()
        .filter(|(name, _)| only.as_deref().map_or(true, |o| o == *name))
        .collect();
    let min_size: usize = std::env::var("MIN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    print!("| size | n |");
    for (name, _) in &configs {
        print!(" {name} saved % / µs |");
    }
    println!();
    let mut checksum = 0usize;
    let mut lo = 100;
    for &hi in &classes[1..] {
        let mut class: Vec<&String> = bodies
            .iter()
            .filter(|b| b.len() >= lo && b.len() < hi)
            .collect();
        class.sort_by_key(|b| b.len());
        let n = class.len();
        let sample: Vec<&String> = if n <= per_class {
            class
        } else {
            (0..per_class).map(|k| class[k * n / per_class]).collect()
        };
        if sample.is_empty() || hi <= min_size {
            lo = hi;
            continue;
        }
        print!("| {lo}–{hi} | {} |", sample.len());
        for (_, tune) in &configs {
            let mut saved: Vec<f64> = sample
                .iter()
                .map(|b| {
                    let out = brotli::compress_tuned(b.as_bytes(), tune(b.len())).unwrap();
                    let wire = 4 + (out.len() + 2) / 3 * 4;
                    100.0 * (b.len() as f64 - wire as f64) / b.len() as f64
                })
                .collect();
            saved.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let median = saved[saved.len() / 2];
            let total: usize = sample.iter().map(|b| b.len()).sum();
            let passes = (300_000 / total).clamp(1, 20);
            let mut best = f64::MAX;
            let mut sum = 0usize;
            for _ in 0..3 {
                let t = Instant::now();
                for _ in 0..passes {
                    for b in &sample {
                        sum = sum.wrapping_add(
                            brotli::compress_tuned(b.as_bytes(), tune(b.len()))
                                .unwrap()
                                .len(),
                        );
                    }
                }
                best = best.min(t.elapsed().as_secs_f64() * 1e6 / (passes * sample.len()) as f64);
            }
            checksum = checksum.wrapping_add(sum);
            print!(" {median:.1} / {best:.0} |");
        }
        println!();
        lo = hi;
    }
    println!("(checksum {checksum})");
}
