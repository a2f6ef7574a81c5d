//! Tests of the BPE tokenizers against the real rank files and against
//! fixtures produced by the reference implementations.
//!
//! Needs `node scripts/gen-ranks.mjs` (rank files) and
//! `node scripts/gen-bpe-fixtures.mjs` (differential fixtures); a missing file
//! fails the test with that instruction, it never skips.

use std::path::PathBuf;

use proptest::prelude::*;

use super::merge::{self, Scratch};
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};

use super::pretok::{self, Pattern};
use super::{AllowedSpecial, JsText, Tokenizer};
use crate::tests::xorshift;
use crate::{base64, bpe, Encoding, Error};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str, how: &str) -> Vec<u8> {
    let path = root().join(rel);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read {} ({e}): run `{how}` first", path.display()))
}

/// The tokenizer of `encoding`, loaded from its rank file.
pub(crate) fn tok(encoding: Encoding) -> &'static Tokenizer {
    let data = read(
        &format!("build/ranks/{}.bpe", encoding.name()),
        "node scripts/gen-ranks.mjs",
    );
    bpe::load(encoding, &data).unwrap();
    bpe::get(encoding).unwrap()
}

struct Case {
    mode: char,
    names: Vec<String>,
    text: String,
    ids: Vec<u32>,
}

fn fixtures(name: &str) -> Vec<Case> {
    let data = read(
        &format!("build/fixtures/bpe/{name}.tsv"),
        "node scripts/gen-ranks.mjs && node scripts/gen-bpe-fixtures.mjs",
    );
    let text = String::from_utf8(data).unwrap();
    let b64 = |s: &str| String::from_utf8(base64::decode(s).unwrap()).unwrap();
    text.lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 4, "bad fixture line {line:?}");
            let names = b64(f[1]);
            Case {
                mode: f[0].chars().next().unwrap(),
                names: if names.is_empty() {
                    vec![]
                } else {
                    names.split('\n').map(str::to_owned).collect()
                },
                text: b64(f[2]),
                ids: f[3]
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse().unwrap())
                    .collect(),
            }
        })
        .collect()
}

fn differential(encoding: Encoding, fixture: &str) {
    let t = tok(encoding);
    let cases = fixtures(fixture);
    assert!(cases.len() > 1000, "too few cases in {fixture}");
    let mut failures = Vec::new();
    for case in &cases {
        let allowed = match case.mode {
            'O' => AllowedSpecial::None,
            'A' => AllowedSpecial::All,
            'S' => AllowedSpecial::from_names(case.names.iter().cloned()),
            m => panic!("bad mode {m}"),
        };
        let got = if case.mode == 'O' {
            t.encode_ordinary(&case.text)
        } else {
            t.encode(&case.text, &allowed)
        };
        let count = if case.mode == 'O' {
            t.count(&case.text)
        } else {
            t.count_with_special(&case.text, &allowed)
        };
        if got != case.ids || count != case.ids.len() {
            failures.push(format!(
                "{} {:?} {:?}\n  expected {:?}\n  got      {:?} (count {count})",
                case.mode, case.names, case.text, case.ids, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}: {} of {} cases differ; first ones:\n{}",
        fixture,
        failures.len(),
        cases.len(),
        failures[..failures.len().min(10)].join("\n")
    );
}

#[test]
fn cl100k_matches_tiktoken() {
    differential(Encoding::Cl100kBase, "cl100k_base");
}

#[test]
fn o200k_matches_tiktoken() {
    differential(Encoding::O200kBase, "o200k_base");
}

#[test]
fn llama3_matches_meta_reference() {
    differential(Encoding::Llama3, "llama3");
}

#[test]
fn llama3_matches_llama3_tokenizer_js() {
    differential(Encoding::Llama3, "llama3-js");
}

#[test]
fn known_vectors() {
    let cl = tok(Encoding::Cl100kBase);
    let o = tok(Encoding::O200kBase);
    let l = tok(Encoding::Llama3);
    assert_eq!(cl.encode_ordinary("hello world"), vec![15339, 1917]);
    assert_eq!(cl.encode_ordinary("Hello, World!"), vec![9906, 11, 4435, 0]);
    assert_eq!(cl.encode_ordinary("I'M here"), vec![40, 28703, 1618]);
    assert_eq!(cl.encode_ordinary("  x"), vec![220, 865]);
    assert_eq!(o.encode_ordinary("hello world"), vec![24912, 2375]);
    assert_eq!(o.encode_ordinary("Hello, World!"), vec![13225, 11, 5922, 0]);
    assert_eq!(o.encode_ordinary("I'M here"), vec![40, 95346, 2105]);
    assert_eq!(l.encode_ordinary("hello world"), vec![15339, 1917]);
    assert_eq!(cl.encode_ordinary(""), Vec::<u32>::new());
    assert_eq!(cl.count(""), 0);

    let eot = "<|endoftext|>";
    assert_eq!(
        cl.encode_ordinary(eot),
        vec![27, 91, 8862, 728, 428, 91, 29]
    );
    assert_eq!(
        cl.encode(eot, &AllowedSpecial::None),
        vec![27, 91, 8862, 728, 428, 91, 29]
    );
    assert_eq!(cl.encode(eot, &AllowedSpecial::All), vec![100257]);
    assert_eq!(
        cl.encode(eot, &AllowedSpecial::from_names(["<|endoftext|>"])),
        vec![100257]
    );
    assert_eq!(
        cl.encode(eot, &AllowedSpecial::from_names(["<|fim_prefix|>"])),
        vec![27, 91, 8862, 728, 428, 91, 29]
    );
    assert_eq!(o.encode(eot, &AllowedSpecial::All), vec![199999]);
    assert_eq!(
        o.encode("<|endofprompt|>", &AllowedSpecial::All),
        vec![200018]
    );
}

#[test]
fn special_tokens_and_sizes() {
    let cl = tok(Encoding::Cl100kBase);
    let o = tok(Encoding::O200kBase);
    let l = tok(Encoding::Llama3);
    let cl_specials: Vec<(u32, &str)> = cl.special_tokens().collect();
    assert_eq!(
        cl_specials,
        vec![
            (100257, "<|endoftext|>"),
            (100258, "<|fim_prefix|>"),
            (100259, "<|fim_middle|>"),
            (100260, "<|fim_suffix|>"),
            (100276, "<|endofprompt|>"),
        ]
    );
    assert_eq!((cl.n_ranks(), cl.vocab_size()), (100_256, 100_277));
    assert_eq!((o.n_ranks(), o.vocab_size()), (199_998, 200_019));
    assert_eq!((l.n_ranks(), l.vocab_size()), (128_000, 128_256));
    let l_specials: Vec<(u32, &str)> = l.special_tokens().collect();
    assert_eq!(l_specials.len(), 256);
    assert_eq!(l_specials[0], (128000, "<|begin_of_text|>"));
    assert_eq!(l_specials[1], (128001, "<|end_of_text|>"));
    assert_eq!(l_specials[5], (128005, "<|reserved_special_token_3|>"));
    assert_eq!(l_specials[6], (128006, "<|start_header_id|>"));
    assert_eq!(l_specials[7], (128007, "<|end_header_id|>"));
    assert_eq!(l_specials[8], (128008, "<|reserved_special_token_4|>"));
    assert_eq!(l_specials[9], (128009, "<|eot_id|>"));
    assert_eq!(l_specials[10], (128010, "<|reserved_special_token_5|>"));
    assert_eq!(l_specials[255], (128255, "<|reserved_special_token_250|>"));
    assert_eq!(l.special_token_id("<|eot_id|>"), Some(128009));
    assert_eq!(l.special_token_id("<|eom_id|>"), None);
    // Llama 3's first 100,256 ranks are cl100k's.
    for id in (0..100_256).step_by(97) {
        assert_eq!(cl.token_bytes(id), l.token_bytes(id));
    }
    assert_eq!(cl.encoding(), Encoding::Cl100kBase);
}

#[test]
fn decode_and_errors() {
    let cl = tok(Encoding::Cl100kBase);
    let o = tok(Encoding::O200kBase);
    let l = tok(Encoding::Llama3);
    assert_eq!(cl.decode(&[15339, 1917]).unwrap(), "hello world");
    assert_eq!(cl.decode(&[100257, 15339]).unwrap(), "<|endoftext|>hello");
    assert_eq!(cl.decode(&[]).unwrap(), "");
    for (t, bad) in [
        (cl, 100_256),
        (cl, 100_261),
        (cl, 100_277),
        (o, 199_998),
        (o, 200_019),
        (l, 128_256),
        (l, u32::MAX),
    ] {
        let err = t.decode(&[15339, bad]).unwrap_err();
        assert_eq!(err, Error::UnknownToken { id: bad });
        assert_eq!(err.code(), "UNKNOWN_TOKEN");
        assert_eq!(t.decode_bytes(&[bad]).unwrap_err().code(), "UNKNOWN_TOKEN");
    }
    // "é" is two byte tokens in cl100k when split: ids of its bytes alone.
    let e_acute = cl.encode_ordinary("\u{1F600}");
    assert!(e_acute.len() > 1, "emoji should be several byte tokens");
    let err = cl.decode(&e_acute[..1]).unwrap_err();
    assert_eq!(err, Error::InvalidUtf8 { valid_up_to: 0 });
    assert_eq!(err.code(), "INVALID_UTF8");
    assert_eq!(cl.decode_bytes(&e_acute).unwrap(), "\u{1F600}".as_bytes());
}

#[test]
fn round_trips_on_corpus() {
    let cases = fixtures("cl100k_base");
    for encoding in Encoding::ALL {
        let t = tok(encoding);
        for case in cases.iter().step_by(3) {
            let ids = t.encode_ordinary(&case.text);
            assert_eq!(t.decode(&ids).unwrap(), case.text);
            let ids = t.encode(&case.text, &AllowedSpecial::All);
            assert_eq!(t.decode(&ids).unwrap(), case.text);
        }
    }
}

#[test]
fn encode_into_equals_encode() {
    let cases = fixtures("cl100k_base");
    for encoding in Encoding::ALL {
        let t = tok(encoding);
        for case in cases.iter().step_by(5) {
            let ids = t.encode_ordinary(&case.text);
            let n = ids.len();
            // Rooms too small by one, exactly the size, one larger, none at all.
            for room in [n.saturating_sub(1), n, n + 1, 0] {
                let mut buf = vec![u32::MAX; room];
                match t.encode_ordinary_into(&case.text, &mut buf) {
                    Ok(written) => {
                        assert!(n <= room);
                        assert_eq!((written, &buf[..written]), (n, &ids[..]));
                        assert!(buf[written..].iter().all(|&x| x == u32::MAX));
                    }
                    Err(all) => {
                        assert!(n > room);
                        assert_eq!(all, ids);
                    }
                }
            }
        }
    }
}

/// What [`Tokenizer::decode_js`] must return: `decode`'s text as bytes when
/// ASCII, else as UTF-16, or `decode`'s error.
fn js_text_of(t: &Tokenizer, ids: &[u32]) -> Result<JsText, Error> {
    t.decode(ids).map(|s| {
        if s.is_ascii() {
            JsText::Latin1(s.into_bytes())
        } else {
            JsText::Utf16(s.encode_utf16().collect())
        }
    })
}

#[test]
fn decode_js_agrees_with_decode() {
    let cases = fixtures("cl100k_base");
    for encoding in Encoding::ALL {
        let t = tok(encoding);
        for case in &cases {
            let ids = t.encode(&case.text, &AllowedSpecial::All);
            assert_eq!(t.decode_js(&ids), js_text_of(t, &ids), "{:?}", case.text);
            // Cut anywhere: a character split between tokens is an error.
            for cut in [1, ids.len() / 2, ids.len().saturating_sub(1)] {
                let part = &ids[..cut.min(ids.len())];
                assert_eq!(t.decode_js(part), js_text_of(t, part));
            }
        }
        assert_eq!(t.decode_js(&[]), Ok(JsText::Latin1(Vec::new())));
        assert_eq!(
            t.decode_js(&[u32::MAX]),
            Err(Error::UnknownToken { id: u32::MAX })
        );
    }
}

#[test]
fn token_texts_hold_every_token() {
    for encoding in Encoding::ALL {
        let t = tok(encoding);
        let texts = t.token_texts();
        assert_eq!(texts.ends.len(), t.vocab_size() + 1);
        assert_eq!(texts.cut_ends.len(), t.vocab_size() + 1);
        let units: Vec<u16> = texts.text.encode_utf16().collect();
        assert_eq!(*texts.ends.last().unwrap() as usize, units.len());
        assert_eq!(
            *texts.cut_ends.last().unwrap() as usize,
            texts.cut_bytes.len()
        );
        let (mut whole, mut cut) = (0, 0);
        for id in 0..t.vocab_size() {
            let text = &units[texts.ends[id] as usize..texts.ends[id + 1] as usize];
            let bytes =
                &texts.cut_bytes[texts.cut_ends[id] as usize..texts.cut_ends[id + 1] as usize];
            match (t.token_bytes(id as u32), t.decode(&[id as u32])) {
                (Some(_), Ok(s)) => {
                    assert_eq!(String::from_utf16(text).unwrap(), s, "id {id}");
                    assert!(bytes.is_empty());
                    whole += 1;
                }
                (Some(b), Err(_)) => {
                    assert!(text.is_empty(), "id {id}");
                    assert_eq!(bytes, b);
                    cut += 1;
                }
                (None, _) => assert!(text.is_empty() && bytes.is_empty(), "id {id}"),
            }
        }
        assert!(
            whole > 90_000 && cut > 0,
            "{encoding:?}: {whole} whole, {cut} cut"
        );
    }
}

#[test]
fn pieces_tile_the_text() {
    let t = tok(Encoding::O200kBase);
    let text = "Hello  world\r\n\r\n  x\t\ty 123456 don't";
    let mut pos = 0;
    for r in t.pieces(text) {
        assert_eq!(r.start, pos);
        assert!(r.end > r.start);
        pos = r.end;
    }
    assert_eq!(pos, text.len());
}

#[test]
fn patterns_are_tiktokens() {
    let read_pat = |name: &str| -> String {
        let json = String::from_utf8(read(
            &format!("node_modules/tiktoken/encoders/{name}.json"),
            "npm install",
        ))
        .unwrap();
        // `"pat_str":"..."` is the first field; unescape JSON's `\\`.
        let start = json.find("\"pat_str\":\"").unwrap() + 11;
        let end = start + json[start..].find("\",").unwrap();
        json[start..end].replace("\\\\", "\\")
    };
    assert_eq!(read_pat("cl100k_base"), bpe::CL100K_PATTERN);
    assert_eq!(read_pat("o200k_base"), bpe::O200K_PATTERN);
    let cl = bpe::compiled_pattern(Encoding::Cl100kBase);
    assert!(
        cl.starts_with(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n[\p{L}\x{1C89}"),
        "{cl}"
    );
    assert!(cl.ends_with(r"\s*[\r\n]+|\s+"), "{cl}");
    assert!(!cl.contains("(?!"));
    assert_eq!(bpe::compiled_pattern(Encoding::Llama3), cl);
}

#[test]
fn rank_data_is_verified() {
    let data = read("build/ranks/cl100k_base.bpe", "node scripts/gen-ranks.mjs");
    let err = Tokenizer::from_rank_data(Encoding::O200kBase, &data).unwrap_err();
    assert_eq!(err.code(), "RANK_DATA_CORRUPT");
    let mut bad = data.clone();
    bad[100] ^= 1;
    let err = Tokenizer::from_rank_data(Encoding::Cl100kBase, &bad).unwrap_err();
    assert_eq!(err.code(), "RANK_DATA_CORRUPT");
    assert!(err.to_string().contains("SHA-256"), "{err}");
    assert_eq!(
        Tokenizer::from_rank_data(Encoding::Cl100kBase, &[])
            .unwrap_err()
            .code(),
        "RANK_DATA_CORRUPT"
    );
    // The parser itself rejects malformed data (checksum aside).
    assert!(super::rank_file::parse(Encoding::Cl100kBase, &data[..data.len() - 1]).is_err());
    assert!(super::rank_file::parse(Encoding::O200kBase, &data).is_err());
    assert!(super::rank_file::parse(Encoding::Cl100kBase, &data).is_ok());
}

/// Runs both merge strategies on the same piece.
fn both_merges(t: &Tokenizer, piece: &[u8]) -> (Vec<u32>, Vec<u32>) {
    let mut scratch = Scratch::for_encoding(t.encoding());
    let mut small = Vec::new();
    let mut large = Vec::new();
    merge::merge_small_for_test(&t.vocab, piece, &mut scratch, &mut |id| small.push(id));
    merge::merge_large_for_test(&t.vocab, piece, &mut scratch, &mut |id| large.push(id));
    (small, large)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn heap_merge_equals_tiktoken_merge(
        s in proptest::collection::vec(
            prop_oneof![
                Just("a"), Just("b"), Just("ab"), Just("the"), Just("ing"), Just("é"),
                Just("中"), Just(" "), Just("!"), Just("1"), Just("\u{1F600}"), Just("x"),
                Just("tion"), Just("er"), Just("AB"),
            ],
            2..200,
        ),
        enc in 0u8..3,
    ) {
        let t = tok(Encoding::from_wire_byte(enc).unwrap());
        let piece = s.concat();
        let (small, large) = both_merges(t, piece.as_bytes());
        prop_assert_eq!(&small, &large);
        prop_assert_eq!(t.decode_bytes(&large).unwrap(), piece.as_bytes());
    }

    /// Any ids, including tokens that cut characters, specials and unknown
    /// ids: `decode_js` says what `decode` says.
    #[test]
    fn decode_js_on_any_ids(ids in proptest::collection::vec(prop_oneof![0u32..300, 0u32..201_000, any::<u32>()], 0..40), enc in 0u8..3) {
        let t = tok(Encoding::from_wire_byte(enc).unwrap());
        prop_assert_eq!(t.decode_js(&ids), js_text_of(t, &ids));
    }

    /// Text of any characters (rare ones are cut between byte tokens), whole
    /// and cut at any token.
    #[test]
    fn decode_js_on_any_text(s in "\\PC{0,64}", from in 0usize..80, to in 0usize..80, enc in 0u8..3) {
        let t = tok(Encoding::from_wire_byte(enc).unwrap());
        let ids = t.encode(&s, &AllowedSpecial::All);
        prop_assert_eq!(t.decode_js(&ids), js_text_of(t, &ids));
        let (from, to) = (from.min(ids.len()), to.min(ids.len()));
        let part = &ids[from.min(to)..to.max(from)];
        prop_assert_eq!(t.decode_js(part), js_text_of(t, part));
    }

    #[test]
    fn any_string_round_trips(s in "\\PC{0,64}", enc in 0u8..3) {
        let t = tok(Encoding::from_wire_byte(enc).unwrap());
        let ids = t.encode_ordinary(&s);
        prop_assert_eq!(t.count(&s), ids.len());
        prop_assert_eq!(t.decode(&ids).unwrap(), s);
    }
}

/// Release-mode throughput: `cargo test --release -p m2m-core -- --ignored throughput --nocapture`.
#[test]
#[ignore]
fn throughput() {
    use std::time::Instant;
    let mb = 1 << 20;
    let cases = fixtures("cl100k_base");
    let repeat = |unit: String| {
        let mut s = String::with_capacity(mb + unit.len());
        while s.len() < mb {
            s.push_str(&unit);
        }
        s
    };
    // The hand-written part of the corpus: prose in many scripts, code, JSON,
    // emoji, whitespace runs.
    let fixed: Vec<&str> = cases
        .iter()
        .filter(|c| c.mode == 'O')
        .take(90)
        .map(|c| c.text.as_str())
        .collect();
    let english = repeat(
        fixed
            .iter()
            .filter(|t| t.is_ascii() && t.len() < 200)
            .copied()
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let prose = repeat(fixed.join("\n"));
    let mut rnd = xorshift(0x2545_f491_4f6c_dd1du64);
    let no_spaces: String = (0..mb)
        .map(|_| (b'a' + (rnd() % 26) as u8) as char)
        .collect();
    let repeated = "a".repeat(mb);
    let mut random_unicode = String::new();
    while random_unicode.len() < mb {
        if let Some(c) = char::from_u32((rnd() % 0x3_0000) as u32) {
            random_unicode.push(c);
        }
    }
    let inputs = [
        ("ASCII prose/code/JSON", english),
        ("multilingual corpus", prose),
        ("1 MB without spaces", no_spaces),
        ("1 MB one repeated char", repeated),
        ("1 MB random Unicode", random_unicode),
        ("1 MB spaces", " ".repeat(mb)),
        ("1 MB digits", "7".repeat(mb)),
    ];
    for encoding in Encoding::ALL {
        let t = tok(encoding);
        for (name, text) in &inputs {
            let runs = 3;
            let start = Instant::now();
            let mut n = 0;
            for _ in 0..runs {
                n = t.encode_ordinary(text).len();
            }
            let secs = start.elapsed().as_secs_f64() / runs as f64;
            println!(
                "{:<12} {:<24} {:>8.1} MB/s  ({} tokens, {:.1} ms)",
                encoding.name(),
                name,
                text.len() as f64 / secs / 1e6,
                n,
                secs * 1e3
            );
        }
    }
}

/// The pieces of `text` by a hand-written scanner alone (`next` is
/// `pretok::next_piece` or `pretok::scan`).
fn scanner_pieces(
    t: &Tokenizer,
    text: &str,
    next: fn(Pattern, &[u8], usize) -> usize,
) -> Result<Vec<std::ops::Range<usize>>, usize> {
    let pattern = Pattern::of(t.encoding());
    let b = text.as_bytes();
    let mut pieces = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let end = next(pattern, b, pos);
        assert!(
            end > pos && text.is_char_boundary(end),
            "{text:?} at {pos}: {end}"
        );
        pieces.push(pos..end);
        pos = end;
    }
    Ok(pieces)
}

/// The compiled tiktoken regexes (see `bpe::compiled_pattern`), cl100k's
/// and o200k's: the reference the scanner is tested against.
static REGEXES: once_cell::sync::Lazy<[Regex; 2]> = once_cell::sync::Lazy::new(|| {
    [Encoding::Cl100kBase, Encoding::O200kBase]
        .map(|e| Regex::new(&bpe::compiled_pattern(e)).expect("the patterns compile"))
});

/// The pieces of `text` by tiktoken's regex alone.
///
/// The patterns end in `\s+(?!\S)|\s+`; the regex engine has no look-ahead,
/// so they are compiled with `\s+` instead, and the look-ahead's effect is
/// restored here: a match that ends in whitespace other than `\r`/`\n` (only
/// the `\s+` branch can produce one, and then it holds no `\r`/`\n` at all),
/// is followed by more text and is at least two characters long gives back
/// its last character, which starts the next match. Proof of equality in
/// `crate::bpe` docs.
fn regex_pieces(encoding: Encoding, text: &str) -> Vec<std::ops::Range<usize>> {
    let regex = match Pattern::of(encoding) {
        Pattern::Cl100k => &REGEXES[0],
        Pattern::O200k => &REGEXES[1],
    };
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let input = Input::new(text).range(start..).anchored(Anchored::Yes);
        // Every position starts a match (each character is covered by some
        // branch), so an anchored search finds the same match as an
        // unanchored one.
        let mut end = regex
            .search_half(&input)
            .expect("every position starts a match")
            .offset();
        if end < text.len() {
            let matched = &text[start..end];
            if let Some(last) = matched.chars().next_back() {
                if last.is_whitespace()
                    && last != '\r'
                    && last != '\n'
                    && matched.len() > last.len_utf8()
                {
                    end -= last.len_utf8();
                }
            }
        }
        assert!(end > start, "no branch matches the empty string");
        pieces.push(start..end);
        start = end;
    }
    pieces
}

/// Pieces by the general scanner alone, by the ASCII fast path with the
/// general scanner behind it, by the tokenizer, and by the regex alone;
/// `None` if all four agree.
fn piece_mismatch(t: &Tokenizer, text: &str) -> Option<String> {
    let reference = regex_pieces(t.encoding(), text);
    let tokenizer: Vec<_> = t.pieces(text).collect();
    let general = scanner_pieces(t, text, pretok::scan);
    let both = scanner_pieces(t, text, pretok::next_piece);
    if general.as_ref() == Ok(&reference)
        && both.as_ref() == Ok(&reference)
        && tokenizer == reference
    {
        return None;
    }
    let show = |v: &[std::ops::Range<usize>]| -> Vec<&str> {
        v.iter().map(|r| &text[r.clone()]).collect()
    };
    Some(format!(
        "{:?} {:?}\n  regex   {:?}\n  scan    {:?}\n  ascii+scan {:?}\n  pieces  {:?}",
        t.encoding(),
        text,
        show(&reference),
        general.as_ref().map(|v| show(v)),
        both.as_ref().map(|v| show(v)),
        show(&tokenizer)
    ))
}

#[test]
fn fast_path_known_cases() {
    let cl = tok(Encoding::Cl100kBase);
    let o = tok(Encoding::O200kBase);
    let pieces = |t: &Tokenizer, text: &str| -> Vec<String> {
        assert_eq!(piece_mismatch(t, text), None);
        t.pieces(text).map(|r| text[r].to_owned()).collect()
    };
    assert_eq!(pieces(cl, "\"hello"), ["\"hello"]);
    assert_eq!(
        pieces(cl, "{\"role\":\"user\"}"),
        ["{\"", "role", "\":\"", "user", "\"}"]
    );
    assert_eq!(
        pieces(cl, "I'M don't 'sup"),
        ["I", "'M", " don", "'t", " '", "sup"]
    );
    assert_eq!(pieces(o, "I'M don't 'sup"), ["I'M", " don't", " '", "sup"]);
    assert_eq!(
        pieces(o, "helloWorld HTMLParser"),
        ["hello", "World", " HTMLParser"]
    );
    assert_eq!(pieces(cl, "12345 x"), ["123", "45", " x"]);
    assert_eq!(
        pieces(cl, "a  \t\n\n  b   "),
        ["a", "  \t\n\n", " ", " b", "   "]
    );
    assert_eq!(pieces(cl, "\tx \x0B!"), ["\tx", " ", "\x0B", "!"]);
    assert_eq!(pieces(o, "!!\n/x a//\n"), ["!!\n/", "x", " a", "//\n"]);
    assert_eq!(pieces(cl, "!!\n/x"), ["!!\n", "/x"]);
    // Non-ASCII: the contraction's `ſ`, accents (precomposed and combining),
    // Unicode whitespace and numbers, and o200k's letter classes.
    assert_eq!(
        pieces(cl, "x'\u{17F} it\u{2019}s"),
        ["x", "'\u{17F}", " it", "\u{2019}s"]
    );
    assert_eq!(pieces(o, "X'\u{17F}'LL"), ["X'\u{17F}", "'LL"]);
    assert_eq!(pieces(cl, "K'\u{212A}"), ["K", "'\u{212A}"]);
    assert_eq!(
        pieces(cl, "caf\u{E9} cafe\u{301}!"),
        ["caf\u{E9}", " cafe", "\u{301}!"]
    );
    assert_eq!(
        pieces(o, "caf\u{E9} cafe\u{301}!"),
        ["caf\u{E9}", " cafe\u{301}", "!"]
    );
    assert_eq!(
        pieces(cl, "\u{A0}\u{A0}\u{3000}x \u{2028}\u{85}"),
        ["\u{A0}\u{A0}", "\u{3000}x", " \u{2028}\u{85}"]
    );
    assert_eq!(
        pieces(cl, "\u{663}\u{664}\u{665}\u{666}\u{BD}"),
        ["\u{663}\u{664}\u{665}", "\u{666}\u{BD}"]
    );
    // o200k: `ǅ` (Lt) is upper case only, `ʰ` (Lm) both; a mark can start the
    // letters itself.
    assert_eq!(
        pieces(o, "\u{1C5}ab\u{1C5}\u{1C5}ʰ\u{1C5}1"),
        ["\u{1C5}ab", "\u{1C5}\u{1C5}ʰ", "\u{1C5}", "1"]
    );
    assert_eq!(
        pieces(o, "\u{301}1 \u{301}\u{1C5}!"),
        ["\u{301}", "1", " \u{301}", "\u{1C5}", "!"]
    );
    assert_eq!(pieces(o, "\u{301}!x"), ["\u{301}", "!x"]);
    assert_eq!(pieces(cl, "\u{301}!x"), ["\u{301}!", "x"]);
    assert_eq!(pieces(o, "日本語のテキスト。"), ["日本語のテキスト", "。"]);
    assert_eq!(pieces(cl, "नमस्ते"), ["नमस", "्त", "े"]);
    assert_eq!(pieces(o, "नमस्ते"), ["नमस्ते"]);
    assert_eq!(
        pieces(o, "\u{1F468}\u{200D}\u{1F469} \u{1F44B}\u{1F3FB}"),
        ["\u{1F468}\u{200D}\u{1F469}", " \u{1F44B}\u{1F3FB}"]
    );
}

/// Random strings over `alphabet`: `n` of them, of up to `max_len` entries;
/// with `bias`, the first `bias.0` entries are picked `bias.1 - 1` times in
/// `bias.1`.
fn random_strings(
    alphabet: &[&str],
    n: usize,
    max_len: usize,
    bias: Option<(usize, u64)>,
    seed: u64,
) -> Vec<String> {
    let mut rnd = xorshift(seed);
    (0..n)
        .map(|_| {
            let len = (rnd() % (max_len as u64 + 1)) as usize;
            let mut s = String::new();
            for _ in 0..len {
                let r = rnd();
                let i = match bias {
                    Some((k, d)) if r % d != 0 => (r >> 8) as usize % k,
                    Some((k, _)) => k + (r >> 8) as usize % (alphabet.len() - k),
                    None => (r >> 8) as usize % alphabet.len(),
                };
                s.push_str(alphabet[i]);
            }
            s
        })
        .collect()
}

/// ASCII characters the scanner's decisions depend on.
const ASCII_ALPHABET: &[&str] = &[
    "a", "b", "e", "l", "m", "r", "s", "t", "v", "d", "x", "A", "E", "L", "M", "R", "S", "T", "V",
    "D", "X", "'", "'", "'", "\"", "\"", "0", "1", "9", " ", " ", " ", "\t", "\n", "\n", "\r",
    "\x0B", "\x0C", "{", "}", "[", "]", ":", ",", ".", "/", "/", "-", "!", "?", "\\", "_", "\x00",
    "\x1F", "\x7F",
];

/// Characters of every class the patterns tell apart, the tricky ones
/// several times: `Lu`, `Ll`, `Lt`, `Lm`, `Lo` (CJK, kana, Hangul, Arabic,
/// Devanagari, Thai), marks (`Mn`, `Mc`, `Me`, variation selectors),
/// numbers of other scripts, the contraction letters with `ſ`, `K` (Kelvin
/// sign), `’`, Unicode whitespace, punctuation, emoji with ZWJ and skin
/// tones, format characters, unassigned, private-use and noncharacters, and
/// code points added in Unicode 16.0.
const UNICODE_ALPHABET: &[&str] = &[
    // Lu
    "A",
    "S",
    "L",
    "É",
    "Σ",
    "Ж",
    "\u{1C89}",
    "\u{10D50}",
    // Ll
    "a",
    "s",
    "t",
    "e",
    "l",
    "é",
    "σ",
    "ж",
    "ß",
    "\u{1C8A}",
    "\u{10D70}",
    // Lt
    "\u{1C5}",
    "\u{1C5}",
    "\u{1F88}",
    // Lm
    "ʰ",
    "ʰ",
    "ー",
    "\u{2C6}",
    "\u{10D4E}",
    // Lo
    "日",
    "本",
    "語",
    "あ",
    "ア",
    "한",
    "국",
    "ا",
    "ل",
    "ह",
    "न",
    "ก",
    "\u{16100}",
    "\u{13460}",
    // M
    "\u{301}",
    "\u{301}",
    "\u{93F}",
    "\u{94D}",
    "\u{20DD}",
    "\u{FE0F}",
    "\u{E0100}",
    "\u{897}",
    "\u{64E}",
    // N
    "0",
    "7",
    "٣",
    "١",
    "Ⅻ",
    "½",
    "²",
    "१",
    "\u{1E5F1}",
    // contractions
    "'",
    "'",
    "'",
    "\u{2019}",
    "ſ",
    "ſ",
    "r",
    "v",
    "m",
    "d",
    "D",
    "R",
    "V",
    "K",
    "k",
    "\u{212A}",
    // whitespace
    " ",
    " ",
    " ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\x0B",
    "\x0C",
    "\u{85}",
    "\u{A0}",
    "\u{2028}",
    "\u{2029}",
    "\u{3000}",
    "\u{1680}",
    "\u{2009}",
    "\u{202F}",
    // punctuation, symbols, emoji, format, unassigned
    "!",
    ".",
    ",",
    "/",
    "/",
    "\"",
    "{",
    "-",
    "—",
    "“",
    "。",
    "、",
    "€",
    "\u{200D}",
    "\u{200B}",
    "😀",
    "👨",
    "🌍",
    "\u{1F3FB}",
    "\u{E0001}",
    "\u{FFFF}",
    "\u{10FFFF}",
    "\u{378}",
    "\u{E000}",
    "\x00",
    "\u{AD}",
    "\u{FEFF}",
];

/// Random strings of Unicode scalar values drawn uniformly from `0..limit`.
fn random_code_points(n: usize, max_len: usize, limit: u32, seed: u64) -> Vec<String> {
    let mut rnd = xorshift(seed);
    (0..n)
        .map(|_| {
            let len = (rnd() % (max_len as u64 + 1)) as usize;
            (0..len)
                .filter_map(|_| char::from_u32((rnd() % u64::from(limit)) as u32))
                .collect()
        })
        .collect()
}

/// The scanner gives the regex's pieces: on every
/// fixture text and on random strings built to hit the classes and the
/// characters its decisions depend on.
#[test]
fn fast_path_equals_regex() {
    let mut texts: Vec<String> = Vec::new();
    for name in ["cl100k_base", "o200k_base", "llama3", "llama3-js"] {
        texts.extend(fixtures(name).into_iter().map(|c| c.text));
    }
    let n_fixture = texts.len();
    // Mostly ASCII, 1 in 16 non-ASCII.
    let mixed: Vec<&str> = ASCII_ALPHABET
        .iter()
        .chain(UNICODE_ALPHABET)
        .copied()
        .collect();
    texts.extend(random_strings(
        &mixed,
        100_000,
        40,
        Some((ASCII_ALPHABET.len(), 16)),
        0x9e37_79b9_7f4a_7c15,
    ));
    // The tricky Unicode classes, uniformly; short and long.
    texts.extend(random_strings(
        UNICODE_ALPHABET,
        100_000,
        24,
        None,
        0x2545_f491_4f6c_dd1d,
    ));
    texts.extend(random_strings(
        UNICODE_ALPHABET,
        2_000,
        600,
        None,
        0x1234_5678_9abc_def1,
    ));
    // Any code point, and the BMP.
    texts.extend(random_code_points(
        20_000,
        30,
        0x11_0000,
        0x5851_f42d_4c95_7f2d,
    ));
    texts.extend(random_code_points(
        20_000,
        30,
        0x1_0000,
        0x1405_7b7e_f767_814f,
    ));
    let n_random = texts.len() - n_fixture;
    let mut pieces = 0usize;
    for encoding in Encoding::ALL {
        let t = tok(encoding);
        let mut failures = Vec::new();
        for text in &texts {
            pieces += t.pieces(text).count();
            if let Some(f) = piece_mismatch(t, text) {
                failures.push(f);
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} texts differ; first ones:\n{}",
            failures.len(),
            texts.len(),
            failures[..failures.len().min(10)].join("\n")
        );
    }
    println!(
        "scanner == regex on {n_fixture} fixture texts and {n_random} random strings \
         (3 encodings, {pieces} pieces)"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn fast_path_equals_regex_on_tricky_classes(
        s in proptest::collection::vec(proptest::sample::select(UNICODE_ALPHABET), 0..64),
        enc in 0u8..3,
    ) {
        let t = tok(Encoding::from_wire_byte(enc).unwrap());
        let text = s.concat();
        prop_assert_eq!(piece_mismatch(t, &text), None);
    }

    #[test]
    fn fast_path_equals_regex_on_any_chars(
        s in proptest::collection::vec(proptest::char::any(), 0..64),
        enc in 0u8..3,
    ) {
        let t = tok(Encoding::from_wire_byte(enc).unwrap());
        let text: String = s.into_iter().collect();
        prop_assert_eq!(piece_mismatch(t, &text), None);
    }
}

/// The thread's cache of merged pieces never changes a result: not when warm,
/// not after it filled up and started over (several times here), and not
/// across encodings.
#[test]
fn merged_piece_cache_keeps_results_exact() {
    let mut rnd = xorshift(0x9e37_79b9_7f4a_7c15u64);
    // ~2 MiB of mostly distinct words of 6-24 letters (each a merged piece),
    // with some repeats, so the cache both hits and overflows.
    let mut words: Vec<String> = Vec::new();
    let mut text = String::new();
    while text.len() < 2 << 20 {
        let word = if !words.is_empty() && rnd() % 4 == 0 {
            words[(rnd() % words.len() as u64) as usize].clone()
        } else {
            let n = 6 + (rnd() % 19) as usize;
            (0..n)
                .map(|_| (b'a' + (rnd() % 26) as u8) as char)
                .collect()
        };
        text.push(' ');
        text.push_str(&word);
        words.push(word);
    }
    for encoding in Encoding::ALL {
        let t = tok(encoding);
        let uncached = |text: &str| -> Vec<u32> {
            let mut out = Vec::new();
            for range in t.pieces(text) {
                let piece = &text.as_bytes()[range];
                match t.vocab.rank(piece) {
                    Some(id) => out.push(id),
                    None => out.extend(both_merges(t, piece).0),
                }
            }
            out
        };
        let expected = uncached(&text);
        assert_eq!(
            t.encode_ordinary(&text),
            expected,
            "{encoding:?} first pass"
        );
        assert_eq!(t.encode_ordinary(&text), expected, "{encoding:?} warm");
        let sample =
            " getEffectiveTypeParameterDeclarations Überraschungsmomente 東京は日本の首都です";
        assert_eq!(
            t.encode_ordinary(sample),
            uncached(sample),
            "{encoding:?} sample"
        );
        assert_eq!(t.count(&text), expected.len());
    }
}
