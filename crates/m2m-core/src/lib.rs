//! # m2m-core
//!
//! The Rust core of m2m, an implementation of the M2M Protocol: token-space
//! compression for machine-to-machine LLM traffic. This crate holds all of the
//! logic; the Node addon (`m2m-napi`) and the WebAssembly module (`m2m-wasm`)
//! only convert types and errors around it.
//!
//! ```
//! use m2m_core::{token_native, Encoding};
//!
//! let wire = token_native::pack_text(Encoding::Cl100kBase, &[9906, 1917]).unwrap();
//! assert_eq!(wire, "#TK|C|sk39Dg==");
//! let back = token_native::unpack_text(&wire).unwrap();
//! assert_eq!(back.ids, vec![9906, 1917]);
//! ```
//!
//! Every failure is an [`Error`] with a stable [`Error::code`].
#![deny(missing_docs)]

pub mod base64;
pub mod base85;
pub mod bpe;
pub mod classifier;
pub mod codec;
pub mod encoding;
pub mod error;
pub mod frame;
pub mod keys;
pub mod limits;
pub mod seal;
pub mod token_native;
pub mod utf16;
pub mod varint;

pub use encoding::Encoding;
pub use error::{Error, Result};
pub use token_native::TokenIds;

#[cfg(test)]
mod tests;
