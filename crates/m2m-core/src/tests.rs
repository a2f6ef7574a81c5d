use proptest::prelude::*;

use crate::{base64, token_native, varint, Encoding, Error};

/// A small deterministic generator (xorshift64) for the tests' random inputs.
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

#[test]
fn varint_vectors() {
    let cases: &[(u32, &[u8])] = &[
        (0, &[0x00]),
        (1, &[0x01]),
        (127, &[0x7f]),
        (128, &[0x80, 0x01]),
        (300, &[0xac, 0x02]),
        (16_383, &[0xff, 0x7f]),
        (16_384, &[0x80, 0x80, 0x01]),
        (100_256, &[0xa0, 0x8f, 0x06]),
        (u32::MAX, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
    ];
    for &(value, bytes) in cases {
        assert_eq!(varint::encode(&[value]), bytes, "encode {value}");
        assert_eq!(
            varint::decode(bytes).unwrap(),
            vec![value],
            "decode {value}"
        );
    }
}

#[test]
fn varint_errors() {
    assert_eq!(
        varint::decode(&[0x80]),
        Err(Error::TruncatedVarint { offset: 0 })
    );
    assert_eq!(
        varint::decode(&[0x01, 0xff, 0xff]),
        Err(Error::TruncatedVarint { offset: 1 })
    );
    // Value above u32::MAX in the fifth byte.
    assert_eq!(
        varint::decode(&[0xff, 0xff, 0xff, 0xff, 0x10]),
        Err(Error::VarintOverflow { offset: 0 })
    );
    // Six bytes.
    assert_eq!(
        varint::decode(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
        Err(Error::VarintOverflow { offset: 0 })
    );
    assert_eq!(
        varint::decode(&[0x80, 0x00]),
        Err(Error::NonCanonicalVarint { offset: 0 })
    );
    assert_eq!(varint::decode(&[]), Ok(vec![]));
}

#[test]
fn token_native_text_vectors() {
    assert_eq!(
        token_native::pack_text(Encoding::Cl100kBase, &[]).unwrap(),
        "#TK|C|"
    );
    assert_eq!(
        token_native::pack_text(Encoding::O200kBase, &[0]).unwrap(),
        "#TK|O|AA=="
    );
    assert_eq!(
        token_native::pack_text(Encoding::Llama3, &[128_000]).unwrap(),
        "#TK|L|gOgH"
    );
    let back = token_native::unpack_text("#TK|L|gOgH").unwrap();
    assert_eq!(back.encoding, Encoding::Llama3);
    assert_eq!(back.ids, vec![128_000]);
}

#[test]
fn token_native_text_errors() {
    let code = |wire: &str| token_native::unpack_text(wire).unwrap_err().code();
    assert_eq!(code("#T1|{}"), "INVALID_PREFIX");
    assert_eq!(code(""), "INVALID_PREFIX");
    assert_eq!(code("#tk|C|AA=="), "INVALID_PREFIX");
    assert_eq!(code("#TK|C"), "MISSING_SEPARATOR");
    assert_eq!(code("#TK|"), "MISSING_SEPARATOR");
    assert_eq!(code("#TK|X|AA=="), "UNKNOWN_TOKENIZER");
    assert_eq!(code("#TK|CC|AA=="), "UNKNOWN_TOKENIZER");
    assert_eq!(code("#TK||AA=="), "UNKNOWN_TOKENIZER");
    assert_eq!(code("#TK|C|AA="), "INVALID_BASE64");
    assert_eq!(code("#TK|C|A!=="), "INVALID_BASE64");
    assert_eq!(code("#TK|C|AB=="), "INVALID_BASE64"); // non-zero trailing bits
    assert_eq!(code("#TK|C|gA=="), "TRUNCATED_VARINT");
    assert_eq!(code("#TK|C|/////xA="), "VARINT_OVERFLOW");
}

#[test]
fn token_native_binary() {
    let bytes = token_native::pack_binary(Encoding::O200kBase, &[1, 200_018]).unwrap();
    assert_eq!(bytes, vec![1, 1, 0xd2, 0x9a, 0x0c]);
    assert_eq!(
        token_native::unpack_binary(&bytes).unwrap().ids,
        vec![1, 200_018]
    );
    let code = |b: &[u8]| token_native::unpack_binary(b).unwrap_err().code();
    assert_eq!(code(&[]), "UNKNOWN_TOKENIZER");
    assert_eq!(code(&[3, 0]), "UNKNOWN_TOKENIZER");
    assert_eq!(code(&[0, 0x80]), "TRUNCATED_VARINT");
}

#[test]
fn message_limit() {
    let huge = "A".repeat(crate::limits::MAX_MESSAGE_BYTES + 1);
    let err = token_native::unpack_text(&format!("#TK|C|{huge}")).unwrap_err();
    assert_eq!(err.code(), "CONTENT_TOO_LARGE");
}

#[test]
fn encoding_names() {
    for e in Encoding::ALL {
        assert_eq!(Encoding::from_name(e.name()), Ok(e));
        assert_eq!(Encoding::from_wire_id(&e.wire_char().to_string()), Ok(e));
        assert_eq!(Encoding::from_wire_byte(e.wire_byte()), Ok(e));
    }
    assert_eq!(
        Encoding::from_name("gpt2").unwrap_err().code(),
        "UNKNOWN_TOKENIZER"
    );
}

proptest! {
    #[test]
    fn varint_round_trip(ids in proptest::collection::vec(any::<u32>(), 0..200)) {
        prop_assert_eq!(varint::decode(&varint::encode(&ids)).unwrap(), ids);
    }

    #[test]
    fn varint_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        // Either ids that re-encode to the same bytes, or a typed error.
        if let Ok(ids) = varint::decode(&bytes) {
            prop_assert_eq!(varint::encode(&ids), bytes);
        }
    }

    #[test]
    fn base64_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        prop_assert_eq!(base64::decode(&base64::encode(&bytes)).unwrap(), bytes);
    }

    #[test]
    fn token_native_round_trip(which in 0usize..3, ids in proptest::collection::vec(any::<u32>(), 0..200)) {
        let encoding = Encoding::ALL[which];
        let text = token_native::pack_text(encoding, &ids).unwrap();
        prop_assert_eq!(token_native::unpack_text(&text).unwrap(), crate::TokenIds { encoding, ids: ids.clone() });
        let bin = token_native::pack_binary(encoding, &ids).unwrap();
        prop_assert_eq!(token_native::unpack_binary(&bin).unwrap(), crate::TokenIds { encoding, ids });
    }

    #[test]
    fn unpack_text_never_panics(wire in "(#TK\\|)?[COLX|]?\\|?[A-Za-z0-9+/=!]{0,40}") {
        let _ = token_native::unpack_text(&wire);
    }
}
