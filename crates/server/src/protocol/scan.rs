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

/// Whether any byte of `word` is zero.
const fn has_zero(word: u64) -> bool {
    word.wrapping_sub(ONES) & !word & HIGHS != 0
}

/// Whether any byte of `word` is `byte`.
pub const fn has_byte(word: u64, byte: u8) -> bool {
    has_zero(word ^ (ONES * byte as u64))
}

/// Whether any byte of `word` is below `bound` (at most 128).
pub const fn has_below(word: u64, bound: u8) -> bool {
    word.wrapping_sub(ONES * bound as u64) & !word & HIGHS != 0
}

/// The position of the first byte of `bytes` that `special` marks.
/// `word_may_hold` must answer true for every word that holds such a byte.
pub fn first_special(
    bytes: &[u8],
    special: &[bool; 256],
    word_may_hold: impl Fn(u64) -> bool,
) -> Option<usize> {
    let byte_by_byte = |part: &[u8]| part.iter().position(|&b| special[usize::from(b)]);
    let mut words = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut words {
        let word = <[u8; 8]>::try_from(chunk).map_or(u64::MAX, u64::from_le_bytes);
        if word_may_hold(word)
            && let Some(at) = byte_by_byte(chunk)
        {
            return Some(offset + at);
        }
        offset += 8;
    }
    byte_by_byte(words.remainder()).map(|at| offset + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn finds_what_a_byte_by_byte_scan_finds(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            specials in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..4),
            below in 0u8..=128,
        ) {
            let mut table = [false; 256];
            for (b, slot) in table.iter_mut().enumerate() {
                *slot = b < usize::from(below) || specials.iter().any(|&s| usize::from(s) == b);
            }
            let expected = bytes.iter().position(|&b| table[usize::from(b)]);
            let found = first_special(&bytes, &table, |word| {
                has_below(word, below) || specials.iter().any(|&s| has_byte(word, s))
            });
            proptest::prop_assert_eq!(found, expected);
        }
    }

    #[test]
    fn every_position_of_every_byte_is_seen() {
        for byte in 0..=255u8 {
            for at in 0..20 {
                let mut bytes = vec![b'a'; 20];
                bytes[at] = byte;
                let mut table = [false; 256];
                table[usize::from(byte)] = true;
                let expected = if byte == b'a' { Some(0) } else { Some(at) };
                assert_eq!(
                    first_special(&bytes, &table, |w| has_byte(w, byte)),
                    expected
                );
                if byte < 0x20 {
                    let mut below = [false; 256];
                    below[..0x20].fill(true);
                    assert_eq!(
                        first_special(&bytes, &below, |w| has_below(w, 0x20)),
                        Some(at)
                    );
                }
            }
        }
    }
}
