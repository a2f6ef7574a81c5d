use proptest::prelude::*;

use super::auto::{self, AutoRequest, Optimize};
use super::trained::{self, TrainedDictionary, MAX_DICTIONARY_BYTES};
use super::*;

/// A dictionary file in the format of scripts/gen-dictionaries.mjs.
fn file(id: &str, version: u32, content: &[u8]) -> Vec<u8> {
    let mut f = b"M2MD\x01".to_vec();
    f.push(id.len() as u8);
    f.extend_from_slice(id.as_bytes());
    f.extend_from_slice(&version.to_le_bytes());
    f.extend_from_slice(&(content.len() as u32).to_le_bytes());
    f.extend_from_slice(content);
    f
}

const CONTENT: &str = r#"{"id":"chatcmpl-","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_"}"#;

const RESPONSE: &str = r#"{"id":"chatcmpl-AbCdEf123","object":"chat.completion","created":1712345678,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":14,"completion_tokens":8,"total_tokens":22,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_0ba0d124f1"}"#;

fn loaded(id: &str) -> std::sync::Arc<TrainedDictionary> {
    trained::load(&file(id, 1, CONTENT.as_bytes())).unwrap();
    trained::require(id).unwrap()
}

#[test]
fn round_trips_and_beats_plain_brotli() {
    let d = loaded("t-res");
    let wire = trained::compress(RESPONSE, &d, 5).unwrap();
    let head = format!("#BD|t-res.1.{}", d.hash);
    assert!(wire.starts_with(&head), "{wire}");
    // A ~600-byte message: the deflate form (`:`) is the shorter here.
    assert_eq!(&wire[head.len()..head.len() + 1], ":", "{wire}");
    assert_eq!(d.hash.len(), 8);
    let got = decompress(&wire).unwrap();
    assert_eq!(got.text, RESPONSE);
    assert_eq!(got.algorithm, Algorithm::Brotli);
    let plain = compress_brotli(RESPONSE, 5, BrotliFraming::Stateless).unwrap();
    assert!(
        wire.len() * 2 < plain.len(),
        "{} vs {}",
        wire.len(),
        plain.len()
    );
}

#[test]
fn the_recycled_encoder_gives_the_upstream_bytes_with_a_dictionary() {
    use super::brotli::{compress_with_dictionary, window_for};
    for quality in 2..=11 {
        for text in [RESPONSE, "", "x", &RESPONSE.repeat(40)] {
            let dict = CONTENT.as_bytes();
            let recycled = compress_with_dictionary(text.as_bytes(), quality, dict).unwrap();
            let lgwin = window_for(text.len() + dict.len());
            let upstream = super::brotli::compress_with(
                super::brotli::Fresh,
                text.as_bytes(),
                quality,
                lgwin,
                dict,
            )
            .unwrap();
            assert_eq!(
                recycled,
                upstream,
                "quality {quality}, {} bytes",
                text.len()
            );
            let back = super::brotli::decompress_with_dictionary(&recycled, dict).unwrap();
            assert_eq!(back, text.as_bytes());
        }
    }
    for quality in [0, 1, 12] {
        let err = super::brotli::compress_with_dictionary(b"abc", quality, b"dict").unwrap_err();
        assert_eq!(err.code(), "INVALID_OPTION");
    }
}

#[test]
fn a_receiver_without_the_named_dictionary_refuses() {
    let d = loaded("t-ref");
    let wire = trained::compress(RESPONSE, &d, 5).unwrap();
    let end = 4 + wire[4..].find(['|', ':']).unwrap();
    let (mark, body) = (&wire[end..end + 1], &wire[end + 1..]);
    let cases = [
        format!("#BD|t-none.1.{}{mark}{body}", d.hash),
        format!("#BD|t-ref.2.{}{mark}{body}", d.hash),
        format!("#BD|t-ref.1.00000000{mark}{body}"),
        format!("#BD|t-ref.1{mark}{body}"),
        format!("#BD|t-ref{mark}{body}"),
    ];
    for case in &cases {
        let err = decompress(case).unwrap_err();
        assert_eq!(err.code(), "DICTIONARY_UNAVAILABLE", "{case}: {err}");
    }
    // The stream of one dictionary is never decoded with another's bytes: a
    // dictionary of the same id but other content has another hash.
    trained::load(&file(
        "t-ref",
        1,
        b"other content entirely, of another file",
    ))
    .unwrap();
    assert_eq!(
        decompress(&wire).unwrap_err().code(),
        "DICTIONARY_UNAVAILABLE"
    );
    for (case, code) in [
        ("#BD|", "MISSING_SEPARATOR"),
        ("#BD|t-ref.1.abc", "MISSING_SEPARATOR"),
        (
            &*format!("#BD|{}|AAAA", "x".repeat(60)),
            "MISSING_SEPARATOR",
        ),
    ] {
        assert_eq!(decompress(case).unwrap_err().code(), code, "{case}");
    }
}

#[test]
fn corrupt_streams_and_bombs_give_typed_errors() {
    let d = loaded("t-bomb");
    let head = format!("#BD|{}|", d.name());
    // 17 MiB of one byte: a few kilobytes of stream, refused at the limit.
    let big = vec![b'a'; 17 << 20];
    let packed = super::brotli::compress_with_dictionary(&big, 5, &d.content).unwrap();
    let mut bomb = head.clone();
    crate::base85::encode_into(&packed, &mut bomb);
    assert_eq!(decompress(&bomb).unwrap_err().code(), "CONTENT_TOO_LARGE");
    let wire = trained::compress(RESPONSE, &d, 5).unwrap();
    let truncated = &wire[..wire.len() - 8];
    assert!(decompress(truncated).is_err());
    for bad in ["AAAA", "!!", "/w=="] {
        assert!(decompress(&format!("{head}{bad}")).is_err(), "{bad}");
        let deflate_head = head.replace(&format!("{}|", d.name()), &format!("{}:", d.name()));
        assert!(
            decompress(&format!("{deflate_head}{bad}")).is_err(),
            "{bad}"
        );
    }
    // Each codec's payload is read by its own decoder only.
    assert!(wire.contains(':'));
    let swapped = wire.replacen(':', "|", 1);
    assert!(decompress(&swapped).map_or(true, |t| t.text != RESPONSE));
}

#[test]
fn malformed_dictionary_files_are_refused() {
    let good = file("t-file", 3, b"content");
    assert!(TrainedDictionary::parse(&good).is_ok());
    let mut bad_magic = good.clone();
    bad_magic[0] = b'X';
    let mut bad_format = good.clone();
    bad_format[4] = 2;
    let mut bad_id = good.clone();
    bad_id[6] = b'T';
    let long = file("t-file", 1, &vec![0u8; MAX_DICTIONARY_BYTES + 1]);
    for f in [
        bad_magic,
        bad_format,
        bad_id,
        good[..good.len() - 1].to_vec(),
        [good.as_slice(), b"x"].concat(),
        good[..8].to_vec(),
        file("t-file", 1, b""),
        file("", 1, b"abc"),
        long,
    ] {
        let err = TrainedDictionary::parse(&f).unwrap_err();
        assert_eq!(err.code(), "DICTIONARY_CORRUPT", "{err}");
    }
}

#[test]
fn families_are_read_from_the_start_of_the_json() {
    assert_eq!(trained::family_of(RESPONSE), Some("res"));
    assert_eq!(
        trained::family_of(r#"data: {"id":"x","object":"chat.completion.chunk","choices":[]}"#),
        Some("sse")
    );
    assert_eq!(
        trained::family_of(r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#),
        Some("req")
    );
    assert_eq!(trained::family_of("plain text"), None);
}

fn request<'a>(dictionaries: &'a [std::sync::Arc<TrainedDictionary>]) -> AutoRequest<'a> {
    AutoRequest {
        encoding: Encoding::Cl100kBase,
        optimize: Optimize::Bytes,
        count_tokens: false,
        framing: BrotliFraming::Stateless,
        min_size: auto::DEFAULT_MIN_SIZE,
        brotli_threshold: auto::DEFAULT_BROTLI_THRESHOLD,
        allowed: &[Algorithm::Brotli, Algorithm::Dictionary],
        token: None,
        dictionaries,
    }
}

#[test]
fn auto_uses_a_dictionary_only_when_given_one_and_stateless() {
    let d = [loaded("res")];
    let without = auto::select(RESPONSE, &request(&[])).unwrap();
    assert!(!without.wire.unwrap().starts_with("#BD|"));
    let with = auto::select(RESPONSE, &request(&d)).unwrap();
    let wire = with.wire.unwrap();
    assert!(wire.starts_with("#BD|res.1."), "{wire}");
    assert_eq!(decompress(&wire).unwrap().text, RESPONSE);
    let mut session = request(&d);
    session.framing = BrotliFraming::Session;
    let wire = auto::select(RESPONSE, &session).unwrap().wire.unwrap();
    assert!(wire.starts_with(prefix::BROTLI_SESSION));
    // Another family's dictionary is not tried.
    let text = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"What is the capital of France? Answer in one word, please."}]}"#;
    let c = auto::select(text, &request(&d)).unwrap();
    assert!(!c.wire.unwrap_or_default().starts_with("#BD|"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn auto_with_a_dictionary_round_trips_and_never_grows(text in "\\PC{0,600}", json in proptest::bool::ANY) {
        let d = [loaded("res")];
        let text = if json { format!(r#"{{"choices":[{{"message":{{"content":"{}"}}}}]}}"#, text.replace(['"', '\\'], "")) } else { text };
        let c = auto::select(&text, &request(&d)).unwrap();
        let wire = c.wire.clone().unwrap_or_else(|| text.clone());
        prop_assert!(wire.len() <= text.len());
        prop_assert_eq!(decompress(&wire).unwrap().text, text);
    }
}
