//! Finding the bytes that text must escape, eight at a time.
//!
//! Every response's XML text and every audit record's JSON strings are
//! scanned for the few bytes their format escapes; nearly all text has none.
//! A word of eight bytes is tested for any of them in a dozen arithmetic
//! steps (the classic "has a zero byte" test, which is exact for whether a
//! word holds one, if not for where), and only a word that holds one is
//! looked at byte by byte.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Non-zero exactly when a byte of `word` is zero (which bits are set says
/// no more than that).
const fn zero_mask(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// Non-zero exactly when a byte of `word` is below `bound` (at most 128).
const fn below_mask(word: u64, bound: u8) -> u64 {
    word.wrapping_sub(ONES * bound as u64) & !word & HIGHS
}

/// The bytes a format escapes: every byte below `below` (at most 128) and
/// the `N` listed. The byte-by-byte table and the eight-byte test both come
/// from this one description, so they cannot disagree.
#[derive(Debug)]
pub struct Specials<const N: usize> {
    bytes: [u8; N],
    below: u8,
    table: [bool; 256],
}

impl<const N: usize> Specials<N> {
    pub const fn new(bytes: [u8; N], below: u8) -> Self {
        let mut table = [false; 256];
        let mut b = 0;
        while b < below as usize {
            table[b] = true;
            b += 1;
        }
        let mut i = 0;
        while i < N {
            table[bytes[i] as usize] = true;
            i += 1;
        }
        Specials {
            bytes,
            below,
            table,
        }
    }

    /// Whether `b` is one of them.
    pub fn contains(&self, b: u8) -> bool {
        self.table[usize::from(b)]
    }

    /// Whether `word` holds one of them (exact). The tests are OR-ed, not
    /// short-circuited: a handful of arithmetic steps beat a branch each.
    #[inline]
    fn in_word(&self, word: u64) -> bool {
        let mut hits = below_mask(word, self.below);
        for &b in &self.bytes {
            hits |= zero_mask(word ^ (ONES * b as u64));
        }
        hits != 0
    }

    /// The position of the first of them in `text`. Inlined, so that the
    /// word test is built from a `static`'s bytes as constants.
    #[inline]
    pub fn first_in(&self, text: &[u8]) -> Option<usize> {
        let byte_by_byte = |part: &[u8]| part.iter().position(|&b| self.contains(b));
        let mut words = text.chunks_exact(8);
        let mut offset = 0;
        for chunk in &mut words {
            let word = <[u8; 8]>::try_from(chunk).map_or(u64::MAX, u64::from_le_bytes);
            if self.in_word(word)
                && let Some(at) = byte_by_byte(chunk)
            {
                return Some(offset + at);
            }
            offset += 8;
        }
        byte_by_byte(words.remainder()).map(|at| offset + at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn finds_what_a_byte_by_byte_scan_finds(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            listed in proptest::prelude::any::<[u8; 3]>(),
            below in 0u8..=128,
        ) {
            let specials = Specials::new(listed, below);
            let expected = bytes
                .iter()
                .position(|&b| b < below || listed.contains(&b));
            proptest::prop_assert_eq!(specials.first_in(&bytes), expected);
        }
    }

    #[test]
    fn every_position_of_every_byte_is_seen() {
        for byte in 0..=255u8 {
            let listed = Specials::new([byte], 0);
            let below = Specials::new([], 0x20);
            for at in 0..20 {
                let mut bytes = vec![b'a'; 20];
                bytes[at] = byte;
                let expected = if byte == b'a' { Some(0) } else { Some(at) };
                assert_eq!(listed.first_in(&bytes), expected);
                let expected = (byte < 0x20).then_some(at);
                assert_eq!(below.first_in(&bytes), expected);
            }
        }
    }
}
