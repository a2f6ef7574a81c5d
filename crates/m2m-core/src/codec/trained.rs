//! Trained dictionaries (`#BD|<id>.<version>.<hash>|<base85>`): Brotli with a
//! dictionary built from recorded LLM API traffic as the stream's custom
//! dictionary (the bytes the stream may copy from, as if they preceded it);
//! with `:` for the `|` before the payload, raw deflate against the
//! dictionary's last 32 KiB ([`preset`]: the shorter is sent).
//!
//! A dictionary is loaded from its file (made by scripts/gen-dictionaries.mjs):
//! `"M2MD"`, format version 1 (u8), id length (u8), the id (ASCII
//! `[a-z0-9-]`), the dictionary version (u32 LE), the content length (u32
//! LE), the content (at most [`MAX_DICTIONARY_BYTES`]). Its name on the wire
//! is `<id>.<version>.<hash>`, the hash being the first 8 hex digits of the
//! SHA-256 of the whole file. A message whose dictionary is not loaded here,
//! or is loaded in another version or with another hash, is refused with
//! [`Error::DictionaryUnavailable`], never decoded with other bytes.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use once_cell::sync::{Lazy, OnceCell};
use sha2::{Digest, Sha256};

use super::{deflate, prefix, preset};
use crate::error::{Error, Result};
use crate::limits::check_message_size;

/// Ids of the dictionaries the package ships (scripts/gen-dictionaries.mjs
/// builds them; test/dictionaries.test.ts checks the two agree).
pub const SHIPPED: [&str; 3] = ["req", "res", "sse"];
/// The largest dictionary content a receiver loads.
pub const MAX_DICTIONARY_BYTES: usize = 256 * 1024;
/// At most this many dictionaries are loaded at once.
pub const MAX_DICTIONARIES: usize = 16;
/// The longest `<id>.<version>.<hash>` a decoder reads before giving up.
const MAX_NAME_LEN: usize = 48;
const MAGIC: &[u8; 4] = b"M2MD";
const FORMAT_VERSION: u8 = 1;
const HASH_HEX_LEN: usize = 8;

/// A loaded dictionary.
#[derive(Debug)]
pub struct TrainedDictionary {
    /// Its id (`req`, `res`, `sse`).
    pub id: String,
    /// Its version.
    pub version: u32,
    /// The first 8 hex digits of the SHA-256 of its file.
    pub hash: String,
    /// The bytes Brotli uses as its custom dictionary.
    pub content: Vec<u8>,
    /// The content's last 32 KiB made ready for deflate, on first use.
    deflate: OnceCell<deflate::Prepared>,
}

impl TrainedDictionary {
    /// The content made ready for deflate (hashed once, on first use).
    pub fn deflate(&self) -> &deflate::Prepared {
        self.deflate
            .get_or_init(|| deflate::Prepared::new(&self.content))
    }

    /// `<id>.<version>.<hash>`, as the wire names it.
    pub fn name(&self) -> String {
        format!("{}.{}.{}", self.id, self.version, self.hash)
    }

    /// Parses a dictionary file.
    ///
    /// # Errors
    /// [`Error::DictionaryCorrupt`] for a malformed file.
    pub fn parse(file: &[u8]) -> Result<TrainedDictionary> {
        let corrupt = |detail: &str| Error::DictionaryCorrupt {
            detail: detail.to_owned(),
        };
        if file.len() < 6 || &file[..4] != MAGIC {
            return Err(corrupt("it does not start with M2MD"));
        }
        if file[4] != FORMAT_VERSION {
            return Err(corrupt(&format!("format version {} is not 1", file[4])));
        }
        let id_len = file[5] as usize;
        let id_end = 6 + id_len;
        let head_end = id_end + 8;
        if id_len == 0 || file.len() < head_end {
            return Err(corrupt("the header is truncated"));
        }
        let id = std::str::from_utf8(&file[6..id_end])
            .ok()
            .filter(|id| {
                id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
            .ok_or_else(|| corrupt("the id is not [a-z0-9-]"))?
            .to_owned();
        let u32_at =
            |at: usize| u32::from_le_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]);
        let version = u32_at(id_end);
        let len = u32_at(id_end + 4) as usize;
        if len == 0 || len > MAX_DICTIONARY_BYTES {
            return Err(corrupt(&format!(
                "the content is {len} bytes (1 to {MAX_DICTIONARY_BYTES})"
            )));
        }
        if file.len() != head_end + len {
            return Err(corrupt("the content length does not match the file"));
        }
        let digest = Sha256::digest(file);
        let hash: String = digest[..HASH_HEX_LEN / 2]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(TrainedDictionary {
            id,
            version,
            hash,
            content: file[head_end..].to_vec(),
            deflate: OnceCell::new(),
        })
    }
}

static LOADED: Lazy<RwLock<BTreeMap<String, Arc<TrainedDictionary>>>> =
    Lazy::new(|| RwLock::new(BTreeMap::new()));

/// Loads a dictionary file into this process (replacing one of the same id)
/// and returns its wire name.
///
/// # Errors
/// [`Error::DictionaryCorrupt`] for a malformed file, or when
/// [`MAX_DICTIONARIES`] other ids are loaded.
pub fn load(file: &[u8]) -> Result<String> {
    let dictionary = TrainedDictionary::parse(file)?;
    let name = dictionary.name();
    let mut loaded = LOADED.write().unwrap_or_else(|e| e.into_inner());
    if !loaded.contains_key(&dictionary.id) && loaded.len() >= MAX_DICTIONARIES {
        return Err(Error::DictionaryCorrupt {
            detail: format!("{MAX_DICTIONARIES} dictionaries are loaded already"),
        });
    }
    loaded.insert(dictionary.id.clone(), Arc::new(dictionary));
    Ok(name)
}

/// The loaded dictionary of `id`, if any.
pub fn get(id: &str) -> Option<Arc<TrainedDictionary>> {
    LOADED
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(id)
        .cloned()
}

/// The wire names of the loaded dictionaries, by id.
pub fn loaded_names() -> Vec<String> {
    LOADED
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .map(|d| d.name())
        .collect()
}

/// The loaded dictionary of `id`.
///
/// # Errors
/// [`Error::DictionaryUnavailable`] when it is not loaded.
pub fn require(id: &str) -> Result<Arc<TrainedDictionary>> {
    get(id).ok_or_else(|| Error::DictionaryUnavailable {
        name: id.chars().take(MAX_NAME_LEN).collect(),
        detail: "no dictionary of this id is loaded".to_owned(),
    })
}

/// The message family of `text`, by the start of its JSON: the id of the
/// dictionary made for it (`sse` for a Chat Completions chunk, `res` for a
/// completion, `req` for a request with `messages`), if any.
pub fn family_of(text: &str) -> Option<&'static str> {
    let head = &text.as_bytes()[..text.len().min(600)];
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if has(b"chat.completion.chunk") {
        Some("sse")
    } else if has(b"\"choices\"") || has(b"chat.completion") {
        Some("res")
    } else if text.contains("\"messages\"") {
        Some("req")
    } else {
        None
    }
}

/// Compresses `text` with `dictionary` as `#BD|<name>|<base85>` (Brotli) or
/// `#BD|<name>:<base85>` (deflate), whichever is shorter.
///
/// # Errors
/// [`Error::ContentTooLarge`], [`Error::InvalidOption`] for a quality outside 2–11.
pub fn compress(text: &str, dictionary: &TrainedDictionary, quality: u32) -> Result<String> {
    super::check_content_size(text)?;
    let mut wire = String::new();
    wire.push_str(prefix::BROTLI_DICTIONARY);
    wire.push_str(&dictionary.name());
    preset::compress_into(
        &mut wire,
        text.as_bytes(),
        &dictionary.content,
        Some(dictionary.deflate()),
        quality,
    )?;
    check_message_size(wire.len())?;
    Ok(wire)
}

/// Decodes `#BD|<name>|<base85>` or `#BD|<name>:<base85>`, with the
/// dictionary it names.
///
/// # Errors
/// [`Error::InvalidPrefix`] / [`Error::MissingSeparator`] for a malformed
/// head, [`Error::DictionaryUnavailable`] when the named dictionary (id,
/// version and hash) is not the one loaded, and Brotli's errors (bounded
/// output: [`Error::ContentTooLarge`]).
pub fn decompress(wire: &str) -> Result<Vec<u8>> {
    let rest = wire
        .strip_prefix(prefix::BROTLI_DICTIONARY)
        .ok_or(Error::InvalidPrefix {
            expected: prefix::BROTLI_DICTIONARY,
        })?;
    let (name, codec, payload) =
        preset::split_head(rest, MAX_NAME_LEN).ok_or(Error::MissingSeparator {
            after: "the dictionary name",
        })?;
    let mut parts = name.splitn(3, '.');
    let (id, version, hash) = match (parts.next(), parts.next(), parts.next()) {
        (Some(id), Some(version), Some(hash)) => (id, version, hash),
        _ => {
            return Err(Error::DictionaryUnavailable {
                name: name.to_owned(),
                detail: "the name is not <id>.<version>.<hash>".to_owned(),
            })
        }
    };
    let dictionary = require(id).map_err(|_| Error::DictionaryUnavailable {
        name: name.to_owned(),
        detail: format!("no dictionary {id} is loaded"),
    })?;
    if version != dictionary.version.to_string() || hash != dictionary.hash {
        return Err(Error::DictionaryUnavailable {
            name: name.to_owned(),
            detail: format!("the loaded dictionary is {}", dictionary.name()),
        });
    }
    preset::decompress(codec, payload, &dictionary.content)
}
