//! Parser of the binary rank files written by `scripts/gen-ranks.mjs`.
//!
//! # Format (version 1)
//!
//! All integers are little-endian; `varint` is unsigned LEB128.
//!
//! | field      | type            | meaning                                        |
//! |------------|-----------------|------------------------------------------------|
//! | magic      | 4 bytes         | `M2MB`                                         |
//! | version    | `u8`            | `1`                                            |
//! | name_len   | `u8`            | length of the name that follows                |
//! | name       | ASCII           | encoding name, e.g. `cl100k_base`              |
//! | rank_count | `u32`           | N; the ranks are exactly `0..N`                |
//! | spec_count | `u32`           | S                                              |
//! | N × token  | varint + bytes  | byte length, then the token's bytes, rank order |
//! | S × special| `u32` + varint + bytes | id, byte length, UTF-8 text, id order   |
//!
//! Nothing may follow the last special token. A file is accepted only if its
//! SHA-256 equals the constant kept for its encoding in [`super`] (checked
//! before parsing), so a wrong or stale file is a typed error, never a
//! tokenizer that silently produces other ids.

use crate::error::{Error, Result};
use crate::Encoding;

/// The parsed content of a rank file.
pub(crate) struct RankData {
    /// All rank tokens, concatenated in rank order.
    pub bytes: Vec<u8>,
    /// `offsets[r]..offsets[r + 1]` is the slice of `bytes` of rank `r`.
    pub offsets: Vec<u32>,
    /// Special tokens, `(id, text)`, in id order.
    pub specials: Vec<(u32, String)>,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    encoding: Encoding,
}

impl<'a> Reader<'a> {
    fn corrupt(&self, detail: impl Into<String>) -> Error {
        Error::RankDataCorrupt {
            encoding: self.encoding.name(),
            detail: format!("{} (at byte {})", detail.into(), self.pos),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.data.len() - self.pos < n {
            return Err(self.corrupt("unexpected end of data"));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn varint(&mut self) -> Result<usize> {
        let mut value: usize = 0;
        for shift in (0..28).step_by(7) {
            let b = self.u8()?;
            value |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.corrupt("length varint too long"))
    }
}

/// Parses a rank file (its checksum has already been verified).
pub(crate) fn parse(encoding: Encoding, data: &[u8]) -> Result<RankData> {
    let mut r = Reader {
        data,
        pos: 0,
        encoding,
    };
    if r.take(4)? != b"M2MB" {
        return Err(r.corrupt("bad magic (expected \"M2MB\")"));
    }
    let version = r.u8()?;
    if version != 1 {
        return Err(r.corrupt(format!("unsupported format version {version}")));
    }
    let name_len = r.u8()? as usize;
    let name = r.take(name_len)?;
    if name != encoding.name().as_bytes() {
        return Err(r.corrupt(format!(
            "file is for encoding {:?}",
            String::from_utf8_lossy(name)
        )));
    }
    let rank_count = r.u32()? as usize;
    let special_count = r.u32()? as usize;
    // Every rank needs at least two bytes: bound the allocations by the input.
    if rank_count > data.len() / 2 || special_count > data.len() {
        return Err(r.corrupt("counts exceed the data size"));
    }
    let mut bytes = Vec::with_capacity(data.len());
    let mut offsets = Vec::with_capacity(rank_count + 1);
    offsets.push(0u32);
    for _ in 0..rank_count {
        let len = r.varint()?;
        if len == 0 {
            return Err(r.corrupt("empty token"));
        }
        bytes.extend_from_slice(r.take(len)?);
        offsets.push(bytes.len() as u32);
    }
    let mut specials = Vec::with_capacity(special_count);
    let mut last_id: Option<u32> = None;
    for _ in 0..special_count {
        let id = r.u32()?;
        if (id as usize) < rank_count || last_id.map_or(false, |last| id <= last) {
            return Err(r.corrupt(format!("special token id {id} out of order")));
        }
        last_id = Some(id);
        let len = r.varint()?;
        let text = std::str::from_utf8(r.take(len)?)
            .map_err(|_| r.corrupt("special token is not UTF-8"))?
            .to_owned();
        specials.push((id, text));
    }
    if r.pos != data.len() {
        return Err(r.corrupt("trailing bytes"));
    }
    bytes.shrink_to_fit();
    Ok(RankData {
        bytes,
        offsets,
        specials,
    })
}
