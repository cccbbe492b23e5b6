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
        self.0.ct_eq(&other.0)
    }
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
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (i, b) in bytes.iter().enumerate() {
            out[2 * i] = DIGITS[usize::from(b >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(b & 0x0f)];
        }
        Self(out)
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

/// Decodes exactly 64 hex digits (either case).
pub(crate) fn decode_hex32(s: &[u8]) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = (hex_val(pair[0])? << 4) | hex_val(pair[1])?;
    }
    Some(out)
}

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
}
