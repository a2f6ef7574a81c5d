//! Session history compression (`#BH|`).

use super::history::{advance, compress, decompress, state_of, MAX_HISTORY_BYTES};
use super::{decompress as decompress_any, WireKind};
use crate::error::Error;

const EVENT: &str = r#"{"id":"chatcmpl-Bx1","object":"chat.completion.chunk","created":1752000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" the"},"finish_reason":null}]}"#;

#[test]
fn round_trips_against_the_history_and_pays_for_what_it_repeats() {
    let history = EVENT.repeat(3);
    let text = EVENT.replace(" the", " a");
    let wire = compress(&text, &history, "3a", "", 5).unwrap();
    assert!(wire.starts_with("#BH|3a||"), "{wire}");
    assert_eq!(decompress(&wire, &history, "3a").unwrap(), text);
    // Against an empty history the same text costs more.
    let alone = compress(&text, "", "0", "", 5).unwrap();
    assert!(
        wire.len() + 40 < alone.len(),
        "{} vs {}",
        wire.len(),
        alone.len()
    );
    assert_eq!(decompress(&alone, "", "0").unwrap(), text);
}

#[test]
fn another_state_is_refused_and_never_decoded() {
    let wire = compress(EVENT, "abc", "ab12", "", 5).unwrap();
    assert_eq!(state_of(&wire), Some("ab12"));
    match decompress(&wire, "abc", "ab13") {
        Err(Error::HistoryMismatch { found, expected }) => {
            assert_eq!(found, "ab12");
            assert_eq!(expected, "ab13");
        }
        other => panic!("{other:?}"),
    }
    // Outside a session, plain decompress refuses it with the same code.
    assert_eq!(WireKind::of(&wire), WireKind::History);
    assert_eq!(
        decompress_any(&wire).unwrap_err().code(),
        "HISTORY_MISMATCH"
    );
}

#[test]
fn the_state_hash_is_a_chain_over_the_messages() {
    let a = advance("0", "first");
    assert_eq!(a.len(), 8);
    assert_ne!(a, advance("0", "first "));
    assert_ne!(
        advance(&a, "second"),
        advance(&advance("0", "firs"), "tsecond")
    );
    assert_eq!(
        advance(&a, "second"),
        advance(&advance("0", "first"), "second")
    );
}

#[test]
fn bad_inputs_are_typed_errors() {
    let code = |r: Result<String, Error>| r.unwrap_err().code();
    assert_eq!(code(compress("x", "", "0", "", 1)), "INVALID_OPTION");
    assert_eq!(code(compress("x", "", "", "", 5)), "INVALID_OPTION");
    assert_eq!(code(compress("x", "", "AB|", "", 5)), "INVALID_OPTION");
    let huge = "a".repeat(MAX_HISTORY_BYTES + 1);
    assert_eq!(code(compress("x", &huge, "0", "", 5)), "INVALID_OPTION");
    assert_eq!(
        code(decompress("#BH|0||AAAA", &huge, "0")),
        "INVALID_OPTION"
    );
    // An allowed family dictionary that is not loaded is simply not used.
    let plain = compress(EVENT, "", "0", "no-such,sse", 5).unwrap();
    assert!(plain.starts_with("#BH|0||"));
    assert_eq!(code(decompress("#BH|", "", "0")), "MISSING_SEPARATOR");
    assert_eq!(code(decompress("#BH|0|", "", "0")), "MISSING_SEPARATOR");
    assert_eq!(
        code(decompress("#BH|0|zz|AAAA", "", "0")),
        "DICTIONARY_UNAVAILABLE"
    );
    assert_eq!(code(decompress("#BH|0||!!!", "", "0")), "INVALID_BASE64");
    assert_eq!(code(decompress("#BR|AAAA", "", "0")), "INVALID_PREFIX");
    // Decoded against other history bytes: an error or other text, never a panic.
    let wire = compress(EVENT, &EVENT.repeat(2), "0", "", 5).unwrap();
    if let Ok(text) = decompress(&wire, &"x".repeat(EVENT.len() * 2), "0") {
        assert_ne!(text, EVENT);
    }
}
