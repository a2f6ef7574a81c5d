//! Release-mode throughput of the BPE tokenizers on typical text and on the
//! worst cases (single huge pieces).
//!
//! ```text
//! node scripts/gen-ranks.mjs
//! cargo run --release -p m2m-core --example bpe_throughput [encoding] [case]
//! ```
use std::time::Instant;

use m2m_core::{bpe, Encoding};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mb = 1 << 20;
    let repeat = |unit: &str| {
        let mut s = String::with_capacity(mb + unit.len());
        while s.len() < mb {
            s.push_str(unit);
        }
        s
    };
    let english = repeat(
        "The quick brown fox jumps over the lazy dog. I'm sure it's fine, isn't it?\n\
         function add(a, b) {\n  return a + b;\n}\n\
         {\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi!\"}],\"temperature\":0.7}\n\
         Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.\n",
    );
    let multilingual = repeat(
        "Der schnelle braune Fuchs springt über den faulen Hund. Съешь же ещё этих мягких французских булок. \
         日本語のテキストです。東京は日本の首都です。 中文文本测试：我爱北京天安门。 한국어 텍스트입니다. \
         العربية لغة جميلة 👋 Hello 🌍! Family: 👨‍👩‍👧‍👦\n",
    );
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let no_spaces: String = (0..mb)
        .map(|_| (b'a' + (rnd() % 26) as u8) as char)
        .collect();
    let mut random_unicode = String::new();
    while random_unicode.len() < mb {
        if let Some(c) = char::from_u32((rnd() % 0x3_0000) as u32) {
            random_unicode.push(c);
        }
    }
    let inputs = [
        ("english", english),
        ("multilingual", multilingual),
        ("no-spaces", no_spaces),
        ("one-char", "a".repeat(mb)),
        ("random-unicode", random_unicode),
        ("spaces", " ".repeat(mb)),
    ];
    for encoding in Encoding::ALL {
        if args.first().map_or(false, |a| a != encoding.name()) {
            continue;
        }
        let path = format!("{root}/build/ranks/{}.bpe", encoding.name());
        let data = std::fs::read(&path).expect("run `node scripts/gen-ranks.mjs` first");
        let start = Instant::now();
        bpe::load(encoding, &data).unwrap();
        println!(
            "{:<12} load {:.1} ms",
            encoding.name(),
            start.elapsed().as_secs_f64() * 1e3
        );
        let t = bpe::get(encoding).unwrap();
        for (name, text) in &inputs {
            if args.get(1).map_or(false, |a| a != name) {
                continue;
            }
            let runs = 5;
            let start = Instant::now();
            let mut n = 0;
            for _ in 0..runs {
                n = t.encode_ordinary(text).len();
            }
            let secs = start.elapsed().as_secs_f64() / runs as f64;
            println!(
                "{:<12} {:<15} {:>7.1} MB/s  {:>8.1} ms  {} tokens",
                encoding.name(),
                name,
                text.len() as f64 / secs / 1e6,
                secs * 1e3,
                n
            );
        }
    }
}
