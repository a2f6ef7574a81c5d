//! Keys for M2M frames and sessions: HKDF-SHA256 (RFC 5869, salt absent) over
//! the reference's `KeyHierarchy` paths, and X25519 (RFC 7748) agreement.
//!
//! One definition of each key: every path is derived from the master key
//! (the reference's `AgentKeyContext`, which derives other keys for the same
//! paths, is deliberately not offered). Rotating keys means deriving from a
//! new master (or a new org / session id) on both sides; nothing here keeps
//! state. The core draws no randomness: X25519 secrets come from the caller's
//! CSPRNG (`crypto.getRandomValues` in the TypeScript layer).

use hkdf::Hkdf;
use sha2::Sha256;

use crate::error::{Error, Result};

/// Length of every derived key, an X25519 secret, public key and shared secret.
pub const KEY_LEN: usize = 32;

/// The info string of the session keys derived from an X25519 shared secret.
pub const SESSION_INFO: &str = "m2m-session-v1";

/// Longest id accepted in a hierarchy path.
pub const MAX_ID_LEN: usize = 128;

/// HKDF-SHA256 with salt absent: `len` bytes of output keying material for
/// `info` from `ikm`.
///
/// # Errors
/// [`Error::InvalidOption`] when `len` is above 255 × 32 bytes (RFC 5869).
pub fn hkdf_sha256(ikm: &[u8], info: &[u8], len: usize) -> Result<Vec<u8>> {
    let mut out = vec![0u8; len];
    Hkdf::<Sha256>::new(None, ikm)
        .expand(info, &mut out)
        .map_err(|_| Error::InvalidOption {
            option: "length",
            detail: format!("HKDF-SHA256 gives at most {} bytes, asked {len}", 255 * 32),
        })?;
    Ok(out)
}

fn derive(master: &[u8], info: &str) -> [u8; KEY_LEN] {
    let mut out = [0u8; KEY_LEN];
    Hkdf::<Sha256>::new(None, master)
        .expand(info.as_bytes(), &mut out)
        .expect("32 bytes is within HKDF-SHA256's output limit");
    out
}

/// What a key of an agent is for (the last element of its path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `identity`.
    Identity,
    /// `encryption`.
    Encryption,
    /// `authentication`.
    Authentication,
    /// `session`.
    Session,
}

impl Purpose {
    /// Looks a purpose up by its path name.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for any other name.
    pub fn from_name(name: &str) -> Result<Purpose> {
        [
            Purpose::Identity,
            Purpose::Encryption,
            Purpose::Authentication,
            Purpose::Session,
        ]
        .into_iter()
        .find(|p| p.name() == name)
        .ok_or_else(|| Error::InvalidOption {
            option: "purpose",
            detail: format!(
                "expected identity, encryption, authentication or session, got {name:?}"
            ),
        })
    }

    /// Its path name.
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Identity => "identity",
            Purpose::Encryption => "encryption",
            Purpose::Authentication => "authentication",
            Purpose::Session => "session",
        }
    }
}

/// Fails unless `id` is 1 to 128 characters of `[A-Za-z0-9_-]`, the ids the
/// reference's validating constructors accept (so no id can forge a path).
fn check_id(what: &'static str, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            option: what,
            detail: format!("ids are 1 to {MAX_ID_LEN} characters of A-Z a-z 0-9 _ -, got {id:?}"),
        })
    }
}

/// Keys derived from an organisation's master key, one per `m2m/v1/...` path.
pub struct KeyHierarchy<'a> {
    master: &'a [u8],
    org: &'a str,
}

impl<'a> KeyHierarchy<'a> {
    /// A hierarchy over `master` (at least 32 bytes) for `org`.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] for a shorter master key; [`Error::InvalidOption`]
    /// for an invalid org id.
    pub fn new(master: &'a [u8], org: &'a str) -> Result<Self> {
        if master.len() < KEY_LEN {
            return Err(Error::InvalidKey {
                detail: format!(
                    "a master key needs at least {KEY_LEN} bytes, got {}",
                    master.len()
                ),
            });
        }
        check_id("org", org)?;
        Ok(KeyHierarchy { master, org })
    }

    /// `m2m/v1/{org}`.
    pub fn org_key(&self) -> [u8; KEY_LEN] {
        derive(self.master, &format!("m2m/v1/{}", self.org))
    }

    /// `m2m/v1/{org}/{agent}`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an invalid agent id.
    pub fn agent_key(&self, agent: &str) -> Result<[u8; KEY_LEN]> {
        check_id("agent", agent)?;
        Ok(derive(self.master, &format!("m2m/v1/{}/{agent}", self.org)))
    }

    /// `m2m/v1/{org}/{agent}/{purpose}`.
    ///
    /// # Errors
    /// As [`KeyHierarchy::agent_key`].
    pub fn purpose_key(&self, agent: &str, purpose: Purpose) -> Result<[u8; KEY_LEN]> {
        check_id("agent", agent)?;
        Ok(derive(
            self.master,
            &format!("m2m/v1/{}/{agent}/{}", self.org, purpose.name()),
        ))
    }

    /// `m2m/v1/{org}/session/{lo}:{hi}/{session_id}`, where `lo` and `hi` are
    /// the two agents in byte order, so both ends derive the same key.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an invalid agent or session id.
    pub fn session_key(&self, a: &str, b: &str, session_id: &str) -> Result<[u8; KEY_LEN]> {
        check_id("agent", a)?;
        check_id("agent", b)?;
        check_id("session", session_id)?;
        let (lo, hi) = if a.as_bytes() <= b.as_bytes() {
            (a, b)
        } else {
            (b, a)
        };
        Ok(derive(
            self.master,
            &format!("m2m/v1/{}/session/{lo}:{hi}/{session_id}", self.org),
        ))
    }

    /// `m2m/v1/{org}/shared`.
    pub fn shared_key(&self) -> [u8; KEY_LEN] {
        derive(self.master, &format!("m2m/v1/{}/shared", self.org))
    }
}

fn key32(what: &str, bytes: &[u8]) -> Result<[u8; KEY_LEN]> {
    bytes.try_into().map_err(|_| Error::InvalidKey {
        detail: format!("an X25519 {what} is {KEY_LEN} bytes, got {}", bytes.len()),
    })
}

/// The X25519 public key of a 32-byte secret (clamped as RFC 7748 says).
///
/// # Errors
/// [`Error::InvalidKey`] for a secret that is not 32 bytes.
pub fn x25519_public(secret: &[u8]) -> Result<[u8; KEY_LEN]> {
    Ok(x25519_dalek::x25519(
        key32("secret", secret)?,
        x25519_dalek::X25519_BASEPOINT_BYTES,
    ))
}

/// The X25519 shared secret of our secret and the peer's public key. Unlike
/// the reference, an all-zero result (a low-order peer key, which would make
/// the "shared" secret known to anyone) is refused.
///
/// # Errors
/// [`Error::InvalidKey`] for inputs that are not 32 bytes or a low-order peer key.
pub fn x25519_shared(secret: &[u8], peer_public: &[u8]) -> Result<[u8; KEY_LEN]> {
    let shared = x25519_dalek::x25519(key32("secret", secret)?, key32("public key", peer_public)?);
    if shared.iter().all(|&b| b == 0) {
        return Err(Error::InvalidKey {
            detail: "the peer's X25519 public key is of low order".to_owned(),
        });
    }
    Ok(shared)
}

/// The session key of an X25519 agreement: HKDF(shared, [`SESSION_INFO`]).
///
/// # Errors
/// As [`x25519_shared`].
pub fn x25519_session_key(secret: &[u8], peer_public: &[u8]) -> Result<[u8; KEY_LEN]> {
    Ok(derive(&x25519_shared(secret, peer_public)?, SESSION_INFO))
}

/// The key of one hierarchy path, named as the bindings receive it: `kind`
/// is `org`, `shared` (no ids), `agent` (`[agent]`), `purpose` (`[agent,
/// purpose]`) or `session` (`[agent, peer, session_id]`).
///
/// # Errors
/// The errors of [`KeyHierarchy`]'s methods, and [`Error::InvalidOption`] for
/// another kind or the wrong number of ids.
pub fn hierarchy_key(
    master: &[u8],
    org: &str,
    kind: &str,
    ids: &[String],
) -> Result<[u8; KEY_LEN]> {
    let h = KeyHierarchy::new(master, org)?;
    match (kind, ids) {
        ("org", []) => Ok(h.org_key()),
        ("shared", []) => Ok(h.shared_key()),
        ("agent", [agent]) => h.agent_key(agent),
        ("purpose", [agent, purpose]) => h.purpose_key(agent, Purpose::from_name(purpose)?),
        ("session", [a, b, sid]) => h.session_key(a, b, sid),
        _ => Err(Error::InvalidOption {
            option: "kind",
            detail: format!(
                "expected org, shared (no ids), agent (1), purpose (2) or session (3), got {kind:?} with {} ids",
                ids.len()
            ),
        }),
    }
}
