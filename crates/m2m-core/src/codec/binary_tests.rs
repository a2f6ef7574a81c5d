//! The binary form of session Brotli and `#BH|` messages.

use super::binary::{to_binary, to_text};
use super::{compress_brotli, decompress, history, BrotliFraming};
use crate::error::Error;
use crate::tests::xorshift;

const EVENT: &str = r#"{"id":"chatcmpl-Bx1","object":"chat.completion.chunk","created":1752000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" the"},"finish_reason":null}]}"#;

fn text_of(next: &mut impl FnMut() -> u64, len: usize) -> String {
    let words = [
        " the", " model", "\"role\"", ":", "{", "}", " 42", "\n", " é", " 語",
    ];
    (0..len)
        .map(|_| words[(next() % words.len() as u64) as usize])
        .collect()
}

#[test]
fn history_and_session_brotli_messages_go_to_bytes_and_back_unchanged() {
    let mut next = xorshift(0xb1);
    let (mut deflated, mut brotlied) = (0, 0);
    for round in 0..200 {
        let (history_len, text_len) = ((next() % 400) as usize, 1 + (next() % 600) as usize);
        let history_text = text_of(&mut next, history_len);
        let text = text_of(&mut next, text_len);
        let state = if round % 2 == 0 { "0" } else { "aZ09-_" };
        let both = round % 3 == 0;
        let wire = history::compress(&text, &history_text, state, "", 5, both).unwrap();
        let body = to_binary(&wire).unwrap();
        assert!(body.len() < wire.len(), "{} vs {}", body.len(), wire.len());
        if wire.contains(&format!("{state}:")) || wire.contains(&format!("{state}+:")) {
            deflated += 1;
        } else {
            brotlied += 1;
        }
        let back = to_text(&body).unwrap();
        assert_eq!(back, wire);
        assert_eq!(
            history::decompress(&back, &history_text, state).unwrap(),
            text
        );

        let wire = compress_brotli(&text, 5, BrotliFraming::Session).unwrap();
        let body = to_binary(&wire).unwrap();
        assert!(body.len() < wire.len());
        let back = to_text(&body).unwrap();
        assert_eq!(back, wire);
        assert_eq!(decompress(&back).unwrap().text, text);
    }
    // Both codecs of the history form were seen.
    assert!(deflated > 10 && brotlied > 10, "{deflated} {brotlied}");
}

#[test]
fn the_binary_body_is_the_head_then_the_payload_bytes() {
    let wire = history::compress(EVENT, &EVENT.repeat(2), "aZ09-_", "", 5, false).unwrap();
    let body = to_binary(&wire).unwrap();
    let mark = wire.find(':').unwrap();
    assert_eq!(&body[..=mark], &wire.as_bytes()[..=mark]);
    assert_eq!(
        &body[mark + 1..],
        &crate::base85::decode(&wire[mark + 1..]).unwrap()[..]
    );
}

#[test]
fn any_payload_bytes_after_a_head_map_one_to_one() {
    let mut next = xorshift(0xb2);
    for len in 0..300 {
        for head in [&b"#BH|0|"[..], b"#BH|aZ09-_+.req:", b"#M2M[v3.0]|DATA:"] {
            let mut body = head.to_vec();
            body.extend((0..len).map(|_| next() as u8));
            let text = to_text(&body).unwrap();
            assert_eq!(to_binary(&text).unwrap(), body);
        }
    }
}

#[test]
fn bodies_and_wires_without_a_binary_form_are_typed_errors() {
    for body in [
        &b""[..],
        b"#TK|C|",
        b"#BR|abc",
        b"#BH|",
        b"#BH|0",
        b"#BH|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|",
        b"#BH|\xff\xfe|x",
        b"#BH|a b|x",
        b"#M2M[v3.0]|DAT",
    ] {
        let err = to_text(body).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidFrame { .. } | Error::MissingSeparator { .. }
            ),
            "{body:?}: {err:?}"
        );
    }
    for (wire, code) in [
        ("#TK|C|AAAA", "INVALID_FRAME"),
        ("plain text", "INVALID_FRAME"),
        ("#BH|0|\"", "INVALID_BASE85"),
        ("#BH|0", "MISSING_SEPARATOR"),
        ("#M2M[v3.0]|DATA:@@", "INVALID_BASE64"),
    ] {
        assert_eq!(to_binary(wire).unwrap_err().code(), code, "{wire}");
    }
}
