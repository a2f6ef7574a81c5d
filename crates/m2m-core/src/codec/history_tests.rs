//! Session history compression (`#BH|`).

use super::history::{advance, decompress, state_of, MAX_HISTORY_BYTES};
use super::{decompress as decompress_any, WireKind};
use crate::error::Error;

/// One direction's history (the common case).
fn compress(
    text: &str,
    history: &str,
    state: &str,
    allowed: &str,
    quality: u32,
) -> Result<String, Error> {
    super::history::compress(text, history, state, allowed, quality, false)
}

const EVENT: &str = r#"{"id":"chatcmpl-Bx1","object":"chat.completion.chunk","created":1752000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" the"},"finish_reason":null}]}"#;

#[test]
fn round_trips_against_the_history_and_pays_for_what_it_repeats() {
    let history = EVENT.repeat(3);
    let text = EVENT.replace(" the", " a");
    let wire = compress(&text, &history, "3a_Z-9", "", 5).unwrap();
    // A short message repeating the history goes as deflate (`:`).
    assert!(wire.starts_with("#BH|3a_Z-9:"), "{wire}");
    assert!(!wire.ends_with('='), "{wire}");
    assert_eq!(decompress(&wire, &history, "3a_Z-9").unwrap(), text);
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
    let wire = compress(EVENT, "abc", "ab12cd", "", 5).unwrap();
    assert_eq!(state_of(&wire), Some("ab12cd"));
    match decompress(&wire, "abc", "ab13cd") {
        Err(Error::HistoryMismatch { found, expected }) => {
            assert_eq!(found, "ab12cd");
            assert_eq!(expected, "ab13cd");
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
    // 36 bits as 6 base64url characters: never fewer than 32 bits.
    assert_eq!(a.len(), 6);
    assert!(a
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    // The first 36 bits of SHA-256("0" || 5u64 LE || "first").
    let mut input = b"0".to_vec();
    input.extend_from_slice(&5u64.to_le_bytes());
    input.extend_from_slice(b"first");
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&input);
    let mut url = String::new();
    ::base64::Engine::encode_string(
        &::base64::engine::general_purpose::URL_SAFE_NO_PAD,
        &digest[..6],
        &mut url,
    );
    assert_eq!(a, url[..6]);
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
    assert_eq!(code(compress("x", "", "ab12", "", 5)), "INVALID_OPTION");
    assert_eq!(code(compress("x", "", "ab12cd.", "", 5)), "INVALID_OPTION");
    assert_eq!(code(decompress("#BH|0|AAAA", &huge, "0")), "INVALID_OPTION");
    // An allowed family dictionary that is not loaded is simply not used.
    let plain = compress(EVENT, "", "0", "no-such,sse", 5).unwrap();
    assert!(plain.starts_with("#BH|0|") || plain.starts_with("#BH|0:"));
    assert_eq!(code(decompress("#BH|", "", "0")), "MISSING_SEPARATOR");
    assert_eq!(code(decompress("#BH|0", "", "0")), "MISSING_SEPARATOR");
    assert_eq!(
        code(decompress(
            &format!("#BH|0.{}|AAAA", "a".repeat(40)),
            "",
            "0"
        )),
        "MISSING_SEPARATOR"
    );
    assert_eq!(
        code(decompress("#BH|0.zz|AAAA", "", "0")),
        "DICTIONARY_UNAVAILABLE"
    );
    assert_eq!(code(decompress("#BH|0.|AAAA", "", "0")), "INVALID_FRAME");
    assert_eq!(code(decompress("#BH|ab12c|AAAA", "", "0")), "INVALID_FRAME");
    assert_eq!(
        code(decompress("#BH|ab12c!|AAAA", "", "0")),
        "INVALID_FRAME"
    );
    // A character outside base85, and a lone last digit.
    assert_eq!(code(decompress("#BH|0|AA\"A", "", "0")), "INVALID_BASE85");
    assert_eq!(code(decompress("#BH|0|AAAAAA", "", "0")), "INVALID_BASE85");
    assert_eq!(code(decompress("#BR|AAAA", "", "0")), "INVALID_PREFIX");
    // Decoded against other history bytes: an error or other text, never a panic.
    let wire = compress(EVENT, &EVENT.repeat(2), "0", "", 5).unwrap();
    if let Ok(text) = decompress(&wire, &"x".repeat(EVENT.len() * 2), "0") {
        assert_ne!(text, EVENT);
    }
}

#[test]
fn the_earlier_head_form_is_a_typed_error_never_a_misread() {
    // `#BH|<8 hex>|<id>|<padded base64>`, as peers before the 6-character
    // state wrote it: refused whatever the receiver's state, never decoded.
    let code = |r: Result<String, Error>| r.unwrap_err().code();
    let new = compress(EVENT, "", "0", "", 5).unwrap();
    let payload = &new["#BH|0|".len()..];
    for old in [
        format!("#BH|0||{payload}"),
        format!("#BH|0|sse|{payload}"),
        format!("#BH|08b01bb0||{payload}"),
        format!("#BH|08b01bb0|sse|{payload}"),
    ] {
        assert_eq!(code(decompress(&old, "", "0")), "INVALID_FRAME", "{old}");
        assert_eq!(
            code(decompress(&old, "", "08b01b")),
            "INVALID_FRAME",
            "{old}"
        );
    }
    assert_eq!(decompress(&new, "", "0").unwrap(), EVENT);
}

#[test]
fn the_shorter_of_brotli_and_deflate_is_sent_and_both_decode() {
    let history = EVENT.repeat(20);
    // Short and repeating: deflate's fixed codes beat Brotli's tables.
    let short = EVENT.replace(" the", " one");
    let wire = compress(&short, &history, "0", "", 5).unwrap();
    assert!(wire.starts_with("#BH|0:"), "{wire}");
    assert_eq!(decompress(&wire, &history, "0").unwrap(), short);
    // Long and new: Brotli.
    let mut long = String::new();
    let mut x = 7u32;
    while long.len() < 40_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        long.push_str(
            ["alpha ", "beta ", "gamma ", "delta ", "\n", "{\"k\":"][(x >> 16) as usize % 6],
        );
        long.push_str(&(x % 1000).to_string());
    }
    let wire = compress(&long, &history, "0", "", 5).unwrap();
    assert!(wire.starts_with("#BH|0|"), "{}", &wire[..20]);
    assert_eq!(decompress(&wire, &history, "0").unwrap(), long);
    // Each payload is read by its own codec only.
    let deflated = compress(&short, &history, "0", "", 5).unwrap();
    let as_brotli = deflated.replacen(':', "|", 1);
    assert!(decompress(&as_brotli, &history, "0").map_or(true, |t| t != short));
    let code = |r: Result<String, Error>| r.unwrap_err().code();
    assert_eq!(
        code(decompress("#BH|0:AAAAA", "", "0")),
        "DECOMPRESSION_FAILED"
    );
    assert_eq!(code(decompress("#BH|0:AA|AA", "", "0")), "INVALID_FRAME");
    assert_eq!(code(decompress("#BH|0|AA:AA", "", "0")), "INVALID_FRAME");
    assert_eq!(state_of(&deflated), Some("0"));
}

#[test]
fn a_history_of_both_directions_is_named_by_a_plus_after_the_state() {
    let theirs = EVENT.repeat(3);
    let wire = super::history::compress(EVENT, &theirs, "ab12cd", "", 5, true).unwrap();
    assert!(wire.starts_with("#BH|ab12cd+"), "{wire}");
    assert_eq!(state_of(&wire), Some("ab12cd"));
    assert_eq!(decompress(&wire, &theirs, "ab12cd").unwrap(), EVENT);
    assert_eq!(
        decompress(&wire, &theirs, "ab13cd").unwrap_err().code(),
        "HISTORY_MISMATCH"
    );
    let code = |r: Result<String, Error>| r.unwrap_err().code();
    assert_eq!(
        code(decompress("#BH|ab12cd++|AAAA", "", "ab12cd")),
        "INVALID_FRAME"
    );
    assert_eq!(code(decompress("#BH|+|AAAA", "", "0")), "INVALID_FRAME");
}
