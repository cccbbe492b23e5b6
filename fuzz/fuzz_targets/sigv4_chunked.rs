//! The aws-chunked body decoder, fed arbitrary bytes in arbitrary pieces
//! after the S3 documentation's streaming request verified: no input may
//! panic, and a decoder must never report more verified than decoded bytes.
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use portcullis_sigv4::{Authenticated, ParsedRequest, Payload, Request, Rules, SecretKey, VerifyParams};

fn seed() -> &'static Authenticated {
    static AUTH: OnceLock<Authenticated> = OnceLock::new();
    AUTH.get_or_init(|| {
        let headers = [
            ("host", "s3.amazonaws.com"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
                 SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
                 x-amz-decoded-content-length;x-amz-storage-class,\
                 Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
            ),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("content-length", "66824"),
        ];
        let request = Request {
            method: "PUT",
            path: "/examplebucket/chunkObject.txt",
            query: "",
            headers: &headers[..],
            authority: None,
        };
        let parsed = ParsedRequest::parse(request).expect("the documented request parses");
        parsed
            .verify(VerifyParams {
                secret: &SecretKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                payload: Payload::NotRead,
                now: UNIX_EPOCH + Duration::from_secs(1_369_353_600),
                rules: &Rules::new("s3"),
                cache: None,
            })
            .expect("the documented request verifies")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let Some(mut decoder) = seed().chunked_decoder() else {
        return;
    };
    let mut out = Vec::new();
    for piece in body.chunks(usize::from(split).max(1)) {
        if let Err(e) = decoder.decode(piece, &mut out) {
            let _ = e.to_string();
            break;
        }
        assert!(decoder.verified_len() <= decoder.decoded_len());
        assert_eq!(decoder.decoded_len(), out.len() as u64);
    }
    let _ = decoder.finish();
});
