//! The tokenizer vocabularies the protocol knows, and their ids on the wire.

use crate::error::{Error, Result};

/// A BPE vocabulary. Its wire ids are fixed by the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// OpenAI `cl100k_base` (GPT-3.5, GPT-4): wire `C`, byte 0.
    Cl100kBase,
    /// OpenAI `o200k_base` (GPT-4o, o1, o3): wire `O`, byte 1.
    O200kBase,
    /// Meta Llama 3 (128,000 ranks + 256 special tokens): wire `L`, byte 2.
    Llama3,
}

impl Encoding {
    /// Every encoding, in wire-byte order.
    pub const ALL: [Encoding; 3] = [Encoding::Cl100kBase, Encoding::O200kBase, Encoding::Llama3];

    /// The name used by the APIs: `cl100k_base`, `o200k_base`, `llama3`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Cl100kBase => "cl100k_base",
            Encoding::O200kBase => "o200k_base",
            Encoding::Llama3 => "llama3",
        }
    }

    /// The one-character id of the text wire form (`#TK|<id>|...`).
    pub fn wire_char(self) -> char {
        match self {
            Encoding::Cl100kBase => 'C',
            Encoding::O200kBase => 'O',
            Encoding::Llama3 => 'L',
        }
    }

    /// The leading byte of the binary wire form.
    pub fn wire_byte(self) -> u8 {
        self as u8
    }

    /// Its position in [`Encoding::ALL`], for tables with one entry per encoding.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Looks an encoding up by its API name.
    ///
    /// # Errors
    /// [`Error::UnknownTokenizer`] for any other name; there is no fallback.
    pub fn from_name(name: &str) -> Result<Encoding> {
        Encoding::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| Error::UnknownTokenizer {
                id: name.to_owned(),
            })
    }

    /// Looks an encoding up by its text wire id (`C`, `O`, `L`).
    ///
    /// # Errors
    /// [`Error::UnknownTokenizer`] for any other id.
    pub fn from_wire_id(id: &str) -> Result<Encoding> {
        Encoding::ALL
            .into_iter()
            .find(|e| id.len() == 1 && id.starts_with(e.wire_char()))
            .ok_or_else(|| Error::UnknownTokenizer { id: id.to_owned() })
    }

    /// Looks an encoding up by the leading byte of the binary form.
    ///
    /// # Errors
    /// [`Error::UnknownTokenizer`] for a byte other than 0, 1 or 2.
    pub fn from_wire_byte(byte: u8) -> Result<Encoding> {
        Encoding::ALL
            .into_iter()
            .find(|e| e.wire_byte() == byte)
            .ok_or_else(|| Error::UnknownTokenizer {
                id: format!("byte {byte}"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::Encoding;

    #[test]
    fn index_is_the_position_in_all_and_the_wire_byte() {
        for (i, e) in Encoding::ALL.into_iter().enumerate() {
            assert_eq!(e.index(), i);
            assert_eq!(usize::from(e.wire_byte()), i);
        }
    }
}
