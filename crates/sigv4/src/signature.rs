//! A SigV4 signature: 32 bytes of HMAC-SHA256, written as 64 lowercase hex
//! digits.
//!
//! [`Signature`] has no `PartialEq`: the only comparison offered is
//! [`ConstantTimeEq`], so a verifier cannot leak through timing how many
//! leading bytes of a forged signature were right.

use std::fmt;

use subtle::{Choice, ConstantTimeEq};

/// An HMAC-SHA256 signature.
#[derive(Clone, Copy)]
pub struct Signature([u8; 32]);

impl Signature {
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses 64 hex digits (either case), as found in `Signature=` or
    /// `X-Amz-Signature`.
    #[must_use]
    pub fn from_hex(s: &str) -> Option<Self> {
        decode_hex32(s.as_bytes()).map(Self)
    }

    /// The raw bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The wire form: 64 lowercase hex digits.
    #[must_use]
    pub fn to_hex(&self) -> HexBuf {
        HexBuf::of(&self.0)
    }
}

impl ConstantTimeEq for Signature {
    fn ct_eq(&self, other: &Self) -> Choice {
        ct_eq32(&self.0, &other.0)
    }
}

/// Constant-time equality of two 32-byte values (see [`word_diff`]).
pub(crate) fn ct_eq32(a: &[u8; 32], b: &[u8; 32]) -> Choice {
    word_diff(a, b).ct_eq(&0)
}

/// Constant-time equality of two byte strings: every byte of both is read,
/// so the time depends on the lengths only. Strings of different lengths
/// are unequal without a look at their bytes (a secret's length is not
/// secret).
pub(crate) fn ct_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(word_diff(a, b).ct_eq(&0))
}

/// The differences of two equally long byte strings ORed together eight
/// bytes a step: zero exactly when they are equal. Its caller makes one
/// `subtle` comparison of the result: `subtle` pays an optimisation barrier
/// and a mask per element it compares, and this way pays one.
#[inline]
fn word_diff(a: &[u8], b: &[u8]) -> u64 {
    let word = |c: &[u8]| c.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w));
    // The last zero to seven bytes one at a time: a copy of a length known
    // only at run time into a word would be a `memcpy` call (two per
    // comparison, on the signing-key cache's hot path).
    let tail = |c: &[u8]| c.iter().rev().fold(0u64, |w, &b| (w << 8) | u64::from(b));
    let mut diff = 0u64;
    let (mut wa, mut wb) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut wa).zip(&mut wb) {
        diff |= word(x) ^ word(y);
    }
    diff | (tail(wa.remainder()) ^ tail(wb.remainder()))
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_hex().as_str())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

/// 64 lowercase hex digits on the stack, so hashing a digest into text
/// needs no allocation.
#[derive(Clone, Copy)]
pub struct HexBuf([u8; 64]);

impl HexBuf {
    pub(crate) fn of(bytes: &[u8; 32]) -> Self {
        let mut out = [0u8; 64];
        hex_into(&mut out, bytes);
        Self(out)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// The hex text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Debug for HexBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Writes the lowercase hex of `bytes` into `out` (twice as long).
pub(crate) fn hex_into(out: &mut [u8], bytes: &[u8; 32]) {
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
}

/// The two lowercase hex digits of each byte: one load per byte. (Measured
/// against eight digits a step in a word: the table is faster.)
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
        i += 1;
    }
    t
};

pub(crate) use crate::swar::decode_hex32;

pub(crate) fn hex_val(c: u8) -> Option<u8> {
    match HEX_VALUES[usize::from(c)] {
        0xff => None,
        v => Some(v),
    }
}

/// The value of each hex digit, 0xff for every other byte: one load per
/// digit on the path every request takes.
const HEX_VALUES: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_constant_time_compare() {
        let text = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let a = Signature::from_hex(text).unwrap();
        assert_eq!(a.to_string(), text);
        let b = Signature::from_hex(&text.to_uppercase()).unwrap();
        assert!(bool::from(a.ct_eq(&b)));
        let mut other = *a.as_bytes();
        other[31] ^= 1;
        assert!(!bool::from(a.ct_eq(&Signature::from_bytes(other))));
    }

    #[test]
    fn rejects_wrong_length_or_non_hex() {
        assert!(Signature::from_hex("").is_none());
        assert!(Signature::from_hex(&"a".repeat(63)).is_none());
        assert!(Signature::from_hex(&"a".repeat(65)).is_none());
        assert!(Signature::from_hex(&"g".repeat(64)).is_none());
    }

    #[test]
    fn a_difference_in_any_byte_is_seen() {
        let a = [0x5au8; 32];
        assert!(bool::from(ct_eq32(&a, &a)));
        for i in 0..32 {
            for bit in [0x01, 0x80] {
                let mut b = a;
                b[i] ^= bit;
                assert!(!bool::from(ct_eq32(&a, &b)), "byte {i} bit {bit:#x}");
            }
        }
    }

    #[test]
    fn byte_string_compare_sees_every_difference() {
        // Every length up to three words and a tail, every position, every
        // single-bit and whole-byte difference; and lengths that differ.
        for len in 0..30usize {
            let a: Vec<u8> = (0..len).map(|i| (i * 73 + 11) as u8).collect();
            assert!(ct_eq_bytes(&a, &a.clone()));
            for i in 0..len {
                for flip in [0x01u8, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff] {
                    let mut b = a.clone();
                    b[i] ^= flip;
                    assert!(!ct_eq_bytes(&a, &b), "{len} {i} {flip:#x}");
                    assert!(!ct_eq_bytes(&b, &a), "{len} {i} {flip:#x}");
                }
            }
            let mut longer = a.clone();
            longer.push(0);
            assert!(!ct_eq_bytes(&a, &longer));
            assert!(!ct_eq_bytes(&longer, &a));
        }
        assert!(!ct_eq_bytes(b"", b"\0"));
    }

    #[test]
    fn a_bad_digit_anywhere_is_refused() {
        let good = "0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789abcdef0123";
        assert!(decode_hex32(good.as_bytes()).is_some());
        for i in 0..64 {
            for bad in [b'g', b'G', b'/', b':', b'@', b'`', b' ', 0x80, 0xff] {
                let mut b = good.as_bytes().to_vec();
                b[i] = bad;
                assert!(decode_hex32(&b).is_none(), "{i} {bad}");
            }
        }
        let bytes: [u8; 32] = core::array::from_fn(|i| (i * 37) as u8);
        let mut text = [0u8; 64];
        hex_into(&mut text, &bytes);
        assert_eq!(decode_hex32(&text), Some(bytes));
    }

    #[test]
    fn hex_encoding_agrees_with_format_for_every_byte_in_every_place() {
        for v in 0..=255u8 {
            for at in 0..32 {
                let mut bytes: [u8; 32] = core::array::from_fn(|i| (i * 59 + 7) as u8);
                bytes[at] = v;
                let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(HexBuf::of(&bytes).as_str(), expected, "{v} {at}");
            }
        }
    }
}
