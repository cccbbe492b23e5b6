//! Eight bytes at a time in a `u64` ("SIMD within a register"), for the few
//! scans every request goes through: finding the separators of the
//! `Authorization` header and decoding its hex signature. Safe code only;
//! each function is checked against a byte-by-byte definition in the tests.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The eight bytes at `at` as a little-endian word (first byte lowest).
#[inline]
pub(crate) fn word(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// `0x80` in each byte of `x` that equals `b`, `0` in the others (exact: no
/// borrow crosses bytes).
#[inline]
pub(crate) fn eq_mask(x: u64, b: u8) -> u64 {
    let y = x ^ (ONES * u64::from(b));
    !(((y & LOW7) + LOW7) | y | LOW7)
}

/// `0x80` in each byte `c` of `x` with `lo < c < hi`, for bytes below
/// `0x80` (callers reject the others); `hi <= 0x80`.
#[inline]
pub(crate) fn between_mask(x: u64, lo: u8, hi: u8) -> u64 {
    let low = x & LOW7;
    (ONES * (127 + u64::from(hi)) - low) & !x & (low + ONES * (127 - u64::from(lo))) & HIGH
}

/// The index of the first byte of `x` whose mask bit is set.
#[inline]
pub(crate) fn first(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// `a == b`, compared a word at a time inline: slice equality calls
/// `memcmp` for lengths not known at compile time, and every request
/// compares a few short strings (the signing-key cache's id, the region,
/// the service). Not constant-time: none of them is secret.
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        // At most seven bytes; no early exit, no call.
        return a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0;
    }
    let mut diff = 0u64;
    let mut at = 0;
    while at + 8 < n {
        diff |= word(a, at).unwrap_or(0) ^ word(b, at).unwrap_or(0);
        at += 8;
    }
    // The last eight bytes, overlapping the word before.
    diff |= word(a, n - 8).unwrap_or(0) ^ word(b, n - 8).unwrap_or(0);
    diff == 0
}

/// Where `b` first occurs in `hay`.
pub(crate) fn find(hay: &[u8], b: u8) -> Option<usize> {
    let mut at = 0;
    while let Some(x) = word(hay, at) {
        let m = eq_mask(x, b);
        if m != 0 {
            return Some(at + first(m));
        }
        at += 8;
    }
    hay.get(at..)?.iter().position(|&c| c == b).map(|i| at + i)
}

/// Where the first `,` of `rest` is, when every byte before it is visible
/// ASCII other than an upper-case letter and no two `;` touch (the signed
/// header names of an `Authorization` header); `None` otherwise, and when
/// fewer than eight bytes follow the comma's word (the signature must).
pub(crate) fn signed_headers_end(rest: &[u8]) -> Option<usize> {
    let mut at = 0;
    // The `;` bit of the last byte of the word before, in the first byte.
    let mut carry = 0u64;
    loop {
        let x = word(rest, at)?;
        let comma = eq_mask(x, b',');
        // Only the bytes before the first comma count. (`below`'s borrow
        // only reaches bytes after a byte below `!`, itself a fault when it
        // counts.)
        let before = if comma == 0 {
            u64::MAX
        } else {
            (comma & comma.wrapping_neg()) - 1
        };
        let semis = eq_mask(x, b';');
        let high = x & HIGH;
        let bad = high
            | (x.wrapping_sub(ONES * 0x21) & !x & HIGH)
            | eq_mask(x, 0x7f)
            | between_mask(x & LOW7, b'A' - 1, b'Z' + 1) & !high
            | (semis & ((semis >> 8) | carry));
        if bad & before & HIGH != 0 {
            return None;
        }
        if comma != 0 {
            return Some(at + first(comma));
        }
        carry = semis >> 56;
        at += 8;
    }
}

/// Whether `v` has a byte below `0x20` (tab, CR, LF or another control) or
/// two spaces in a row: a header value without either, and without a space
/// at either end, is its own canonical form. Eight bytes a step, the last
/// step overlapping the one before, so short values have no byte-by-byte
/// tail.
pub(crate) fn has_control_or_double_space(v: &[u8]) -> bool {
    let len = v.len();
    if len < 8 {
        let mut previous = 0u8;
        let mut found = false;
        for &c in v {
            found |= (c < 0x20) | ((c == b' ') & (previous == b' '));
            previous = c;
        }
        return found;
    }
    // `below` is exact for whether any byte is below 0x20; `pairs` for
    // whether two spaces touch, within a word or across from the word before.
    let mut below = 0u64;
    let mut pairs = 0u64;
    // The space bit of the last byte of the word before, in the first byte.
    let mut carry = 0u64;
    let mut step = |x: u64, carry: u64| {
        below |= x.wrapping_sub(ONES * 0x20) & !x;
        let space = eq_mask(x, b' ');
        pairs |= space & ((space >> 8) | carry);
        space >> 56
    };
    let mut at = 0;
    while let Some(x) = word(v, at) {
        carry = step(x, carry);
        at += 8;
    }
    if at < len {
        // The last eight bytes: the pair across from the word before lies
        // within that word, so no carry.
        step(word(v, len - 8).unwrap_or(0), 0);
    }
    (below | pairs) & HIGH != 0
}

/// Decodes exactly 64 hex digits (either case).
pub(crate) fn decode_hex32(s: &[u8]) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u64;
    for (i, o) in out.chunks_exact_mut(4).enumerate() {
        let x = word(s, 8 * i)?;
        bad |= x & HIGH;
        let folded = x | (ONES * 0x20); // `A`-`F` to `a`-`f`
        let digit = between_mask(x, b'0' - 1, b'9' + 1);
        let letter = between_mask(folded, b'a' - 1, b'f' + 1);
        bad |= !(digit | letter) & HIGH;
        // Digits are their low nibble; letters their low nibble + 9.
        let v = (x & (ONES * 0x0f)) + (letter >> 7) * 9;
        // Nibble pairs into bytes, then the four bytes together.
        let v = ((v << 4) | (v >> 8)) & 0x00ff_00ff_00ff_00ff;
        let v = (v | (v >> 8)) & 0x0000_ffff_0000_ffff;
        let v = (v | (v >> 16)) & 0xffff_ffff;
        o.copy_from_slice(&v.to_le_bytes()[..4]);
    }
    (bad == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_of(x: u64) -> [u8; 8] {
        x.to_le_bytes()
    }

    #[test]
    fn masks_match_their_bytewise_definitions() {
        // Every byte value in every lane, next to neighbours that could
        // borrow or carry into it.
        for v in 0..=255u8 {
            for fill in [0x00u8, 0x2c, 0x7f, 0x80, 0xff] {
                for lane in 0..8 {
                    let mut b = [fill; 8];
                    b[lane] = v;
                    let x = u64::from_le_bytes(b);
                    let eq = bytes_of(eq_mask(x, b','));
                    for (i, &c) in b.iter().enumerate() {
                        assert_eq!(eq[i] == 0x80, c == b',', "{b:?}");
                        assert!(eq[i] == 0 || eq[i] == 0x80);
                    }
                    if b.iter().all(|&c| c < 0x80) {
                        let m = bytes_of(between_mask(x, b'0' - 1, b'9' + 1));
                        for (i, &c) in b.iter().enumerate() {
                            assert_eq!(m[i] == 0x80, c.is_ascii_digit(), "{b:?}");
                            assert!(m[i] == 0 || m[i] == 0x80);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn control_and_double_space_check_agrees_with_its_definition() {
        let reference = |v: &[u8]| v.iter().any(|&c| c < 0x20) || v.windows(2).any(|w| w == b"  ");
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + (i % 26)).collect();
        for len in 0..base.len() {
            for at in 0..len {
                for (first, second) in [
                    (b' ', b' '),
                    (b' ', b'x'),
                    (b'\t', b'x'),
                    (0x1f, b'x'),
                    (0x20, 0x20),
                    (0x80, b' '),
                    (0xa0, 0xa0),
                    (0xff, 0x7f),
                ] {
                    let mut v = base[..len].to_vec();
                    v[at] = first;
                    if at + 1 < len {
                        v[at + 1] = second;
                    }
                    assert_eq!(has_control_or_double_space(&v), reference(&v), "{v:?}");
                }
            }
            assert!(!has_control_or_double_space(&base[..len]));
        }
    }

    #[test]
    fn signed_header_scan_agrees_with_its_definition() {
        let reference = |rest: &[u8]| {
            let end = rest.iter().position(|&c| c == b',')?;
            let names = &rest[..end];
            let ok = names
                .iter()
                .all(|&c| (b'!'..=b'~').contains(&c) && !c.is_ascii_uppercase())
                && !names.windows(2).any(|w| w == b";;");
            // The word holding the comma must be whole.
            (ok && rest.len() >= end / 8 * 8 + 8).then_some(end)
        };
        let base = b"content-type;host;x-amz-date, Signature=0123456789";
        for at in 0..base.len() {
            for v in 0..=255u8 {
                let mut s = base.to_vec();
                s[at] = v;
                assert_eq!(signed_headers_end(&s), reference(&s), "{at} {v}");
            }
        }
        for len in 0..base.len() {
            assert_eq!(signed_headers_end(&base[..len]), reference(&base[..len]));
        }
        for at in 0..29 {
            let mut s = base.to_vec();
            s[at] = b';';
            if at + 1 < 29 {
                s[at + 1] = b';';
            }
            assert_eq!(signed_headers_end(&s), reference(&s), "{at}");
        }
    }

    #[test]
    fn same_agrees_with_slice_equality() {
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + (i % 26)).collect();
        for len in 0..base.len() {
            let a = &base[..len];
            assert!(same(a, a));
            assert!(!same(a, &base[..len + 1]));
            for at in 0..len {
                for flip in [1u8, 0x20, 0x80] {
                    let mut b = a.to_vec();
                    b[at] ^= flip;
                    assert!(!same(a, &b), "{len} {at} {flip}");
                    assert!(!same(&b, a), "{len} {at} {flip}");
                }
            }
        }
    }

    #[test]
    fn find_agrees_with_position() {
        let hay: Vec<u8> = (0..40u8).map(|i| b'a' + (i % 26)).collect();
        for len in 0..hay.len() {
            for at in 0..=len {
                let mut h = hay[..len].to_vec();
                if at < len {
                    h[at] = b',';
                }
                assert_eq!(find(&h, b','), h.iter().position(|&c| c == b','));
            }
        }
    }

    #[test]
    fn hex_decoding_agrees_with_the_digit_table() {
        let reference = |s: &[u8]| -> Option<[u8; 32]> {
            let mut out = [0u8; 32];
            for (o, p) in out.iter_mut().zip(s.chunks_exact(2)) {
                let d = |c: u8| (c as char).to_digit(16).map(|v| v as u8);
                *o = (d(p[0])? << 4) | d(p[1])?;
            }
            (s.len() == 64).then_some(out)
        };
        let good = b"0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789abcdef0123";
        assert!(decode_hex32(good).is_some());
        assert_eq!(decode_hex32(good), reference(good));
        for at in 0..64 {
            for v in 0..=255u8 {
                let mut s = *good;
                s[at] = v;
                assert_eq!(decode_hex32(&s), reference(&s), "{at} {v}");
            }
        }
        assert_eq!(decode_hex32(&good[..63]), None);
    }
}
