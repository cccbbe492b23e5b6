//! A compiled statement keeps its texts (Sid, action patterns, ARN patterns) in one
//! byte block rather than one heap string each: a heap string costs 16 bytes of
//! pointer and length plus the allocator's own header, more than most action names
//! are long. Items are written one after the other as length-prefixed bytes, the
//! length as a LEB128 varint (one byte below 128).
//!
//! The reader is total: a block that ends early yields `None`, never a panic (blocks
//! are only written by the compiler, so this does not happen).

/// Appends `n` as a LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// Reads a varint from the front of `bytes`; returns it and the rest.
#[inline]
pub(crate) fn get_varint(bytes: &[u8]) -> Option<(usize, &[u8])> {
    // The common case: one byte.
    if let Some((&b, rest)) = bytes.split_first()
        && b < 0x80
    {
        return Some((usize::from(b), rest));
    }
    let mut n = 0usize;
    for (i, b) in bytes.iter().enumerate() {
        let shift = 7 * u32::try_from(i).ok()?;
        n |= usize::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some((n, bytes.get(i + 1..)?));
        }
    }
    None
}

/// Appends length-prefixed bytes.
pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Reads length-prefixed bytes; returns them and the rest.
#[inline]
pub(crate) fn get_bytes(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = get_varint(bytes)?;
    Some((rest.get(..len)?, rest.get(len..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for n in [0, 1, 127, 128, 300, 16_383, 16_384, 1 << 20, usize::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            out.push(0xAA);
            let (m, rest) = get_varint(&out).unwrap();
            assert_eq!(m, n);
            assert_eq!(rest, [0xAA]);
        }
        let mut one = Vec::new();
        put_varint(&mut one, 100);
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn truncated_input_is_none() {
        assert!(get_varint(&[]).is_none());
        assert!(get_varint(&[0x80]).is_none());
        assert!(get_bytes(&[5, b'a']).is_none());
        assert_eq!(get_bytes(&[1, b'a', b'b']), Some((&b"a"[..], &b"b"[..])));
    }
}
