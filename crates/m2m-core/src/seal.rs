//! Sealing of session messages (DATA and HTTP request proofs) with the keys
//! of a session that negotiated security: ChaCha20-Poly1305 (RFC 8439) or
//! HMAC-SHA256, bound to a sequence number and associated data.
//!
//! ```text
//! nonce   = 0x00000000 || seq as u64 big-endian        (12 bytes)
//! aead    sealed = ChaCha20-Poly1305(key, nonce, plaintext, aad)   -> ciphertext || tag(16)
//! hmac    tag    = HMAC-SHA256(key, "m2m-seal-v1" || nonce || len(aad) u32 BE || aad || plaintext)
//! ```
//!
//! The nonce is the sequence number, so it never repeats under one key as
//! long as each direction of a session has its own key and never reuses a
//! number (the TypeScript layer derives one key per direction and counts up
//! from 1). Replay and reordering are the caller's to refuse: this module
//! only says whether a message is authentic for a given number.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::keys::KEY_LEN;
use crate::limits::MAX_DECOMPRESSED_BYTES;

/// Bytes of an HMAC-SHA256 tag.
pub const HMAC_TAG_LEN: usize = 32;
/// Bytes of a Poly1305 tag.
pub const AEAD_TAG_LEN: usize = 16;
/// Largest sequence number (2^53 - 1, so JavaScript numbers carry it exactly).
pub const MAX_SEQ: u64 = (1 << 53) - 1;

const HMAC_DOMAIN: &[u8] = b"m2m-seal-v1";

/// A sequence number as a JavaScript number carries it, checked to be a whole number in
/// `0..=MAX_SEQ` (the range itself is checked by [`seal`] and [`open`]).
///
/// # Errors
/// [`Error::InvalidOption`] for a fraction, a negative number or one above [`MAX_SEQ`].
pub fn seq_from_f64(seq: f64) -> Result<u64> {
    if seq.fract() != 0.0 || !(0.0..=MAX_SEQ as f64).contains(&seq) {
        return Err(Error::InvalidOption {
            option: "seq",
            detail: format!("sequence numbers are integers from 1 to {MAX_SEQ}, got {seq}"),
        });
    }
    Ok(seq as u64)
}

/// How a session seals its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealMode {
    /// Authenticated only: the plaintext stays readable, a tag travels beside it.
    Hmac,
    /// Encrypted and authenticated.
    Aead,
}

impl SealMode {
    /// `hmac` or `aead`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for any other name.
    pub fn from_name(name: &str) -> Result<SealMode> {
        match name {
            "hmac" => Ok(SealMode::Hmac),
            "aead" => Ok(SealMode::Aead),
            _ => Err(Error::InvalidOption {
                option: "mode",
                detail: format!("a session seals with hmac or aead, got {name:?}"),
            }),
        }
    }
}

fn check(key: &[u8], seq: u64, aad: &[u8], data: &[u8]) -> Result<()> {
    for (what, bytes) in [("associated data", aad), ("sealed message", data)] {
        if bytes.len() > MAX_DECOMPRESSED_BYTES + HMAC_TAG_LEN {
            return Err(Error::ContentTooLarge {
                limit: what,
                max: MAX_DECOMPRESSED_BYTES,
                actual: bytes.len(),
            });
        }
    }
    if key.len() != KEY_LEN {
        return Err(Error::InvalidKey {
            detail: format!("a session key is {KEY_LEN} bytes, got {}", key.len()),
        });
    }
    if seq == 0 || seq > MAX_SEQ {
        return Err(Error::InvalidOption {
            option: "seq",
            detail: format!("sequence numbers run from 1 to {MAX_SEQ}, got {seq}"),
        });
    }
    Ok(())
}

fn nonce(seq: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&seq.to_be_bytes());
    n
}

fn mac(key: &[u8], seq: u64, aad: &[u8], plaintext: &[u8]) -> Result<Hmac<Sha256>> {
    // Both are at most 16 MiB (checked by `check`).
    let aad_len = aad.len() as u32;
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|e| Error::InvalidKey {
        detail: e.to_string(),
    })?;
    m.update(HMAC_DOMAIN);
    m.update(&nonce(seq));
    m.update(&aad_len.to_be_bytes());
    m.update(aad);
    m.update(plaintext);
    Ok(m)
}

/// Seals `plaintext` as message number `seq`: for AEAD the ciphertext and
/// its tag, for HMAC the 32-byte tag alone (the plaintext travels as it is).
///
/// # Errors
/// [`Error::InvalidKey`] for a key that is not 32 bytes;
/// [`Error::InvalidOption`] for a sequence number of 0 or above [`MAX_SEQ`].
pub fn seal(mode: SealMode, key: &[u8], seq: u64, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    check(key, seq, aad, plaintext)?;
    match mode {
        SealMode::Hmac => Ok(mac(key, seq, aad, plaintext)?
            .finalize()
            .into_bytes()
            .to_vec()),
        SealMode::Aead => {
            let cipher = ChaCha20Poly1305::new_from_slice(key).map_err(|e| Error::InvalidKey {
                detail: e.to_string(),
            })?;
            let mut out = plaintext.to_vec();
            let tag = cipher
                .encrypt_in_place_detached(Nonce::from_slice(&nonce(seq)), aad, &mut out)
                .map_err(|_| Error::ContentTooLarge {
                    limit: "sealed message",
                    max: MAX_DECOMPRESSED_BYTES,
                    actual: plaintext.len(),
                })?;
            out.extend_from_slice(&tag);
            Ok(out)
        }
    }
}

/// Opens what [`seal`] made: for AEAD `sealed` is ciphertext and tag, for
/// HMAC the plaintext followed by its tag. Returns the plaintext.
///
/// # Errors
/// [`Error::AuthenticationFailed`] when the tag does not verify (altered
/// data, another sequence number or associated data, or the wrong key), and
/// the errors of [`seal`].
pub fn open(mode: SealMode, key: &[u8], seq: u64, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
    check(key, seq, aad, sealed)?;
    let failed = || Error::AuthenticationFailed { mode: "session" };
    match mode {
        SealMode::Hmac => {
            let split = sealed.len().checked_sub(HMAC_TAG_LEN).ok_or_else(failed)?;
            let (plaintext, tag) = sealed.split_at(split);
            mac(key, seq, aad, plaintext)?
                .verify_slice(tag)
                .map_err(|_| failed())?;
            Ok(plaintext.to_vec())
        }
        SealMode::Aead => {
            let split = sealed.len().checked_sub(AEAD_TAG_LEN).ok_or_else(failed)?;
            let (ciphertext, tag) = sealed.split_at(split);
            let cipher = ChaCha20Poly1305::new_from_slice(key).map_err(|e| Error::InvalidKey {
                detail: e.to_string(),
            })?;
            let mut out = ciphertext.to_vec();
            cipher
                .decrypt_in_place_detached(
                    Nonce::from_slice(&nonce(seq)),
                    aad,
                    &mut out,
                    Tag::from_slice(tag),
                )
                .map_err(|_| failed())?;
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn round_trips_and_refuses_every_change() {
        for mode in [SealMode::Hmac, SealMode::Aead] {
            let sealed = seal(mode, &KEY, 5, b"aad", b"hello").unwrap();
            let body = if mode == SealMode::Hmac {
                [b"hello".as_slice(), &sealed].concat()
            } else {
                sealed.clone()
            };
            assert_eq!(open(mode, &KEY, 5, b"aad", &body).unwrap(), b"hello");
            let fails = |r: Result<Vec<u8>>| matches!(r, Err(Error::AuthenticationFailed { .. }));
            assert!(fails(open(mode, &KEY, 6, b"aad", &body)), "other seq");
            assert!(fails(open(mode, &KEY, 5, b"aaD", &body)), "other aad");
            assert!(fails(open(mode, &[8; 32], 5, b"aad", &body)), "other key");
            for i in 0..body.len() {
                let mut t = body.clone();
                t[i] ^= 1;
                assert!(fails(open(mode, &KEY, 5, b"aad", &t)), "byte {i}");
            }
            assert!(fails(open(mode, &KEY, 5, b"aad", &body[..3])), "truncated");
        }
    }

    #[test]
    fn aead_is_rfc8439_with_the_sequence_number_as_nonce() {
        // Same key, nonce and aad through the crate directly.
        let sealed = seal(SealMode::Aead, &KEY, 1, b"a", b"xyz").unwrap();
        let cipher = ChaCha20Poly1305::new_from_slice(&KEY).unwrap();
        let mut n = [0u8; 12];
        n[11] = 1;
        let mut buf = b"xyz".to_vec();
        let tag = cipher
            .encrypt_in_place_detached(Nonce::from_slice(&n), b"a", &mut buf)
            .unwrap();
        buf.extend_from_slice(&tag);
        assert_eq!(sealed, buf);
    }

    #[test]
    fn refuses_bad_keys_and_numbers() {
        assert!(matches!(
            seal(SealMode::Hmac, &[1; 16], 1, b"", b""),
            Err(Error::InvalidKey { .. })
        ));
        for seq in [0, MAX_SEQ + 1] {
            assert!(matches!(
                seal(SealMode::Aead, &KEY, seq, b"", b""),
                Err(Error::InvalidOption { .. })
            ));
        }
        assert!(SealMode::from_name("none").is_err());
    }
}
