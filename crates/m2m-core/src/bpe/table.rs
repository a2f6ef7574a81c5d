//! The token → rank lookup table: open addressing over the token bytes that
//! the tokenizer keeps anyway (no per-token allocation).

/// Multiplier of the FxHash family (as in rustc's hasher).
const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
const EMPTY: u64 = u64::MAX;

/// Hashes a byte string, 8 bytes per step (FxHash-like, plus the length).
#[inline]
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    #[inline(always)]
    fn add(h: u64, word: u64) -> u64 {
        (h.rotate_left(5) ^ word).wrapping_mul(K)
    }
    let mut h = add(0, bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = add(
            h,
            u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        );
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = add(h, u64::from_le_bytes(buf));
    }
    // One more mixing round: the table index is taken from the high bits.
    add(h, 0x9e37_79b9_7f4a_7c15)
}

/// Maps token bytes to their rank. Each slot holds the upper 32 bits of the
/// key's hash (a tag that rejects nearly all mismatches without touching the
/// token bytes) and the rank.
pub(crate) struct RankTable {
    slots: Vec<u64>,
    shift: u32,
}

impl RankTable {
    /// Builds the table over ranks `0..offsets.len() - 1`. Returns the first
    /// duplicate rank if two ranks have the same bytes.
    pub(crate) fn build(bytes: &[u8], offsets: &[u32]) -> Result<RankTable, u32> {
        let n = offsets.len() - 1;
        // Load factor at most 1/2.
        let bits = (usize::BITS - (n.max(1) * 2 - 1).leading_zeros()).max(4);
        let mut table = RankTable {
            slots: vec![EMPTY; 1usize << bits],
            shift: 64 - bits,
        };
        let mask = table.slots.len() - 1;
        for rank in 0..n {
            let key = &bytes[offsets[rank] as usize..offsets[rank + 1] as usize];
            let h = hash_bytes(key);
            let tag = h >> 32;
            let mut i = (h >> table.shift) as usize;
            loop {
                let slot = table.slots[i];
                if slot == EMPTY {
                    table.slots[i] = (tag << 32) | rank as u64;
                    break;
                }
                if slot >> 32 == tag {
                    let other = slot as u32 as usize;
                    if &bytes[offsets[other] as usize..offsets[other + 1] as usize] == key {
                        return Err(rank as u32);
                    }
                }
                i = (i + 1) & mask;
            }
        }
        Ok(table)
    }

    /// The rank of `key`, if it is a token.
    #[inline]
    pub(crate) fn get(&self, bytes: &[u8], offsets: &[u32], key: &[u8]) -> Option<u32> {
        let h = hash_bytes(key);
        let tag = h >> 32;
        let mask = self.slots.len() - 1;
        let mut i = (h >> self.shift) as usize;
        loop {
            let slot = self.slots[i];
            if slot == EMPTY {
                return None;
            }
            if slot >> 32 == tag {
                let rank = slot as u32;
                let r = rank as usize;
                if &bytes[offsets[r] as usize..offsets[r + 1] as usize] == key {
                    return Some(rank);
                }
            }
            i = (i + 1) & mask;
        }
    }
}
