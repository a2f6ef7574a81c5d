//! Times decoding the tokens of the files named on the command line
//! (cl100k_base): to bytes, to a `String`, and to the UTF-16 the Node binding
//! used to hand to V8, and to what it hands V8 now (`decode_js`).
//! Run: `cargo run --release -p m2m-core --example decode_speed -- FILE...`.
#[path = "timing/mod.rs"]
mod timing;

use m2m_core::bpe::Tokenizer;
use m2m_core::Encoding;
use timing::best_of_five;

fn main() {
    let ranks = std::fs::read("build/ranks/cl100k_base.bpe").expect("run the set-up first");
    let tokenizer = Tokenizer::from_rank_data(Encoding::Cl100kBase, &ranks).unwrap();
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap();
        let ids = tokenizer.encode_ordinary(&text);
        let mut sum = 0;
        let bytes = best_of_five(2000, &mut sum, || {
            tokenizer.decode_bytes(&ids).unwrap().len()
        });
        let string = best_of_five(2000, &mut sum, || tokenizer.decode(&ids).unwrap().len());
        let utf16 = best_of_five(2000, &mut sum, || {
            tokenizer.decode_utf16(&ids).unwrap().len()
        });
        let js = best_of_five(2000, &mut sum, || {
            match tokenizer.decode_js(&ids).unwrap() {
                m2m_core::bpe::JsText::Latin1(b) => b.len(),
                m2m_core::bpe::JsText::Utf16(u) => u.len(),
            }
        });
        println!(
            "{path}: {} tokens, decode_bytes {bytes:.2} µs, decode {string:.2} µs, decode_utf16 {utf16:.2} µs, decode_js {js:.2} µs (checksum {sum})",
            ids.len()
        );
    }
}
