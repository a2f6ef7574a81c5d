//! Release-mode throughput of the BPE tokenizers on typical text, on
//! chat-completion JSON (per-call latency of a ~1 KB payload, and a ~100 KB
//! conversation) and on the worst cases (single huge pieces).
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
    let chat_1k = chat_json(1 << 10, &SENTENCES);
    let chat_100k = chat_json(100 << 10, &SENTENCES);
    let chat_mixed_1k = chat_json(1 << 10, &MIXED_SENTENCES);
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
        for (name, text) in [
            ("chat-json-1KB", &chat_1k),
            ("chat-json-100KB", &chat_100k),
            ("chat-mixed-1KB", &chat_mixed_1k),
        ] {
            if args.get(1).map_or(false, |a| a != name) {
                continue;
            }
            // Many calls on the same payload: per-call latency, best of 5
            // batches (these machines are noisy).
            let calls = (20 << 20) / text.len();
            let mut best_encode = f64::MAX;
            let mut best_count = f64::MAX;
            // Sums of the results, checked below, keep the calls from being
            // optimised away (`std::hint::black_box` needs Rust 1.66).
            let (mut encoded, mut counted) = (0, 0);
            for _ in 0..5 {
                let start = Instant::now();
                for _ in 0..calls {
                    encoded += t.encode_ordinary(text).len();
                }
                best_encode = best_encode.min(start.elapsed().as_secs_f64() / calls as f64);
                let start = Instant::now();
                for _ in 0..calls {
                    counted += t.count(text);
                }
                best_count = best_count.min(start.elapsed().as_secs_f64() / calls as f64);
            }
            assert_eq!(encoded, counted);
            let n = encoded / (5 * calls);
            println!(
                "{:<12} {:<15} {:>7.1} MB/s  encode {:>8.2} µs  count {:>8.2} µs  ({} bytes, {} tokens)",
                encoding.name(),
                name,
                text.len() as f64 / best_encode / 1e6,
                best_encode * 1e6,
                best_count * 1e6,
                text.len(),
                n
            );
        }
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

const SENTENCES: [&str; 8] = [
        "Can you summarize the main points of the attached report in three bullet points?",
        "Sure! Here's a short summary:\\n\\n1. Revenue grew by 12% year over year.",
        "2. The \\\"cloud\\\" segment doubled, while hardware sales fell slightly.",
        "I'm not sure that's right; the report says 14.5% in Q3, doesn't it?",
        "You're right, I apologize for the confusion. Q3 growth was 14.5%, and the full-year figure is 12%.",
        "What would you recommend we focus on next quarter, given our budget of $250,000?",
        "I'd suggest prioritizing customer retention: it's cheaper than acquisition (roughly 5x).",
        "Thanks, that's helpful. Please write it up as an email to the team.",
];

/// [`SENTENCES`] with three of them in other languages (German, Russian,
/// Japanese): a chat with a few non-English turns.
const MIXED_SENTENCES: [&str; 8] = [
    SENTENCES[0],
    "Natürlich! Hier ist eine kurze Zusammenfassung:\\n\\n1. Der Umsatz wuchs um 12 % gegenüber dem Vorjahr.",
    SENTENCES[2],
    "Я не уверен, что это так: в отчёте сказано 14,5 % в третьем квартале, не так ли?",
    SENTENCES[4],
    "来四半期は、予算25万ドルを考えると、何に注力すべきでしょうか？",
    SENTENCES[6],
    SENTENCES[7],
];

/// A chat-completion request of about `target` bytes: a system message and
/// alternating user/assistant turns of the given sentences, with the JSON
/// escapes (`\n`, `\"`) real payloads carry.
fn chat_json(target: usize, sentences: &[&str]) -> String {
    let mut s = String::from(
        "{\"model\":\"gpt-4o\",\"temperature\":0.7,\"max_tokens\":512,\"messages\":[\
         {\"role\":\"system\",\"content\":\"You are a helpful assistant. Answer concisely.\"}",
    );
    let mut i = 0;
    loop {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        let mut content = String::new();
        for k in 0..2 {
            if k > 0 {
                content.push(' ');
            }
            content.push_str(sentences[(i * 2 + k) % sentences.len()]);
        }
        let message = format!(",{{\"role\":\"{role}\",\"content\":\"{content}\"}}");
        if s.len() + message.len() + 2 > target && i > 0 {
            break;
        }
        s.push_str(&message);
        i += 1;
    }
    s.push_str("]}");
    s
}
