//! The M2M v1 frame (`#M2M|1|`), as the reference implementation
//! (m2m-protocol 0.4.0) writes it: a readable header (schema, flags, model,
//! roles, sizes, cost estimate), a CRC-32 of the content, and the content,
//! Brotli-compressed from 100 bytes up; optionally authenticated
//! (HMAC-SHA256) or encrypted (ChaCha20-Poly1305 with the header as
//! associated data).
//!
//! ```text
//! binary  #M2M|1| F          text  #M2M|1| base64(F)
//! none    F = H || payload_len u32 || crc32 u32 || payload
//! hmac    F = H(security 1) || payload_len || crc32 || payload || HMAC-SHA256(key, all before)
//! aead    F = H(security 2) || nonce(12) || ChaCha20-Poly1305(key, nonce, payload_len || crc32 || payload, aad = H)
//! ```
//!
//! Where this decoder is stricter than the reference: the receiver names the
//! protection it requires and anything else is refused (a rewritten security
//! byte cannot switch the check off); a protected frame is never decoded
//! without its key; an unknown security byte, bytes after the payload, or a
//! payload length that disagrees with the frame are errors; decompression
//! stops at the 16 MiB limit; names over 255 bytes are refused at encode.

pub mod cost;
pub mod header;
#[cfg(test)]
mod tests;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use self::header::{Header, SecurityMode};
use crate::base64;
use crate::codec::{brotli, prefix};
use crate::error::{Error, Result};
use crate::limits::{check_message_size, MAX_DECOMPRESSED_BYTES};

/// Content of at least this many bytes is Brotli-compressed in a frame.
pub const COMPRESSION_THRESHOLD: usize = 100;

/// Brotli quality and window of frame payloads (the reference's settings).
const BROTLI_QUALITY: u32 = 5;
const BROTLI_LGWIN: u32 = 22;

/// Length of an HMAC-SHA256 tag.
pub const HMAC_TAG_LEN: usize = 32;
/// Shortest HMAC key accepted.
pub const HMAC_MIN_KEY_LEN: usize = 16;
/// Length of a ChaCha20-Poly1305 key.
pub const AEAD_KEY_LEN: usize = 32;
/// Length of a ChaCha20-Poly1305 nonce.
pub const AEAD_NONCE_LEN: usize = 12;
/// Length of a Poly1305 tag.
pub const AEAD_TAG_LEN: usize = 16;

/// Payload length and CRC before the payload.
const PAYLOAD_HEAD_LEN: usize = 8;

/// How a sender protects a frame.
#[derive(Debug, Clone, Copy)]
pub enum Seal<'a> {
    /// CRC only.
    None,
    /// An HMAC-SHA256 tag (key of at least 16 bytes).
    Hmac {
        /// The key.
        key: &'a [u8],
    },
    /// ChaCha20-Poly1305 encryption (32-byte key). The nonce must never repeat
    /// under one key: the caller draws it from a CSPRNG (the core has none).
    Aead {
        /// The key.
        key: &'a [u8],
        /// A fresh random nonce.
        nonce: [u8; AEAD_NONCE_LEN],
    },
}

/// The protection a receiver requires, with its key. A frame in any other
/// mode is refused.
#[derive(Debug, Clone, Copy)]
pub enum Require<'a> {
    /// Unprotected frames only; a protected frame is refused (its key is needed).
    None,
    /// HMAC frames made with this key.
    Hmac(&'a [u8]),
    /// AEAD frames made with this key.
    Aead(&'a [u8]),
}

fn mode_of(name: &str) -> Result<SecurityMode> {
    match name {
        "none" => Ok(SecurityMode::None),
        "hmac" => Ok(SecurityMode::Hmac),
        "aead" => Ok(SecurityMode::Aead),
        other => Err(Error::InvalidOption {
            option: "security.mode",
            detail: format!("expected none, hmac or aead, got {other:?}"),
        }),
    }
}

fn key_for(mode: SecurityMode, key: Option<&[u8]>) -> Result<&[u8]> {
    key.ok_or_else(|| Error::InvalidKey {
        detail: format!("security mode {} needs a key", mode.name()),
    })
}

impl<'a> Seal<'a> {
    /// The seal of a mode name (`none`, `hmac`, `aead`), key and nonce, as
    /// the bindings receive them.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for another mode name or a missing or
    /// wrong-sized nonce; [`Error::InvalidKey`] for a missing key.
    pub fn from_parts(mode: &str, key: Option<&'a [u8]>, nonce: Option<&[u8]>) -> Result<Self> {
        Ok(match mode_of(mode)? {
            SecurityMode::None => Seal::None,
            SecurityMode::Hmac => Seal::Hmac {
                key: key_for(SecurityMode::Hmac, key)?,
            },
            SecurityMode::Aead => Seal::Aead {
                key: key_for(SecurityMode::Aead, key)?,
                nonce: nonce.and_then(|n| n.try_into().ok()).ok_or_else(|| {
                    Error::InvalidOption {
                        option: "nonce",
                        detail: format!("AEAD needs a fresh {AEAD_NONCE_LEN}-byte random nonce"),
                    }
                })?,
            },
        })
    }
}

impl<'a> Require<'a> {
    /// The requirement of a mode name (`none`, `hmac`, `aead`) and key.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for another mode name; [`Error::InvalidKey`]
    /// for a missing key.
    pub fn from_parts(mode: &str, key: Option<&'a [u8]>) -> Result<Self> {
        Ok(match mode_of(mode)? {
            SecurityMode::None => Require::None,
            SecurityMode::Hmac => Require::Hmac(key_for(SecurityMode::Hmac, key)?),
            SecurityMode::Aead => Require::Aead(key_for(SecurityMode::Aead, key)?),
        })
    }

    /// The mode required.
    pub fn mode(&self) -> SecurityMode {
        match self {
            Require::None => SecurityMode::None,
            Require::Hmac(_) => SecurityMode::Hmac,
            Require::Aead(_) => SecurityMode::Aead,
        }
    }
}

fn invalid(detail: &str) -> Error {
    Error::InvalidFrame {
        detail: detail.to_owned(),
    }
}

fn hmac_with(key: &[u8]) -> Result<Hmac<Sha256>> {
    if key.len() < HMAC_MIN_KEY_LEN {
        return Err(Error::InvalidKey {
            detail: format!(
                "an HMAC key needs at least {HMAC_MIN_KEY_LEN} bytes, got {}",
                key.len()
            ),
        });
    }
    <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|e| Error::InvalidKey {
        detail: e.to_string(),
    })
}

fn aead_with(key: &[u8]) -> Result<ChaCha20Poly1305> {
    if key.len() != AEAD_KEY_LEN {
        return Err(Error::InvalidKey {
            detail: format!(
                "a ChaCha20-Poly1305 key is {AEAD_KEY_LEN} bytes, got {}",
                key.len()
            ),
        });
    }
    ChaCha20Poly1305::new_from_slice(key).map_err(|e| Error::InvalidKey {
        detail: e.to_string(),
    })
}

/// Encodes JSON `text` as a binary frame: `#M2M|1|` followed by the frame
/// bytes.
///
/// # Errors
/// [`Error::InvalidJson`], [`Error::ContentTooLarge`] (content, a name over
/// 255 bytes, or the message), [`Error::InvalidKey`].
pub fn encode(text: &str, seal: Seal<'_>) -> Result<Vec<u8>> {
    if text.len() > MAX_DECOMPRESSED_BYTES {
        return Err(Error::ContentTooLarge {
            limit: "content size",
            max: MAX_DECOMPRESSED_BYTES,
            actual: text.len(),
        });
    }
    let mode = match seal {
        Seal::None => SecurityMode::None,
        Seal::Hmac { key } => {
            hmac_with(key)?;
            SecurityMode::Hmac
        }
        Seal::Aead { key, .. } => {
            aead_with(key)?;
            SecurityMode::Aead
        }
    };
    let compressed = text.len() >= COMPRESSION_THRESHOLD;
    let head = header::from_json(text, mode, compressed)?;
    let payload = if compressed {
        brotli::compress_window(text.as_bytes(), BROTLI_QUALITY, BROTLI_LGWIN)?
    } else {
        text.as_bytes().to_vec()
    };
    let mut out = Vec::with_capacity(
        prefix::FRAME_V1.len() + head.header_len + PAYLOAD_HEAD_LEN + payload.len() + 32,
    );
    out.extend_from_slice(prefix::FRAME_V1.as_bytes());
    header::write(&head, &mut out);
    let header_end = out.len();
    let crc = crc32fast::hash(text.as_bytes());
    let payload_len = u32::try_from(payload.len()).map_err(|_| Error::ContentTooLarge {
        limit: "message size",
        max: u32::MAX as usize,
        actual: payload.len(),
    })?;
    let mut section = Vec::with_capacity(PAYLOAD_HEAD_LEN + payload.len() + AEAD_TAG_LEN);
    section.extend_from_slice(&payload_len.to_le_bytes());
    section.extend_from_slice(&crc.to_le_bytes());
    section.extend_from_slice(&payload);
    match seal {
        Seal::None => out.extend_from_slice(&section),
        Seal::Hmac { key } => {
            out.extend_from_slice(&section);
            let mut mac = hmac_with(key)?;
            mac.update(&out[prefix::FRAME_V1.len()..]);
            out.extend_from_slice(&mac.finalize().into_bytes());
        }
        Seal::Aead { key, nonce } => {
            let aad = out[prefix::FRAME_V1.len()..header_end].to_vec();
            aead_with(key)?
                .encrypt_in_place(&nonce.into(), &aad, &mut section)
                .map_err(|_| Error::CompressionFailed {
                    detail: "ChaCha20-Poly1305 encryption failed".to_owned(),
                })?;
            out.extend_from_slice(&nonce);
            out.extend_from_slice(&section);
        }
    }
    check_message_size(out.len())?;
    Ok(out)
}

/// As [`encode`], in the text form `#M2M|1|<base64 of the frame bytes>`.
///
/// # Errors
/// As [`encode`].
pub fn encode_text(text: &str, seal: Seal<'_>) -> Result<String> {
    let bytes = encode(text, seal)?;
    let mut wire = String::with_capacity(prefix::FRAME_V1.len() + bytes.len() / 3 * 4 + 4);
    wire.push_str(prefix::FRAME_V1);
    base64::encode_into(&bytes[prefix::FRAME_V1.len()..], &mut wire);
    check_message_size(wire.len())?;
    Ok(wire)
}

/// Why `start` is not a version-1 frame: a frame of another version
/// (`#M2M|<digits>|`) or no frame at all.
fn not_v1(start: &[u8]) -> Error {
    let head = &start[..start.len().min(prefix::MAX_LEN + 24)];
    match crate::codec::WireKind::of(&String::from_utf8_lossy(head)) {
        crate::codec::WireKind::Frame(version) => Error::UnsupportedVersion {
            version: version.to_owned(),
        },
        _ => Error::InvalidPrefix {
            expected: prefix::FRAME_V1,
        },
    }
}

/// The frame bytes `F` of a binary frame (after its prefix).
fn body(frame: &[u8]) -> Result<&[u8]> {
    check_message_size(frame.len())?;
    frame
        .strip_prefix(prefix::FRAME_V1.as_bytes())
        .ok_or_else(|| not_v1(frame))
}

/// The frame bytes of a text frame, base64-decoded.
fn text_body(wire: &str) -> Result<Vec<u8>> {
    check_message_size(wire.len())?;
    let b64 = wire
        .strip_prefix(prefix::FRAME_V1)
        .ok_or_else(|| not_v1(wire.as_bytes()))?;
    base64::decode(b64)
}

/// Reads the header of a binary frame without checking or decompressing
/// anything after it, and without a key (the header is readable in every
/// mode; only a receiver holding the key can trust it).
///
/// # Errors
/// [`Error::InvalidPrefix`], [`Error::InvalidFrame`].
pub fn inspect(frame: &[u8]) -> Result<Header> {
    header::parse(body(frame)?)
}

/// As [`inspect`], for the text form.
///
/// # Errors
/// As [`inspect`], and [`Error::InvalidBase64`].
pub fn inspect_text(wire: &str) -> Result<Header> {
    header::parse(&text_body(wire)?)
}

/// Decodes a binary frame to its JSON text, refusing any frame whose mode is
/// not the one required.
///
/// # Errors
/// [`Error::InvalidPrefix`], [`Error::InvalidFrame`], [`Error::SecurityViolation`]
/// (a mode other than the required one), [`Error::AuthenticationFailed`] (a
/// tag that does not verify: altered bytes or a wrong key), [`Error::InvalidKey`],
/// [`Error::DecompressionFailed`], [`Error::ContentTooLarge`],
/// [`Error::InvalidUtf8`], [`Error::ChecksumMismatch`].
pub fn decode(frame: &[u8], require: Require<'_>) -> Result<String> {
    decode_body(body(frame)?, require)
}

/// As [`decode`], for the text form.
///
/// # Errors
/// As [`decode`], and [`Error::InvalidBase64`].
pub fn decode_text(wire: &str, require: Require<'_>) -> Result<String> {
    decode_body(&text_body(wire)?, require)
}

fn decode_body(f: &[u8], require: Require<'_>) -> Result<String> {
    let head = header::parse(f)?;
    if head.security != require.mode() {
        return Err(Error::SecurityViolation {
            required: require.mode().name(),
            found: head.security.name().to_owned(),
        });
    }
    match require {
        Require::None => payload(&head, &f[head.header_len..]),
        Require::Hmac(key) => {
            let mut mac = hmac_with(key)?;
            let signed_len = f
                .len()
                .checked_sub(HMAC_TAG_LEN)
                .filter(|&n| n >= head.header_len)
                .ok_or_else(|| invalid("the frame is too short for its HMAC tag"))?;
            mac.update(&f[..signed_len]);
            mac.verify_slice(&f[signed_len..])
                .map_err(|_| Error::AuthenticationFailed { mode: "hmac" })?;
            payload(&head, &f[head.header_len..signed_len])
        }
        Require::Aead(key) => {
            let cipher = aead_with(key)?;
            let rest = &f[head.header_len..];
            if rest.len() < AEAD_NONCE_LEN + AEAD_TAG_LEN {
                return Err(invalid("the frame is too short for its nonce and tag"));
            }
            let (nonce, sealed) = rest.split_at(AEAD_NONCE_LEN);
            let mut section = sealed.to_vec();
            cipher
                .decrypt_in_place(nonce.into(), &f[..head.header_len], &mut section)
                .map_err(|_| Error::AuthenticationFailed { mode: "aead" })?;
            payload(&head, &section)
        }
    }
}

/// Checks and decodes a payload section: `payload_len`, CRC, payload, and
/// nothing after it.
fn payload(head: &Header, section: &[u8]) -> Result<String> {
    if section.len() < PAYLOAD_HEAD_LEN {
        return Err(invalid("the frame ends inside its payload length and CRC"));
    }
    let len = u32::from_le_bytes([section[0], section[1], section[2], section[3]]) as usize;
    let crc = u32::from_le_bytes([section[4], section[5], section[6], section[7]]);
    let data = &section[PAYLOAD_HEAD_LEN..];
    if data.len() != len {
        return Err(Error::InvalidFrame {
            detail: format!(
                "the payload length says {len} bytes, the frame has {}",
                data.len()
            ),
        });
    }
    let bytes = if head.compressed() {
        brotli::decompress(data)?
    } else {
        if data.len() > MAX_DECOMPRESSED_BYTES {
            return Err(Error::ContentTooLarge {
                limit: "decompressed size",
                max: MAX_DECOMPRESSED_BYTES,
                actual: data.len(),
            });
        }
        data.to_vec()
    };
    let actual = crc32fast::hash(&bytes);
    if actual != crc {
        return Err(Error::ChecksumMismatch {
            expected: crc,
            actual,
        });
    }
    String::from_utf8(bytes).map_err(|e| Error::InvalidUtf8 {
        valid_up_to: e.utf8_error().valid_up_to(),
    })
}
