//! The pre-tokenizer's character-class table (`char_table.rs`): its
//! generator, and the proof that it equals the regex engine's classes.
//!
//! Both derive every code point's class from the regex engine itself: each
//! class is compiled as the tokenizer compiles the patterns (regex-automata
//! with the Unicode 16.0 widening of `super::widen_classes`) and run over a
//! text holding every Unicode scalar value in order; its matches are the
//! class's members.
//!
//! Regenerate (after changing the regex crates or `unicode_delta.rs`) with
//! `cargo test --release -p m2m-core --lib -- --ignored --exact bpe::char_table_tests::generate_char_table`.

use once_cell::sync::Lazy;
use regex_automata::meta::Regex;

use super::pretok::{
    self, CASELESS, LETTER, LOWER, MARK, NEWLINE, NUMBER, O200K_LOWER, O200K_UPPER, OTHER, PUNCT,
    SPACE, UPPER,
};
use super::{char_table, widen_classes, CL100K_PATTERN, O200K_PATTERN};

const N_CODE_POINTS: usize = 0x11_0000;

/// Every Unicode scalar value, in order.
static ALL_CHARS: Lazy<String> = Lazy::new(|| {
    (0..N_CODE_POINTS as u32)
        .filter_map(char::from_u32)
        .collect()
});

/// Membership of every code point (indexed by code point; surrogates are
/// `false`) in `class`, a one-character regex class such as `\p{L}`, as
/// the tokenizer's regex sees it.
fn members(class: &str) -> Vec<bool> {
    let re = Regex::new(&format!("(?:{})+", widen_classes(class))).unwrap();
    let all = ALL_CHARS.as_str();
    let mut is = vec![false; N_CODE_POINTS];
    for m in re.find_iter(all) {
        // A match is a run of consecutive scalar values.
        let first = all[m.start()..].chars().next().unwrap() as u32;
        let last = all[..m.end()].chars().next_back().unwrap() as u32;
        for cp in first..=last {
            if char::from_u32(cp).is_some() {
                is[cp as usize] = true;
            }
        }
    }
    is
}

/// The class bits of every code point (surrogates: `OTHER`), from the
/// regex engine's classes.
fn derive_classes() -> Vec<u8> {
    let classes: Vec<(u8, Vec<bool>)> = [
        (UPPER, r"\p{Lu}"),
        (UPPER, r"\p{Lt}"),
        (LOWER, r"\p{Ll}"),
        (CASELESS, r"\p{Lm}"),
        (CASELESS, r"\p{Lo}"),
        (MARK, r"\p{M}"),
        (NUMBER, r"\p{N}"),
        (SPACE, r"\s"),
    ]
    .iter()
    .map(|&(bits, class)| (bits, members(class)))
    .collect();
    let newline = members(r"[\r\n]");
    (0..N_CODE_POINTS)
        .map(|cp| {
            let mut bits = 0;
            for (b, is) in &classes {
                if is[cp] {
                    assert_eq!(bits, 0, "U+{cp:04X} is in two classes");
                    bits = *b;
                }
            }
            if newline[cp] {
                assert_eq!(bits, SPACE, "U+{cp:04X}");
                bits |= NEWLINE;
            }
            if bits == 0 {
                OTHER
            } else {
                bits
            }
        })
        .collect()
}

/// Code points per leaf block, and leaf blocks per middle block.
const LEAF_BITS: u32 = 6;
const MID_BITS: u32 = 4;

/// The generated source of `char_table.rs`.
fn generate(classes: &[u8]) -> String {
    use std::collections::HashMap;
    let leaf_len = 1usize << LEAF_BITS;
    let mid_len = 1usize << MID_BITS;
    let mut leaves: Vec<u8> = Vec::new();
    let mut leaf_at: HashMap<&[u8], u16> = HashMap::new();
    let leaf_offsets: Vec<u16> = classes
        .chunks(leaf_len)
        .map(|leaf| {
            *leaf_at.entry(leaf).or_insert_with(|| {
                let at = u16::try_from(leaves.len()).expect("leaf table too large");
                leaves.extend_from_slice(leaf);
                at
            })
        })
        .collect();
    let mut mids: Vec<u16> = Vec::new();
    let mut mid_at: HashMap<&[u16], u8> = HashMap::new();
    let top: Vec<u8> = leaf_offsets
        .chunks(mid_len)
        .map(|mid| {
            *mid_at.entry(mid).or_insert_with(|| {
                let at = u8::try_from(mids.len() / mid_len).expect("too many middle blocks");
                mids.extend_from_slice(mid);
                at
            })
        })
        .collect();
    let array = |name: &str, ty: &str, items: Vec<String>| -> String {
        let mut s = format!(
            "#[rustfmt::skip]\npub(super) static {name}: [{ty}; {}] = [\n",
            items.len()
        );
        let mut line = String::new();
        for item in items {
            if line.len() + item.len() + 2 > 99 {
                s.push_str(line.trim_end());
                s.push('\n');
                line.clear();
            }
            if line.is_empty() {
                line.push_str("   ");
            }
            line.push(' ');
            line.push_str(&item);
            line.push(',');
        }
        s.push_str(line.trim_end());
        s.push_str("\n];\n");
        s
    };
    let size = top.len() + 2 * mids.len() + leaves.len();
    format!(
        "// DO NOT EDIT: generated by `cargo test --release -p m2m-core --lib -- --ignored --exact\n\
         // bpe::char_table_tests::generate_char_table` from the regex engine's classes\n\
         // (regex-syntax 0.7.5's Unicode 15.0 tables widened to Unicode 16.0 as the\n\
         // tokenizer compiles them); `table_equals_regex_classes` checks it.\n\
         \n\
         //! The pre-tokenizer's class bits (`pretok.rs`) of every code point: a\n\
         //! three-level table, {top} + 2 x {mid} + {leaf} = {size} bytes. `TOP[cp >> {top_shift}]`\n\
         //! picks a block of {mid_len} entries of `MID`, entry `(cp >> {leaf_bits}) & {mid_mask}` of it\n\
         //! the offset in `LEAF` of a block of {leaf_len} class bytes, and `cp & {leaf_mask}` the byte.\n\
         \n\
         /// The class bits of the code point `cp` (at most U+10FFFF).\n\
         #[inline(always)]\n\
         pub(super) fn lookup(cp: u32) -> u8 {{\n\
         \x20   let mid = (TOP[(cp >> {top_shift}) as usize] as usize) << {mid_bits};\n\
         \x20   let leaf = MID[mid | ((cp >> {leaf_bits}) & {mid_mask}) as usize] as usize;\n\
         \x20   LEAF[leaf | (cp & {leaf_mask}) as usize]\n\
         }}\n\
         \n\
         {}\n{}\n{}",
        array("TOP", "u8", top.iter().map(|x| x.to_string()).collect()),
        array("MID", "u16", mids.iter().map(|x| x.to_string()).collect()),
        array("LEAF", "u8", leaves.iter().map(|x| x.to_string()).collect()),
        top = top.len(),
        mid = mids.len(),
        leaf = leaves.len(),
        size = size,
        top_shift = LEAF_BITS + MID_BITS,
        mid_bits = MID_BITS,
        leaf_bits = LEAF_BITS,
        mid_len = mid_len,
        mid_mask = mid_len - 1,
        leaf_len = leaf_len,
        leaf_mask = leaf_len - 1,
    )
}

fn table_path() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/bpe/char_table.rs")
}

/// Writes `char_table.rs`.
#[test]
#[ignore]
fn generate_char_table() {
    let source = generate(&derive_classes());
    std::fs::write(table_path(), source).unwrap();
}

/// The table gives every code point the class the regex engine gives it,
/// and each pattern class the scanner tests equals the union of class bits
/// it uses for it.
#[test]
fn table_equals_regex_classes() {
    let classes = derive_classes();
    let mut buf = [0u8; 4];
    for (cp, &want) in classes.iter().enumerate() {
        let c = match char::from_u32(cp as u32) {
            Some(c) => c,
            None => continue,
        };
        assert_eq!(char_table::lookup(cp as u32), want, "U+{cp:04X}");
        // And through the UTF-8 decoder (and the ASCII table).
        let s = c.encode_utf8(&mut buf);
        assert_eq!(
            pretok::class_at(s.as_bytes(), 0),
            (want, s.len()),
            "U+{cp:04X}"
        );
    }
    // The generated file is what the generator writes now.
    let on_disk = std::fs::read_to_string(table_path()).unwrap();
    assert!(
        on_disk == generate(&classes),
        "char_table.rs is stale: run generate_char_table (see this module's docs)"
    );

    // The pattern classes, as the patterns spell them.
    type Union = (&'static str, fn(u8) -> bool);
    let unions: [Union; 8] = [
        (r"\p{L}", |c| c & LETTER != 0),
        (r"\p{N}", |c| c & NUMBER != 0),
        (r"\s", |c| c & SPACE != 0),
        (r"[\r\n]", |c| c & NEWLINE != 0),
        (r"[^\r\n\p{L}\p{N}]", pretok::is_prefix),
        (r"[^\s\p{L}\p{N}]", |c| c & PUNCT != 0),
        (r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]", |c| c & O200K_UPPER != 0),
        (r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]", |c| c & O200K_LOWER != 0),
    ];
    for (class, bits) in unions {
        assert!(
            CL100K_PATTERN.contains(class) || O200K_PATTERN.contains(class),
            "{class} is not in the patterns"
        );
        let is = members(class);
        for (cp, &c) in classes.iter().enumerate() {
            if char::from_u32(cp as u32).is_some() {
                assert_eq!(bits(c), is[cp], "{class} U+{cp:04X}");
            }
        }
    }

    // The case-insensitive contraction letters.
    assert!(CL100K_PATTERN.starts_with("(?i:'s|'t|'re|'ve|'m|'ll|'d)|"));
    assert!(O200K_PATTERN.contains("(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"));
    for letter in ['s', 't', 'r', 'e', 'v', 'm', 'l', 'd'] {
        let is = members(&format!("(?i:{letter})"));
        for (cp, &member) in is.iter().enumerate() {
            if let Some(c) = char::from_u32(cp as u32) {
                let s = c.encode_utf8(&mut buf);
                let (folded, end) = pretok::fold(s.as_bytes(), 0);
                assert_eq!(folded == letter as u8, member, "(?i:{letter}) U+{cp:04X}");
                if member {
                    assert_eq!(end, s.len());
                }
            }
        }
    }
    assert_eq!(members("'").iter().filter(|&&m| m).count(), 1);
}
