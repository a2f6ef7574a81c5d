use proptest::prelude::*;

use super::auto::{self, AutoRequest, Optimize};
use super::*;

const ALL: &[Algorithm] = &[
    Algorithm::TokenNative,
    Algorithm::Brotli,
    Algorithm::Dictionary,
    Algorithm::Token,
];

fn request(optimize: Optimize) -> AutoRequest<'static> {
    crate::bpe::tests::tok(Encoding::Cl100kBase);
    AutoRequest {
        encoding: Encoding::Cl100kBase,
        optimize,
        count_tokens: true,
        framing: BrotliFraming::Stateless,
        min_size: auto::DEFAULT_MIN_SIZE,
        brotli_threshold: auto::DEFAULT_BROTLI_THRESHOLD,
        allowed: ALL,
        token: None,
        dictionaries: &[],
    }
}

/// The wire a choice stands for (passthrough: the text itself).
fn wire_of(choice: &auto::AutoChoice, text: &str) -> String {
    choice.wire.clone().unwrap_or_else(|| text.to_owned())
}

fn check(text: &str, optimize: Optimize) {
    let req = request(optimize);
    let c = auto::select(text, &req).unwrap();
    let wire = wire_of(&c, text);
    assert_eq!(decompress(&wire).unwrap().text, text, "round trip");
    assert_eq!(c.wire_bytes, wire.len());
    let tok = crate::bpe::get(Encoding::Cl100kBase).unwrap();
    assert_eq!(c.original_tokens, Some(tok.count(text)));
    assert_eq!(c.wire_tokens, Some(tok.count(&wire)));
    if !has_wire_prefix(text) {
        match optimize {
            Optimize::Bytes => assert!(c.wire_bytes <= text.len(), "never expands"),
            Optimize::Tokens => assert!(c.wire_tokens <= c.original_tokens),
        }
    } else {
        assert_ne!(
            c.algorithm,
            Algorithm::None,
            "prefixed text is never passed through"
        );
    }
}

#[test]
fn picks_round_trip_and_never_expand() {
    let pretty = "{\n  \"id\": \"chatcmpl-1\",\n  \"object\": \"chat.completion\",\n  \"choices\": [\n    {\n      \"index\": 0,\n      \"message\": {\n        \"role\": \"assistant\",\n        \"content\": \"Hello there\"\n      }\n    }\n  ]\n}\n";
    for text in [
        "",
        "hi",
        pretty,
        &pretty.repeat(40),
        "#BR|not really brotli",
        "#TK|C|",
        &"Lorem ipsum dolor sit amet. ".repeat(300),
    ] {
        check(text, Optimize::Bytes);
        check(text, Optimize::Tokens);
    }
}

#[test]
fn brotli_runs_with_the_settings_for_the_size() {
    let one = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What is the weather in Paris today? Answer briefly."}],"temperature":0}"#;
    let req = AutoRequest {
        allowed: &[Algorithm::Brotli],
        ..request(Optimize::Bytes)
    };
    // Below and above HIGH_QUALITY_MAX.
    for text in [one.repeat(2), one.repeat(8)] {
        let c = auto::select(&text, &req).unwrap();
        let tuning = auto::brotli_tuning_for(text.len());
        let expected = compress_brotli_tuned(&text, tuning, BrotliFraming::Stateless).unwrap();
        assert_eq!(c.wire.as_deref(), Some(expected.as_str()));
        let q5 = compress_brotli(&text, 5, BrotliFraming::Stateless).unwrap();
        if text.len() <= auto::HIGH_QUALITY_MAX {
            assert_eq!(tuning.quality, 10);
            assert!(expected.len() < q5.len(), "quality 10 is smaller here");
        } else {
            assert_eq!(expected, q5);
        }
        assert_eq!(decompress(&expected).unwrap().text, text);
    }
}

#[test]
fn allowed_set_and_thresholds_are_respected() {
    let text = "Lorem ipsum dolor sit amet. ".repeat(100);
    let only_dictionary = AutoRequest {
        allowed: &[Algorithm::Dictionary],
        ..request(Optimize::Bytes)
    };
    // Dictionary cannot shrink this text and is not tried above 2 KiB: passthrough.
    let c = auto::select(&text, &only_dictionary).unwrap();
    assert_eq!((c.algorithm, c.wire), (Algorithm::None, None));
    let below_threshold = AutoRequest {
        brotli_threshold: text.len() + 1,
        allowed: &[Algorithm::Brotli],
        ..request(Optimize::Bytes)
    };
    assert_eq!(
        auto::select(&text, &below_threshold).unwrap().algorithm,
        Algorithm::None
    );
    let tiny = auto::select("a short one", &request(Optimize::Bytes)).unwrap();
    assert_eq!(tiny.algorithm, Algorithm::None);
    let session = AutoRequest {
        framing: BrotliFraming::Session,
        ..request(Optimize::Bytes)
    };
    let c = auto::select(&text, &session).unwrap();
    assert_eq!(c.algorithm, Algorithm::Brotli);
    assert!(c.wire.unwrap().starts_with(prefix::BROTLI_SESSION));
    // Prefixed text with nothing allowed that can carry it: a typed error.
    let none = AutoRequest {
        allowed: &[],
        ..request(Optimize::Bytes)
    };
    assert_eq!(
        auto::select("#DI|x", &none).unwrap_err().code(),
        "UNSUPPORTED_ALGORITHM"
    );
}

#[test]
fn a_caller_supplied_token_form_competes() {
    let text = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}"#.repeat(3);
    let t1 = "#T1|{}";
    let req = AutoRequest {
        token: Some(t1),
        ..request(Optimize::Bytes)
    };
    let c = auto::select(&text, &req).unwrap();
    assert_eq!(
        (c.algorithm, c.wire, c.wire_bytes),
        (Algorithm::Token, None, t1.len())
    );
    let tok = crate::bpe::get(Encoding::Cl100kBase).unwrap();
    assert_eq!(c.wire_tokens, Some(tok.count(t1)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn any_text_round_trips_and_never_expands(text in "(\\PC|[{}\":, \n]){0,700}") {
        check(&text, Optimize::Bytes);
        check(&text, Optimize::Tokens);
    }
}
