//! aws-chunked bodies (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD` and its
//! `-TRAILER` form), verified chunk by chunk as bytes arrive.
//!
//! ```text
//! <hex size>;chunk-signature=<64 hex>\r\n<data>\r\n      (repeated)
//! 0;chunk-signature=<64 hex>\r\n\r\n                       (plain form), or
//! 0;chunk-signature=<64 hex>\r\n<name>:<value>\r\n…
//!     x-amz-trailer-signature:<64 hex>\r\n\r\n             (trailer form)
//! ```
//!
//! Each chunk signature signs `AWS4-HMAC-SHA256-PAYLOAD`, the request time,
//! the scope, the previous signature (the request's own for the first chunk),
//! the hash of the empty string and the hash of the chunk data; the trailer
//! signature signs `AWS4-HMAC-SHA256-TRAILER`, …, the last chunk signature and
//! the hash of the canonical trailing headers.
//!
//! The decoder never holds more than one header line: data is handed out as
//! it is decoded. A chunk is verified when its last byte arrives, so data of
//! the chunk in progress is not yet verified: [`ChunkedDecoder::verified_len`]
//! says how much is, and nothing may be committed before
//! [`ChunkedDecoder::finish`] succeeds.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::digest;
use subtle::ConstantTimeEq;

use crate::amz_date::AmzDate;
use crate::error::{MismatchReason, SigV4Error};
use crate::signature::{HexBuf, Signature};
use crate::signing_key::SigningKey;
use crate::verify::sha256;

/// The hex SHA-256 of the empty string, a fixed line of every chunk's string
/// to sign.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The longest chunk header or trailer line accepted.
const MAX_LINE: usize = 4096;

/// What a verified request hands to its body decoder.
pub(crate) struct StreamingSeed {
    pub key: Arc<SigningKey>,
    pub date: AmzDate,
    pub scope: String,
    pub seed: Signature,
    pub trailer: bool,
    pub decoded_length: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    ChunkHeader,
    Data,
    DataCr,
    DataLf,
    Trailer,
    FinalLine,
    Done,
    Failed,
}

/// An incremental decoder and verifier of an aws-chunked body.
pub struct ChunkedDecoder {
    key: Arc<SigningKey>,
    date: AmzDate,
    scope: String,
    previous: Signature,
    trailer: bool,
    expected_len: Option<u64>,
    state: State,
    line: Vec<u8>,
    hasher: digest::Context,
    remaining: u64,
    last_chunk: bool,
    claimed: Option<Signature>,
    index: u64,
    decoded: u64,
    verified: u64,
    trailers: Vec<(String, String)>,
}

impl ChunkedDecoder {
    pub(crate) fn new(seed: &StreamingSeed) -> Self {
        Self {
            key: Arc::clone(&seed.key),
            date: seed.date,
            scope: seed.scope.clone(),
            previous: seed.seed,
            trailer: seed.trailer,
            expected_len: seed.decoded_length,
            state: State::ChunkHeader,
            line: Vec::new(),
            hasher: digest::Context::new(&digest::SHA256),
            remaining: 0,
            last_chunk: false,
            claimed: None,
            index: 0,
            decoded: 0,
            verified: 0,
            trailers: Vec::new(),
        }
    }

    /// Decodes `input`, appending payload bytes to `out`. Fails at the first
    /// malformed frame or wrong signature; the decoder is then unusable.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), SigV4Error> {
        let result = self.decode_inner(input, out);
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    /// Succeeds only when the whole body, final chunk (and trailer) included,
    /// was decoded and verified.
    pub fn finish(&self) -> Result<(), SigV4Error> {
        match self.state {
            State::Done => match self.expected_len {
                Some(n) if n != self.decoded => Err(SigV4Error::InvalidRequest(format!(
                    "The decoded body is {} bytes long, but x-amz-decoded-content-length says {n}.",
                    self.decoded
                ))),
                _ => Ok(()),
            },
            State::Failed => Err(SigV4Error::InvalidRequest(
                "The aws-chunked body failed verification.".into(),
            )),
            _ => Err(SigV4Error::IncompleteBody),
        }
    }

    /// Payload bytes decoded so far.
    #[must_use]
    pub fn decoded_len(&self) -> u64 {
        self.decoded
    }

    /// Payload bytes that belong to chunks already verified.
    #[must_use]
    pub fn verified_len(&self) -> u64 {
        self.verified
    }

    /// The trailing headers (trailer form), once [`Self::finish`] succeeds;
    /// checksums in them are for the caller to check against the payload.
    #[must_use]
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    fn decode_inner(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), SigV4Error> {
        while !input.is_empty() {
            match self.state {
                State::Failed => {
                    return Err(SigV4Error::InvalidRequest(
                        "The aws-chunked body failed verification.".into(),
                    ));
                }
                State::Done => {
                    return Err(malformed("data after the final chunk"));
                }
                State::ChunkHeader | State::Trailer | State::FinalLine => {
                    let Some(line) = self.take_line(&mut input)? else {
                        continue;
                    };
                    match self.state {
                        State::ChunkHeader => self.chunk_header(&line)?,
                        State::Trailer => self.trailer_line(&line)?,
                        _ => {
                            if !line.is_empty() {
                                return Err(malformed("expected the final empty line"));
                            }
                            self.state = State::Done;
                        }
                    }
                }
                State::Data => {
                    let n = usize::try_from(self.remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    let (data, rest) = input.split_at(n);
                    self.hasher.update(data);
                    out.extend_from_slice(data);
                    self.remaining -= n as u64;
                    self.decoded += n as u64;
                    input = rest;
                    if self.remaining == 0 {
                        self.end_chunk()?;
                    }
                }
                State::DataCr | State::DataLf => {
                    let expected = if self.state == State::DataCr {
                        b'\r'
                    } else {
                        b'\n'
                    };
                    if input.first() != Some(&expected) {
                        return Err(malformed("chunk data is not followed by CRLF"));
                    }
                    input = input.get(1..).unwrap_or_default();
                    self.state = match self.state {
                        State::DataCr => State::DataLf,
                        _ if self.last_chunk => State::Done,
                        _ => State::ChunkHeader,
                    };
                }
            }
        }
        Ok(())
    }

    /// Moves bytes up to a CRLF into the line buffer; returns the line
    /// (without CRLF) once complete.
    fn take_line(&mut self, input: &mut &[u8]) -> Result<Option<Vec<u8>>, SigV4Error> {
        match input.iter().position(|&c| c == b'\n') {
            Some(i) => {
                self.line
                    .extend_from_slice(input.get(..i).unwrap_or_default());
                *input = input.get(i + 1..).unwrap_or_default();
                if self.line.pop() != Some(b'\r') {
                    return Err(malformed("line is not terminated by CRLF"));
                }
                if self.line.len() > MAX_LINE {
                    return Err(malformed("line too long"));
                }
                Ok(Some(std::mem::take(&mut self.line)))
            }
            None => {
                self.line.extend_from_slice(input);
                *input = &[];
                if self.line.len() > MAX_LINE + 1 {
                    return Err(malformed("line too long"));
                }
                Ok(None)
            }
        }
    }

    fn chunk_header(&mut self, line: &[u8]) -> Result<(), SigV4Error> {
        let text = std::str::from_utf8(line).map_err(|_| malformed("chunk header is not ASCII"))?;
        let (size, ext) = text
            .split_once(';')
            .ok_or_else(|| malformed("chunk header lacks ';chunk-signature='"))?;
        let sig = ext
            .strip_prefix("chunk-signature=")
            .ok_or_else(|| malformed("chunk header lacks ';chunk-signature='"))?;
        if size.is_empty() || size.len() > 16 {
            return Err(malformed("chunk size is not a hex number"));
        }
        let size = u64::from_str_radix(size, 16)
            .map_err(|_| malformed("chunk size is not a hex number"))?;
        self.claimed = Signature::from_hex(sig);
        self.remaining = size;
        self.last_chunk = size == 0;
        self.hasher = digest::Context::new(&digest::SHA256);
        self.state = State::Data;
        if size == 0 {
            self.end_chunk()?;
        }
        Ok(())
    }

    fn end_chunk(&mut self) -> Result<(), SigV4Error> {
        let data_hash =
            std::mem::replace(&mut self.hasher, digest::Context::new(&digest::SHA256)).finish();
        let mut hash = [0u8; 32];
        hash.copy_from_slice(data_hash.as_ref());
        let sts = self.string_to_sign(
            "AWS4-HMAC-SHA256-PAYLOAD",
            &[EMPTY_SHA256, HexBuf::of(&hash).as_str()],
        );
        let computed = Signature::from_bytes(self.key.sign(sts.as_bytes()));
        let ok = self
            .claimed
            .as_ref()
            .is_some_and(|c| bool::from(c.ct_eq(&computed)));
        if !ok {
            return Err(SigV4Error::mismatch(MismatchReason::Chunk {
                index: self.index,
            }));
        }
        self.previous = computed;
        self.index += 1;
        self.verified = self.decoded;
        self.state = if self.last_chunk && self.trailer {
            State::Trailer
        } else {
            State::DataCr
        };
        Ok(())
    }

    fn trailer_line(&mut self, line: &[u8]) -> Result<(), SigV4Error> {
        let text =
            std::str::from_utf8(line).map_err(|_| malformed("trailing header is not UTF-8"))?;
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| malformed("trailing header lacks ':'"))?;
        let name = name.trim().to_ascii_lowercase();
        if name != "x-amz-trailer-signature" {
            if name.is_empty() || self.trailers.len() >= 64 {
                return Err(malformed("too many or unnamed trailing headers"));
            }
            self.trailers.push((name, value.trim().to_owned()));
            return Ok(());
        }
        let mut sorted: Vec<&(String, String)> = self.trailers.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut canonical = Vec::new();
        for (n, v) in sorted {
            canonical.extend_from_slice(n.as_bytes());
            canonical.push(b':');
            canonical.extend_from_slice(v.as_bytes());
            canonical.push(b'\n');
        }
        let hash = HexBuf::of(&sha256(&canonical));
        let sts = self.string_to_sign("AWS4-HMAC-SHA256-TRAILER", &[hash.as_str()]);
        let computed = Signature::from_bytes(self.key.sign(sts.as_bytes()));
        let ok = Signature::from_hex(value.trim()).is_some_and(|c| bool::from(c.ct_eq(&computed)));
        if !ok {
            return Err(SigV4Error::mismatch(MismatchReason::Trailer));
        }
        self.state = State::FinalLine;
        Ok(())
    }

    fn string_to_sign(&self, algorithm: &str, hashes: &[&str]) -> String {
        let mut s = String::with_capacity(64 + self.scope.len() + 65 * (1 + hashes.len()));
        s.push_str(algorithm);
        s.push('\n');
        s.push_str(self.date.as_str());
        s.push('\n');
        s.push_str(&self.scope);
        s.push('\n');
        s.push_str(self.previous.to_hex().as_str());
        for h in hashes {
            s.push('\n');
            s.push_str(h);
        }
        s
    }
}

impl fmt::Debug for ChunkedDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkedDecoder")
            .field("state", &self.state)
            .field("chunk", &self.index)
            .field("decoded", &self.decoded)
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

fn malformed(what: &str) -> SigV4Error {
    SigV4Error::InvalidRequest(format!("Malformed aws-chunked body: {what}."))
}
