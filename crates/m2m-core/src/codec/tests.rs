use proptest::prelude::*;

use super::*;

fn decode(wire: &str) -> Result<String> {
    decompress(wire).map(|d| d.text)
}

#[test]
fn brotli_round_trip_both_framings() {
    let text = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}"#.repeat(20);
    let wire = compress_brotli(&text, DEFAULT_BROTLI_QUALITY, BrotliFraming::Stateless).unwrap();
    assert!(wire.starts_with("#BR|"));
    assert!(wire.len() < text.len() / 4);
    assert_eq!(decode(&wire).unwrap(), text);
    let session = compress_brotli(&text, DEFAULT_BROTLI_QUALITY, BrotliFraming::Session).unwrap();
    assert_eq!(&session["#M2M[v3.0]|DATA:".len()..], &wire["#BR|".len()..]);
    let d = decompress(&session).unwrap();
    assert_eq!(
        (d.text.as_str(), d.algorithm),
        (text.as_str(), Algorithm::Brotli)
    );
}

#[test]
fn brotli_rejects_bad_quality_and_bad_streams() {
    assert_eq!(
        compress_brotli("x", 12, BrotliFraming::Stateless)
            .unwrap_err()
            .code(),
        "INVALID_OPTION"
    );
    let wire = compress_brotli(&"abc".repeat(1000), 5, BrotliFraming::Stateless).unwrap();
    let packed = base64::decode(&wire[4..]).unwrap();
    // Truncated stream.
    let cut = format!("#BR|{}", base64::encode(&packed[..packed.len() - 2]));
    assert_eq!(decode(&cut).unwrap_err().code(), "DECOMPRESSION_FAILED");
    // Garbage.
    assert_eq!(
        decode("#BR|AAAAAAAA").unwrap_err().code(),
        "DECOMPRESSION_FAILED"
    );
    assert_eq!(
        decode("#BR|not base64!").unwrap_err().code(),
        "INVALID_BASE64"
    );
    // Valid stream, but the bytes are not UTF-8.
    let latin1 = format!(
        "#BR|{}",
        base64::encode(&brotli::compress(&[0xff, 0xfe], 5).unwrap())
    );
    assert_eq!(decode(&latin1).unwrap_err().code(), "INVALID_UTF8");
}

/// The encoder's cost model takes log2 from the `brotli` crate's own tables
/// (the crate built without `std`), not from the platform's `log2f`, whose last
/// bit differs between glibc and the wasm libm (first at 311) and so changed
/// Brotli's bytes between the native and the wasm build at qualities 10 and 11.
/// Fails if anything in the build turns on `brotli/std`.
#[test]
fn brotli_log2_is_the_same_on_every_target() {
    use ::brotli::enc::util::{FastLog2, FastLog2u64};
    for v in 256..1u64 << 20 {
        assert_eq!(FastLog2(v).to_bits(), FastLog2u64(v).to_bits(), "log2({v})");
    }
}

#[test]
fn brotli_bomb_is_stopped_at_the_limit() {
    // 17 MiB of zeros compresses to a few bytes.
    let bomb = brotli::compress(&vec![0u8; 17 * 1024 * 1024], 5).unwrap();
    assert!(bomb.len() < 1024);
    let err = decode(&format!("#BR|{}", base64::encode(&bomb))).unwrap_err();
    assert_eq!(err.code(), "CONTENT_TOO_LARGE");
    assert!(err.to_string().contains("decompressed size"), "{err}");
}

#[test]
fn zlib_legacy_is_decoded_and_flagged() {
    let text = "legacy v2 payload ".repeat(10);
    let z = miniz_oxide::deflate::compress_to_vec_zlib(text.as_bytes(), 6);
    let d = decompress(&format!("#M2M[v2.0]|DATA:{}", base64::encode(&z))).unwrap();
    assert_eq!(d.text, text);
    assert_eq!(d.deprecated, Some(prefix::ZLIB_LEGACY));
    let cut = format!("#M2M[v2.0]|DATA:{}", base64::encode(&z[..z.len() - 3]));
    assert_eq!(decode(&cut).unwrap_err().code(), "DECOMPRESSION_FAILED");
    let extra = format!(
        "#M2M[v2.0]|DATA:{}",
        base64::encode(&[&z[..], b"x"].concat())
    );
    assert_eq!(decode(&extra).unwrap_err().code(), "DECOMPRESSION_FAILED");
    let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![b'a'; 17 * 1024 * 1024], 6);
    let err = decode(&format!("#M2M[v2.0]|DATA:{}", base64::encode(&bomb))).unwrap_err();
    assert_eq!(err.code(), "CONTENT_TOO_LARGE");
}

#[test]
fn dictionary_codes_and_escapes() {
    let text =
        r#"{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}"#;
    let wire = compress_dictionary(text).unwrap();
    assert_eq!(wire, "#DI|\u{86}\u{80}Hi\u{84}\u{81}Hello\u{85}}");
    assert_eq!(decode(&wire).unwrap(), text);
    assert_eq!(decode(&format!("#M2M|{}", &wire[4..])).unwrap(), text);
    // Reserved code points in the input survive.
    let tricky = "\u{80}\u{87}\u{88}\u{89}é\"}";
    let wire = compress_dictionary(tricky).unwrap();
    assert_eq!(
        wire,
        "#DI|\u{88}\u{80}\u{88}\u{87}\u{88}\u{88}\u{89}é\u{83}"
    );
    assert_eq!(decode(&wire).unwrap(), tricky);
    assert_eq!(
        decode("#DI|abc\u{88}").unwrap_err().code(),
        "DECOMPRESSION_FAILED"
    );
    assert_eq!(
        decode("#DI|\u{88}x").unwrap_err().code(),
        "DECOMPRESSION_FAILED"
    );
}

#[test]
fn dictionary_expansion_is_bounded() {
    // Each code expands to up to 31 bytes: 1 MiB of codes would give 31 MiB.
    let wire = format!("#DI|{}", "\u{81}".repeat(600_000));
    assert_eq!(decode(&wire).unwrap_err().code(), "CONTENT_TOO_LARGE");
}

#[test]
fn passthrough_and_prefix_detection() {
    for text in ["", "hello", "#TX|x", "# heading", "#TK", "#M2", "TK|C|"] {
        let d = decompress(text).unwrap();
        assert_eq!((d.text.as_str(), d.algorithm), (text, Algorithm::None));
        assert!(!has_wire_prefix(text), "{text}");
    }
    for text in [
        "#TK|",
        "#T1|{}",
        "#BR|",
        "#DI|",
        "#M2M|x",
        "#M2M[v3.0]|DATA:",
        "#M2M[v9.9]|DATA:x",
    ] {
        assert!(has_wire_prefix(text), "{text}");
    }
    assert_eq!(
        decode("#M2M[v9.9]|DATA:xx").unwrap_err().code(),
        "UNSUPPORTED_ALGORITHM"
    );
    assert_eq!(
        decode("#T1|{}").unwrap_err().code(),
        "UNSUPPORTED_ALGORITHM"
    );
}

#[test]
fn content_limit() {
    let big = "a".repeat(MAX_DECOMPRESSED_BYTES + 1);
    assert_eq!(
        compress_dictionary(&big).unwrap_err().code(),
        "CONTENT_TOO_LARGE"
    );
    assert_eq!(
        compress_brotli(&big, 1, BrotliFraming::Stateless)
            .unwrap_err()
            .code(),
        "CONTENT_TOO_LARGE"
    );
}

proptest! {
    #[test]
    fn brotli_and_dictionary_round_trip(text in "\\PC*|[{}\"\\[\\],:a-z\u{80}-\u{8a}]*") {
        let br = compress_brotli(&text, 4, BrotliFraming::Stateless).unwrap();
        prop_assert_eq!(decode(&br).unwrap(), text.clone());
        let di = compress_dictionary(&text).unwrap();
        prop_assert_eq!(decode(&di).unwrap(), text);
    }

    #[test]
    fn decompress_never_panics(body in "\\PC{0,40}", which in 0usize..8) {
        let _ = decompress(&format!("{}{}", prefix::ALL[which], body));
    }

    #[test]
    fn brotli_decoder_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decompress(&format!("#BR|{}", base64::encode(&bytes)));
        let _ = decompress(&format!("#M2M[v2.0]|DATA:{}", base64::encode(&bytes)));
    }
}

#[test]
fn brotli_rejects_data_after_the_stream() {
    let packed = brotli::compress(b"hello hello hello", 5).unwrap();
    let mut extra = packed.clone();
    extra.extend_from_slice(b"trailing");
    let err = decode(&format!("#BR|{}", base64::encode(&extra))).unwrap_err();
    assert_eq!(err.code(), "DECOMPRESSION_FAILED");
}

#[test]
fn brotli_every_quality_round_trips() {
    let samples = [
        String::new(),
        "a".to_owned(),
        r#"{"role":"user","content":"Hello"}"#.repeat(3),
        "The quick brown fox 🦊 jumps over the lazy dog. ".repeat(200),
        (0..5000u32)
            .map(|i| char::from_u32(0x4e00 + (i * 7919) % 20000).unwrap_or('x'))
            .collect(),
    ];
    for quality in 0..=11 {
        for text in &samples {
            let wire = compress_brotli(text, quality, BrotliFraming::Stateless).unwrap();
            assert_eq!(
                &decode(&wire).unwrap(),
                text,
                "quality {quality}, {} bytes",
                text.len()
            );
        }
    }
}

/// The kind a prefix table lookup must give, computed independently of
/// [`WireKind::of`]: `#M2M|<digits>|` is a frame; otherwise the longest known
/// prefix the text starts with decides.
fn expected_kind(text: &str) -> &'static str {
    if let Some(rest) = text.strip_prefix("#M2M|") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest.as_bytes().get(digits) == Some(&b'|') {
            return "frame";
        }
    }
    let names = [
        (prefix::TOKEN_NATIVE, "token-native"),
        (prefix::TOKEN, "token"),
        (prefix::BROTLI, "brotli"),
        (prefix::BROTLI_DICTIONARY, "brotli-dictionary"),
        (prefix::HISTORY, "history"),
        (prefix::BROTLI_SESSION, "brotli-session"),
        (prefix::ZLIB_LEGACY, "zlib"),
        (prefix::DICTIONARY, "dictionary"),
        (prefix::DICTIONARY_LEGACY, "dictionary-legacy"),
        (prefix::FRAME_V1, "frame"),
        (prefix::VERSIONED, "versioned"),
    ];
    assert_eq!(names.len(), prefix::ALL.len(), "every prefix is named here");
    names
        .iter()
        .filter(|(p, _)| text.starts_with(p))
        .max_by_key(|(p, _)| p.len())
        .map_or("none", |(_, name)| name)
}

fn kind_name(kind: WireKind<'_>) -> &'static str {
    match kind {
        WireKind::TokenNative => "token-native",
        WireKind::Token => "token",
        WireKind::Brotli => "brotli",
        WireKind::BrotliDictionary => "brotli-dictionary",
        WireKind::History => "history",
        WireKind::BrotliSession => "brotli-session",
        WireKind::ZlibLegacy => "zlib",
        WireKind::VersionedUnknown => "versioned",
        WireKind::Dictionary => "dictionary",
        WireKind::DictionaryLegacy => "dictionary-legacy",
        WireKind::Frame(_) => "frame",
        WireKind::None => "none",
    }
}

#[test]
fn no_prefix_is_mistaken_for_another_nor_any_prefix_of_one() {
    let mut known: Vec<String> = prefix::ALL.iter().map(|p| p.to_string()).collect();
    known.extend(["#M2M|2|", "#M2M|0|", "#M2M|10|", "#M2M|99999999999|"].map(String::from));
    let mut checked = 0;
    for p in &known {
        for cut in 0..=p.len() {
            for tail in ["", "x", "1|", "|", "AAAA"] {
                let text = format!("{}{tail}", &p[..cut]);
                assert_eq!(
                    kind_name(WireKind::of(&text)),
                    expected_kind(&text),
                    "{text:?}"
                );
                assert_eq!(
                    has_wire_prefix(&text),
                    expected_kind(&text) != "none",
                    "{text:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 400);
}

#[test]
fn frame_versions_are_never_read_as_the_dictionary_prefix() {
    for version in ["2", "0", "10", "12345"] {
        let err = decode(&format!("#M2M|{version}|IgABAAAA")).unwrap_err();
        assert_eq!(err.code(), "UNSUPPORTED_VERSION", "{version}");
    }
    // Version 1 with a broken body is a frame error, not Dictionary text.
    for body in ["", "IgAB", "not base64", "AAAA"] {
        let err = decode(&format!("#M2M|1|{body}")).unwrap_err();
        assert!(
            ["INVALID_BASE64", "INVALID_FRAME"].contains(&err.code()),
            "{body:?}: {err}"
        );
    }
    // The old dictionary prefix still decodes when no version follows it.
    assert_eq!(decode("#M2M|1").unwrap(), "1");
    assert_eq!(decode("#M2M|x|y").unwrap(), "x|y");
}

#[test]
fn frames_decode_through_decompress_and_the_required_mode_is_enforced() {
    let json = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"Hello there"}]}"#;
    let key = [3u8; 32];
    let plain = compress_frame(json, frame::Seal::None).unwrap();
    let d = decompress(&plain).unwrap();
    assert_eq!((d.text.as_str(), d.algorithm), (json, Algorithm::Frame));
    let hmac = compress_frame(json, frame::Seal::Hmac { key: &key }).unwrap();
    assert_eq!(decode(&hmac).unwrap_err().code(), "SECURITY_VIOLATION");
    let got = decompress_with(&hmac, frame::Require::Hmac(&key)).unwrap();
    assert_eq!(got.text, json);
    // Where protection is required, a message that is not a frame is refused.
    let br = compress_brotli(json, 5, BrotliFraming::Stateless).unwrap();
    for wire in [br.as_str(), json, plain.as_str()] {
        let err = decompress_with(wire, frame::Require::Hmac(&key)).unwrap_err();
        assert_eq!(err.code(), "SECURITY_VIOLATION", "{wire}");
    }
}

#[test]
fn the_tables_name_every_prefix_encoding_and_code() {
    let t: serde_json::Value = serde_json::from_str(&tables_json()).unwrap();
    assert_eq!(t["prefixes"].as_object().unwrap().len(), prefix::ALL.len());
    for p in prefix::ALL {
        assert!(
            t["prefixes"].as_object().unwrap().values().any(|v| v == p),
            "{p}"
        );
    }
    assert_eq!(t["maxPrefixLen"], prefix::MAX_LEN);
    assert_eq!(t["encodings"][2]["wire"], "L");
    assert_eq!(t["encodings"][1]["byte"], 1);
    assert_eq!(
        t["errorCodes"].as_array().unwrap().len(),
        Error::CODES.len()
    );
}
