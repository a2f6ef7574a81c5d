//! m2m-core's tokenizer against GitHub's `bpe-openai` and `tiktoken-rs`, in
//! one process on the same inputs (the strings `bench/tokenize.ts` times,
//! printed by `bench/print-input.ts`). Ids are checked equal before timing.
//!
//! ```text
//! bash scripts/build.sh            # build/ranks/*.bpe, node_modules
//! cargo run --release --manifest-path crates/m2m-bench/Cargo.toml [--quick] [FILTER]
//! ```
//!
//! `--calls INPUT N` only encodes INPUT (cl100k) N times with m2m-core (a pool
//! input: each of its N texts once), for
//! instruction counts: `valgrind --tool=callgrind` of N calls minus 0 calls is
//! the core's cost per call (docs/performance.md compares it with the addon's).
//!
//! Rows marked "cold" cycle through a pool of distinct generated texts, so no
//! piece repeats from one call to the next and m2m's per-thread piece cache
//! cannot help; the others encode one text again and again (cache warm).
//! Each round times every tokenizer for a slice of time in turn; the table
//! gives the median round, MB/s of UTF-8 input, and m2m's speed relative to
//! each peer (peer time / m2m time).
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use m2m_core::{bpe, Encoding};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The texts of input `name` (one, or a NUL-separated pool of `count`).
fn input(name: &str, count: usize) -> Vec<String> {
    let out = Command::new("npx")
        .args(["tsx", "bench/print-input.ts", name, &count.to_string()])
        .current_dir(root())
        .output()
        .expect("npx tsx bench/print-input.ts (run `npm ci` first)");
    assert!(
        out.status.success(),
        "bench/print-input.ts {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    text.split('\0').map(str::to_owned).collect()
}

type Encoder<'a> = Box<dyn Fn(&str) -> Vec<u32> + 'a>;

/// Median over `rounds` of the mean time per call of each encoder, running
/// each for `slice` per round and cycling through `texts`.
fn time(
    encoders: &[(&str, Encoder<'_>)],
    texts: &[String],
    rounds: usize,
    slice: Duration,
) -> Vec<f64> {
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); encoders.len()];
    let mut next = vec![0usize; encoders.len()];
    for _ in 0..rounds {
        for (i, (_, enc)) in encoders.iter().enumerate() {
            let start = Instant::now();
            let mut calls = 0u32;
            while calls == 0 || start.elapsed() < slice {
                black_box(enc(black_box(&texts[next[i] % texts.len()])));
                next[i] += 1;
                calls += 1;
            }
            per[i].push(start.elapsed().as_secs_f64() / f64::from(calls));
        }
    }
    per.into_iter()
        .map(|mut xs| {
            xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
            xs[xs.len() / 2]
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--calls") {
        let n: usize = args[2].parse().expect("N");
        // A pool (`*-pool`) of N texts is cycled through once: cache cold.
        let texts = input(&args[1], n);
        let data = std::fs::read(root().join("build/ranks/cl100k_base.bpe")).unwrap();
        bpe::load(Encoding::Cl100kBase, &data).unwrap();
        let m2m = bpe::get(Encoding::Cl100kBase).unwrap();
        if texts.len() == 1 {
            black_box(m2m.encode_ordinary(&texts[0])); // the piece cache warm, as in the timed rows
        }
        for i in 0..n {
            black_box(m2m.encode_ordinary(black_box(&texts[i % texts.len()])));
        }
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let filter = args.iter().find(|a| !a.starts_with("--")).cloned();
    let (rounds, slice) = if quick { (3, 60) } else { (7, 150) };
    let slice = Duration::from_millis(slice);

    // (label, input name, pool size); pools are the cache-cold rows.
    let inputs: [(&str, &str, usize); 9] = [
        ("1 KB chat JSON", "chat-1k", 1),
        ("10 KB chat JSON", "chat-10k", 1),
        ("1 MiB prose", "prose", 1),
        ("1 MiB code", "code", 1),
        ("1 KB mixed-script", "mixed-1k", 1),
        ("1 MiB mixed-script", "mixed-1m", 1),
        ("1 KB mixed-script, cold", "mixed-1k-pool", 2048),
        ("1 MiB mixed-script, cold", "mixed-1m-pool", 3),
        ("1 KB unique words, cold", "latin-1k-pool", 2048),
    ];
    println!("m2m-core vs bpe-openai 0.3 and tiktoken-rs 0.12, one process, encode_ordinary");
    println!(
        "MB/s of UTF-8 input (median of {rounds} rounds); m2m × peer = peer time / m2m time\n"
    );
    println!("| encoding | input | m2m-core | bpe-openai | tiktoken-rs | m2m × bpe-openai | m2m × tiktoken-rs |");
    println!("| --- | --- | --: | --: | --: | --: | --: |");
    for encoding in [Encoding::Cl100kBase, Encoding::O200kBase] {
        let ranks = root().join(format!("build/ranks/{}.bpe", encoding.name()));
        let data =
            std::fs::read(&ranks).expect("build/ranks/*.bpe: run `node scripts/gen-ranks.mjs`");
        bpe::load(encoding, &data).unwrap();
        let m2m = bpe::get(encoding).unwrap();
        let (openai, tiktoken) = match encoding {
            Encoding::Cl100kBase => (
                bpe_openai::cl100k_base(),
                tiktoken_rs::cl100k_base_singleton(),
            ),
            _ => (
                bpe_openai::o200k_base(),
                tiktoken_rs::o200k_base_singleton(),
            ),
        };
        let encoders: [(&str, Encoder<'_>); 3] = [
            ("m2m-core", Box::new(|t| m2m.encode_ordinary(t))),
            ("bpe-openai", Box::new(|t| openai.encode(t))),
            ("tiktoken-rs", Box::new(|t| tiktoken.encode_ordinary(t))),
        ];
        for (label, name, count) in inputs {
            if filter
                .as_deref()
                .is_some_and(|f| !label.contains(f) && !name.contains(f))
            {
                continue;
            }
            let texts = input(name, count);
            for text in &texts {
                let ids = m2m.encode_ordinary(text);
                for (peer, enc) in &encoders[1..] {
                    assert!(
                        enc(text) == ids,
                        "{peer} ids differ ({}, {label})",
                        encoding.name()
                    );
                }
            }
            let bytes = texts.iter().map(String::len).sum::<usize>() as f64 / texts.len() as f64;
            let big = bytes > 100_000.0;
            let t = time(
                &encoders,
                &texts,
                if big { rounds.min(5) } else { rounds },
                if big { slice * 4 } else { slice },
            );
            let mbs = |s: f64| bytes / s / 1e6;
            println!(
                "| {} | {label} | {:.0} | {:.0} | {:.1} | {:.2}× | {:.1}× |",
                encoding.name(),
                mbs(t[0]),
                mbs(t[1]),
                mbs(t[2]),
                t[1] / t[0],
                t[2] / t[0]
            );
        }
    }
}
