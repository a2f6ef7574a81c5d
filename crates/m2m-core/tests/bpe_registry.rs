//! The process-wide tokenizer registry, in a process of its own (nothing is
//! loaded before these tests run). Needs `node scripts/gen-ranks.mjs`.

use m2m_core::{bpe, Encoding, Error};

#[test]
fn registry_loads_once_and_reports_missing_encodings() {
    let enc = Encoding::O200kBase;
    assert!(!bpe::is_loaded(enc));
    let err = bpe::get(enc).unwrap_err();
    assert_eq!(
        err,
        Error::EncodingNotLoaded {
            encoding: "o200k_base"
        }
    );
    assert_eq!(err.code(), "ENCODING_NOT_LOADED");
    assert_eq!(
        err.to_string(),
        "the rank data of encoding o200k_base has not been loaded"
    );

    // Bad data is a typed error and leaves the encoding unloaded.
    let err = bpe::load(enc, b"not a rank file").unwrap_err();
    assert_eq!(err.code(), "RANK_DATA_CORRUPT");
    assert!(!bpe::is_loaded(enc));

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../build/ranks/o200k_base.bpe"
    );
    let data = std::fs::read(path).unwrap_or_else(|e| {
        panic!("cannot read {path} ({e}): run `node scripts/gen-ranks.mjs` first")
    });
    bpe::load(enc, &data).unwrap();
    assert!(bpe::is_loaded(enc));
    // Loading again is a no-op that does not even look at the data.
    bpe::load(enc, b"ignored").unwrap();
    let tok = bpe::get(enc).unwrap();
    assert_eq!(tok.encode_ordinary("hello world"), vec![24912, 2375]);
    assert!(std::ptr::eq(tok, bpe::get(enc).unwrap()));
    // Other encodings are independent.
    assert!(!bpe::is_loaded(Encoding::Cl100kBase));
    assert_eq!(
        bpe::get(Encoding::Llama3).unwrap_err().code(),
        "ENCODING_NOT_LOADED"
    );
}
