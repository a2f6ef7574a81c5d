use std::path::PathBuf;

use serde_json::Value;

use super::header::{FinishReason, Role, Variable};
use super::*;
use crate::keys;

const KEY: [u8; 32] = {
    let mut k = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        k[i] = i as u8;
        i += 1;
    }
    k
};
const NONCE: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/// `../shared` beside the repository, where the reference's vectors and the
/// traffic corpus live. Missing, the tests that need it skip with a message,
/// except in CI, where they fail.
fn shared(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{} is missing (CI=true: the frame tests must run)",
        path.display()
    );
    eprintln!("skipped: {} is missing", path.display());
    None
}

fn vectors() -> Option<Vec<Value>> {
    let text = std::fs::read_to_string(shared("spec-frames/vectors.jsonl")?).unwrap();
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    )
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// The vector a security vector was made from (`req-small-hmac` -> `req-small`).
fn base<'a>(all: &'a [Value], name: &str) -> &'a Value {
    let stem = name.trim_end_matches("-hmac").trim_end_matches("-aead");
    all.iter().find(|v| v["vector"] == stem).unwrap()
}

#[test]
fn every_reference_vector_decodes_and_re_encodes_byte_identically() {
    let Some(all) = vectors() else { return };
    let mut checked = 0;
    for v in all.iter().filter(|v| v.get("frame_hex").is_some()) {
        let name = field(v, "vector");
        let json = field(base(&all, name), "json");
        let frame = hex(field(v, "frame_hex"));
        let wire = field(v, "wire");
        let (seal, require) = if name.ends_with("-hmac") {
            (Seal::Hmac { key: &KEY }, Require::Hmac(&KEY))
        } else if name.ends_with("-aead") {
            assert_eq!(field(v, "nonce_hex"), to_hex(&NONCE));
            (
                Seal::Aead {
                    key: &KEY,
                    nonce: NONCE,
                },
                Require::Aead(&KEY),
            )
        } else {
            (Seal::None, Require::None)
        };
        assert_eq!(decode(&frame, require).unwrap(), json, "{name} binary");
        assert_eq!(decode_text(wire, require).unwrap(), json, "{name} text");
        assert_eq!(
            to_hex(&encode(json, seal).unwrap()),
            to_hex(&frame),
            "{name}"
        );
        assert_eq!(encode_text(json, seal).unwrap(), wire, "{name} text");
        if let Some(random) = v.get("ref_random_nonce_frame_hex") {
            let random = hex(random.as_str().unwrap());
            assert_eq!(
                decode(&random, require).unwrap(),
                json,
                "{name} random nonce"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 7, "the vector file's seven frames");
}

#[test]
fn headers_read_back_as_the_reference_reports_them() {
    let Some(all) = vectors() else { return };
    for v in all.iter().filter(|v| v.get("json").is_some()) {
        let name = field(v, "vector");
        let head = inspect(&hex(field(v, "frame_hex"))).unwrap();
        assert_eq!(
            head.header_len as u64,
            v["header_len"].as_u64().unwrap(),
            "{name}"
        );
        let flags = hex(field(v, "flags_hex"));
        assert_eq!(head.flags.to_le_bytes(), [flags[0], flags[1]], "{name}");
        assert_eq!(head.common, flags[3], "{name}");
        match (&head.variable, &v["routing"], &v["response"]) {
            (Variable::Routing(r), want, Value::Null) => {
                assert_eq!(r.model, want["model"].as_str().unwrap());
                assert_eq!(u64::from(r.msg_count), want["msg_count"].as_u64().unwrap());
                assert_eq!(
                    u64::from(r.content_hint),
                    want["content_hint"].as_u64().unwrap()
                );
                assert_eq!(r.max_tokens.map(u64::from), want["max_tokens"].as_u64());
                assert_eq!(
                    r.est_cost_usd.map(f64::from),
                    want["est_cost_usd"].as_f64(),
                    "{name}: the f32 estimate, exactly"
                );
                let roles: Vec<String> = r.roles.iter().map(|r| format!("{r:?}")).collect();
                assert_eq!(
                    format!("[{}]", roles.join(", ")),
                    want["roles"].as_str().unwrap()
                );
            }
            (Variable::Response(r), Value::Null, want) => {
                assert_eq!(r.id, want["id"].as_str().unwrap());
                assert_eq!(r.model, want["model"].as_str().unwrap());
                assert_eq!(u64::from(r.prompt_tokens), want["prompt"].as_u64().unwrap());
                assert_eq!(
                    u64::from(r.completion_tokens),
                    want["completion"].as_u64().unwrap()
                );
                assert_eq!(r.est_cost_usd.map(f64::from), want["cost"].as_f64());
                assert_eq!(
                    format!("{:?}", r.finish_reason),
                    want["finish"].as_str().unwrap()
                );
            }
            other => panic!("{name}: unexpected header {other:?}"),
        }
        let crc = hex(field(v, "crc32_hex"));
        let crc = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
        assert_eq!(crc32fast::hash(field(v, "json").as_bytes()), crc, "{name}");
    }
}

#[test]
fn keys_follow_the_key_hierarchy_paths() {
    let Some(all) = vectors() else { return };
    let get = |name: &str| all.iter().find(|v| v["vector"] == name).unwrap();
    let hk = get("hkdf");
    let master = hex(field(hk, "master_hex"));
    let h = keys::KeyHierarchy::new(&master, "test-org").unwrap();
    let want = |v: &Value, k: &str| hex(field(v, k));
    assert_eq!(
        h.agent_key("agent-001").unwrap().to_vec(),
        want(hk, "agent_key m2m/v1/test-org/agent-001")
    );
    assert_eq!(h.org_key().to_vec(), want(hk, "org_key m2m/v1/test-org"));
    assert_eq!(
        h.shared_key().to_vec(),
        want(hk, "shared m2m/v1/test-org/shared")
    );
    let session = want(hk, "session m2m/v1/test-org/session/alice:bob/sess-001");
    assert_eq!(
        h.session_key("alice", "bob", "sess-001").unwrap().to_vec(),
        session
    );
    assert_eq!(
        h.session_key("bob", "alice", "sess-001").unwrap().to_vec(),
        session
    );
    assert_eq!(
        keys::hkdf_sha256(&master, b"m2m-v1|ctx|sess-001", 32).unwrap(),
        want(hk, "keyring m2m-v1|ctx|sess-001")
    );
    let ctx = get("hkdf-context-vs-hierarchy");
    assert_eq!(
        h.purpose_key("alice", keys::Purpose::Encryption)
            .unwrap()
            .to_vec(),
        want(
            ctx,
            "KeyHierarchy.derive_agent_key_for_purpose(alice,encryption)"
        )
    );
    // The reference's AgentKeyContext derives other keys for the same paths;
    // there is one definition here, so neither of its values can come out.
    for k in [
        "AgentKeyContext(alice).derive_key(encryption)",
        "AgentKeyContext(alice).derive_session_key(bob,sess-001)",
    ] {
        assert_ne!(want(ctx, k), session);
        assert_ne!(
            want(ctx, k),
            h.purpose_key("alice", keys::Purpose::Encryption)
                .unwrap()
                .to_vec()
        );
    }
    assert_eq!(
        format!("{:08x}", crc32fast::hash(b"123456789")),
        field(ctx, "crc32fast('123456789')")
    );

    let x = get("x25519");
    let (a_sk, b_sk) = (want(x, "alice_sk"), want(x, "bob_sk"));
    assert_eq!(
        keys::x25519_public(&a_sk).unwrap().to_vec(),
        want(x, "alice_pk")
    );
    assert_eq!(
        keys::x25519_public(&b_sk).unwrap().to_vec(),
        want(x, "bob_pk")
    );
    let shared = keys::x25519_shared(&a_sk, &want(x, "bob_pk")).unwrap();
    assert_eq!(shared.to_vec(), want(x, "shared"));
    assert_eq!(
        keys::x25519_shared(&b_sk, &want(x, "alice_pk")).unwrap(),
        shared
    );
    let session = keys::x25519_session_key(&a_sk, &want(x, "bob_pk")).unwrap();
    assert_eq!(
        session.to_vec(),
        want(
            x,
            "session_key HKDF(salt=None, ikm=shared, info='m2m-session-v1')"
        )
    );
}

#[test]
fn x25519_refuses_low_order_keys_and_bad_sizes() {
    let sk = [7u8; 32];
    assert_eq!(
        keys::x25519_shared(&sk, &[0u8; 32]).unwrap_err().code(),
        "INVALID_KEY"
    );
    assert_eq!(
        keys::x25519_public(&sk[..31]).unwrap_err().code(),
        "INVALID_KEY"
    );
    assert!(keys::KeyHierarchy::new(&[0u8; 31], "org").is_err());
    let master = [1u8; 32];
    let h = keys::KeyHierarchy::new(&master, "org").unwrap();
    for bad in ["", "a/b", "a:b", &"x".repeat(129)] {
        assert_eq!(
            h.agent_key(bad).unwrap_err().code(),
            "INVALID_OPTION",
            "{bad:?}"
        );
    }
}

const REQUEST: &str = r#"{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"What is in this picture?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}],"max_tokens":64,"stream":true,"tools":[]}"#;

fn seals() -> [(Seal<'static>, Require<'static>); 3] {
    [
        (Seal::None, Require::None),
        (Seal::Hmac { key: &KEY }, Require::Hmac(&KEY)),
        (
            Seal::Aead {
                key: &KEY,
                nonce: NONCE,
            },
            Require::Aead(&KEY),
        ),
    ]
}

#[test]
fn request_header_names_its_flags_roles_and_sizes() {
    let head = inspect(&encode(REQUEST, Seal::None).unwrap()).unwrap();
    assert_eq!(
        head.flag_names(),
        [
            "HAS_SYSTEM_PROMPT",
            "HAS_TOOLS",
            "HAS_IMAGES",
            "STREAM_REQUESTED",
            "HAS_MAX_TOKENS"
        ]
    );
    assert!(head.compressed());
    let Variable::Routing(r) = head.variable else {
        panic!()
    };
    assert_eq!((r.model.as_str(), r.msg_count), ("gpt-4o", 2));
    assert_eq!(r.roles, [Role::System, Role::User]);
    assert_eq!(
        r.content_hint,
        ("Be brief.".len() + "What is in this picture?".len()) as u32
    );
    assert_eq!(r.max_tokens, Some(64));
    assert_eq!(
        r.est_cost_usd,
        Some(cost::estimate("gpt-4o", r.content_hint / 4, 64))
    );
}

#[test]
fn response_header_carries_usage_and_finish_reason() {
    let json = r#"{"id":"chatcmpl-1","model":"o3-mini","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"no"},"finish_reason":"length"}],"usage":{"prompt_tokens":10,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":0}}}"#;
    let head = inspect(&encode(json, Seal::None).unwrap()).unwrap();
    assert_eq!(
        head.flag_names(),
        [
            "HAS_REFUSAL",
            "HAS_USAGE",
            "TRUNCATED",
            "HAS_CACHED_TOKENS",
            "HAS_COST_ESTIMATE"
        ]
    );
    let Variable::Response(r) = head.variable else {
        panic!()
    };
    assert_eq!(r.finish_reason, FinishReason::Length);
    assert_eq!((r.prompt_tokens, r.completion_tokens), (10, 20));
    assert_eq!((r.cached_tokens, r.reasoning_tokens), (Some(4), None));
    assert_eq!(r.est_cost_usd, Some(cost::estimate("o3-mini", 10, 20)));
}

#[test]
fn headers_the_reference_writes_inconsistently_still_read_back() {
    // A role the header cannot carry, and a max_tokens flag without a value:
    // the reference writes fewer roles than messages and no max_tokens.
    let json = r#"{"model":"m","messages":[{"role":"function","content":"a"},{"role":"user","content":"b"},{"role":"assistant","content":"c"},{"role":"user","content":"d"},{"role":"user","content":"e"}],"max_tokens":null}"#;
    let Variable::Routing(r) = inspect(&encode(json, Seal::None).unwrap())
        .unwrap()
        .variable
    else {
        panic!()
    };
    assert_eq!(r.msg_count, 5);
    assert_eq!(
        r.roles,
        [Role::User, Role::Assistant, Role::User, Role::User]
    );
    assert_eq!((r.content_hint, r.max_tokens), (5, None));
    assert_eq!(r.est_cost_usd, Some(cost::estimate("m", 1, 500)));
}

#[test]
fn every_mode_round_trips_and_any_altered_byte_is_refused() {
    for (seal, require) in &seals()[1..] {
        for json in [REQUEST, r#"{"model":"x","messages":[]}"#] {
            let frame = encode(json, *seal).unwrap();
            assert_eq!(decode(&frame, *require).unwrap(), json);
            for i in prefix::FRAME_V1.len()..frame.len() {
                for bit in [0x01, 0x80] {
                    let mut bad = frame.clone();
                    bad[i] ^= bit;
                    assert!(
                        decode(&bad, *require).is_err(),
                        "byte {i} bit {bit:#x} of {seal:?}"
                    );
                }
            }
            // Truncated anywhere, or extended.
            for cut in prefix::FRAME_V1.len()..frame.len() {
                assert!(decode(&frame[..cut], *require).is_err(), "cut at {cut}");
            }
            let mut longer = frame.clone();
            longer.push(0);
            assert!(decode(&longer, *require).is_err());
        }
    }
}

#[test]
fn an_unprotected_frame_is_checked_by_its_crc_and_lengths() {
    let frame = encode(REQUEST, Seal::None).unwrap();
    let head = inspect(&frame).unwrap();
    let crc_at = prefix::FRAME_V1.len() + head.header_len + 4;
    let mut bad = frame.clone();
    bad[crc_at] ^= 1;
    assert_eq!(
        decode(&bad, Require::None).unwrap_err().code(),
        "CHECKSUM_MISMATCH"
    );
    let mut longer = frame.clone();
    longer.extend_from_slice(b"junk");
    assert_eq!(
        decode(&longer, Require::None).unwrap_err().code(),
        "INVALID_FRAME"
    );
    let mut unknown = frame;
    unknown[prefix::FRAME_V1.len() + 3] = 7;
    assert_eq!(
        decode(&unknown, Require::None).unwrap_err().code(),
        "INVALID_FRAME"
    );
}

#[test]
fn the_receiver_decides_the_mode_stripped_or_other_modes_are_refused() {
    let hmac = encode(REQUEST, Seal::Hmac { key: &KEY }).unwrap();
    let aead = encode(
        REQUEST,
        Seal::Aead {
            key: &KEY,
            nonce: NONCE,
        },
    )
    .unwrap();
    let none = encode(REQUEST, Seal::None).unwrap();
    let violation = |frame: &[u8], require| decode(frame, require).unwrap_err().code();
    // A protected frame without its key: never the payload unchecked.
    assert_eq!(violation(&hmac, Require::None), "SECURITY_VIOLATION");
    assert_eq!(violation(&aead, Require::None), "SECURITY_VIOLATION");
    // Unprotected (or stripped) where protection is required.
    assert_eq!(violation(&none, Require::Hmac(&KEY)), "SECURITY_VIOLATION");
    assert_eq!(violation(&none, Require::Aead(&KEY)), "SECURITY_VIOLATION");
    let mut stripped = hmac.clone();
    stripped[prefix::FRAME_V1.len() + 3] = 0;
    stripped.truncate(stripped.len() - HMAC_TAG_LEN);
    assert_eq!(
        violation(&stripped, Require::Hmac(&KEY)),
        "SECURITY_VIOLATION"
    );
    let mut downgraded = aead.clone();
    downgraded[prefix::FRAME_V1.len() + 3] = 1;
    assert_eq!(
        violation(&downgraded, Require::Aead(&KEY)),
        "SECURITY_VIOLATION"
    );
    // The other mode with the same key.
    assert_eq!(violation(&hmac, Require::Aead(&KEY)), "SECURITY_VIOLATION");
    // A wrong key.
    let other = [9u8; 32];
    assert_eq!(
        violation(&hmac, Require::Hmac(&other)),
        "AUTHENTICATION_FAILED"
    );
    assert_eq!(
        violation(&aead, Require::Aead(&other)),
        "AUTHENTICATION_FAILED"
    );
    // Keys of the wrong size.
    assert_eq!(
        encode(REQUEST, Seal::Hmac { key: &KEY[..15] })
            .unwrap_err()
            .code(),
        "INVALID_KEY"
    );
    assert_eq!(
        encode(
            REQUEST,
            Seal::Aead {
                key: &KEY[..31],
                nonce: NONCE
            }
        )
        .unwrap_err()
        .code(),
        "INVALID_KEY"
    );
    assert_eq!(violation(&aead, Require::Aead(&[0u8; 64])), "INVALID_KEY");
}

#[test]
fn the_header_is_readable_in_every_mode_without_a_key() {
    let want = inspect(&encode(REQUEST, Seal::None).unwrap()).unwrap();
    for (seal, _) in seals() {
        let head = inspect_text(&encode_text(REQUEST, seal).unwrap()).unwrap();
        assert_eq!(head.variable, want.variable);
        assert_eq!(head.flags, want.flags);
    }
}

#[test]
fn names_over_255_bytes_are_refused_at_encode() {
    let long = "m".repeat(256);
    let request = format!(r#"{{"model":"{long}","messages":[]}}"#);
    assert_eq!(
        encode(&request, Seal::None).unwrap_err().code(),
        "CONTENT_TOO_LARGE"
    );
    let at_limit = format!(r#"{{"model":"{}","messages":[]}}"#, "m".repeat(255));
    let frame = encode(&at_limit, Seal::None).unwrap();
    assert_eq!(decode(&frame, Require::None).unwrap(), at_limit);
    let response = format!(r#"{{"id":"chatcmpl-{long}","choices":[]}}"#);
    assert_eq!(
        encode(&response, Seal::None).unwrap_err().code(),
        "CONTENT_TOO_LARGE"
    );
}

#[test]
fn non_json_is_refused() {
    for text in ["", "not json", "{\"a\":", "{} {}"] {
        assert_eq!(
            encode(text, Seal::None).unwrap_err().code(),
            "INVALID_JSON",
            "{text:?}"
        );
    }
    // Any JSON value is a frame (as in the reference: a request by default).
    for text in ["[]", "1", "\"s\"", "{}"] {
        assert_eq!(
            decode(&encode(text, Seal::None).unwrap(), Require::None).unwrap(),
            text
        );
    }
}

#[test]
fn the_decompression_limit_holds_inside_frames() {
    // A small valid frame whose payload is replaced by a Brotli bomb.
    let frame = encode(REQUEST, Seal::None).unwrap();
    let head = inspect(&frame).unwrap();
    let bomb = brotli::compress(&vec![b' '; 17 * 1024 * 1024], 5).unwrap();
    let mut bad = frame[..prefix::FRAME_V1.len() + head.header_len].to_vec();
    bad.extend_from_slice(&(bomb.len() as u32).to_le_bytes());
    bad.extend_from_slice(&0u32.to_le_bytes());
    bad.extend_from_slice(&bomb);
    assert_eq!(
        decode(&bad, Require::None).unwrap_err().code(),
        "CONTENT_TOO_LARGE"
    );
    // The same inside an authenticated frame.
    let mut mac = hmac_with(&KEY).unwrap();
    bad[prefix::FRAME_V1.len() + 3] = 1;
    mac.update(&bad[prefix::FRAME_V1.len()..]);
    bad.extend_from_slice(&mac.finalize().into_bytes());
    assert_eq!(
        decode(&bad, Require::Hmac(&KEY)).unwrap_err().code(),
        "CONTENT_TOO_LARGE"
    );
}

/// The reference compresses with the `brotli` crate's streaming
/// `CompressorWriter` (quality 5, window 22, a 4 KiB buffer); the frame's
/// one-pass encoder must give the same bytes. The same streaming writer here
/// (the crate's `CompressorWriterCustomIo`, with the crate's own allocator),
/// built as m2m builds the crate: without `std` (docs/performance.md).
fn reference_brotli(data: &[u8]) -> Vec<u8> {
    use crate::codec::brotli::Fresh;
    use ::brotli::{Allocator, CompressorWriterCustomIo, CustomWrite};
    struct Sink(Vec<u8>);
    impl CustomWrite<()> for Sink {
        fn write(&mut self, data: &[u8]) -> std::result::Result<usize, ()> {
            self.0.extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::result::Result<(), ()> {
            Ok(())
        }
    }
    let buffer = <Fresh as Allocator<u8>>::alloc_cell(&mut Fresh, 4096);
    let mut w = CompressorWriterCustomIo::new(Sink(Vec::new()), buffer, Fresh, (), (), 5, 22);
    let mut rest = data;
    while !rest.is_empty() {
        let n = w.write(rest).unwrap();
        rest = &rest[n..];
    }
    w.into_inner().0
}

#[test]
fn real_traffic_round_trips_in_every_mode_with_the_reference_brotli_bytes() {
    let Some(path) = shared("data/traffic-dev/traffic.jsonl") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let mut frames = 0;
    // Debug builds compress slowly: every 8th JSON body here; the vitest
    // suite runs all of them through both release backends.
    for (i, line) in text.lines().enumerate().filter(|(i, _)| i % 8 == 0) {
        let record: Value = serde_json::from_str(line).unwrap();
        let body = record["body"].as_str().unwrap();
        if serde_json::from_str::<Value>(body).is_err() {
            assert_eq!(encode(body, Seal::None).unwrap_err().code(), "INVALID_JSON");
            continue;
        }
        for (seal, require) in seals() {
            let frame = encode(body, seal).unwrap();
            assert_eq!(decode(&frame, require).unwrap(), body, "line {i}");
        }
        let frame = encode(body, Seal::None).unwrap();
        let head = inspect(&frame).unwrap();
        if head.compressed() {
            let payload = &frame[prefix::FRAME_V1.len() + head.header_len + 8..];
            assert!(
                payload == reference_brotli(body.as_bytes()).as_slice(),
                "line {i}"
            );
        }
        frames += 1;
    }
    assert!(frames > 300, "{frames} frames");
}

#[test]
fn other_versions_and_other_prefixes_are_told_apart() {
    assert_eq!(
        inspect_text("#M2M|2|AAAA").unwrap_err().code(),
        "UNSUPPORTED_VERSION"
    );
    assert_eq!(
        inspect(b"#M2M|10|\x00").unwrap_err().code(),
        "UNSUPPORTED_VERSION"
    );
    assert_eq!(
        decode_text("#BR|AAAA", Require::None).unwrap_err().code(),
        "INVALID_PREFIX"
    );
    assert_eq!(inspect(b"#M2M|").unwrap_err().code(), "INVALID_PREFIX");
}
