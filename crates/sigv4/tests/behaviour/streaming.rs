//! aws-chunked bodies: the worked example of the S3 documentation ("Example:
//! PUT Object" under "Transferring Payload in Multiple Chunks"), and the
//! trailer form signed by the `aws-sigv4` crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_runtime_api::http::Headers as SmithyHeaders;
use portcullis_sigv4::{
    AmzDate, Authenticated, MismatchReason, ParsedRequest, Payload, PayloadCheck, Request, Rules,
    SecretKey, SigV4Error, VerifyParams,
};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn at(basic: &str) -> SystemTime {
    let t = AmzDate::parse_iso8601_basic(basic).unwrap();
    UNIX_EPOCH + Duration::from_secs(u64::try_from(t.unix_seconds()).unwrap())
}

fn doc_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
             x-amz-decoded-content-length;x-amz-storage-class,\
             Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        ),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("Content-Length", "66824"),
    ]
}

fn doc_body() -> Vec<u8> {
    let mut b = Vec::new();
    for (size, sig) in [
        (
            65_536,
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        ),
        (
            1024,
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        ),
        (
            0,
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ),
    ] {
        b.extend_from_slice(format!("{size:x};chunk-signature={sig}\r\n").as_bytes());
        b.extend(std::iter::repeat_n(b'a', size));
        b.extend_from_slice(b"\r\n");
    }
    assert_eq!(b.len(), 66_824, "the documented Content-Length");
    b
}

fn doc_auth() -> Authenticated {
    let headers = doc_headers();
    let request = Request {
        method: "PUT",
        path: "/examplebucket/chunkObject.txt",
        query: "",
        headers: &headers,
        authority: None,
    };
    ParsedRequest::parse(request)
        .unwrap()
        .verify(VerifyParams {
            secret: &SecretKey::new(SECRET),
            payload: Payload::NotRead,
            now: at("20130524T000000Z"),
            rules: &Rules::new("s3").region("us-east-1"),
            cache: None,
        })
        .unwrap()
}

#[test]
fn s3_documentation_example_decodes_in_any_piece_size() {
    let auth = doc_auth();
    assert_eq!(auth.payload(), PayloadCheck::Streaming { trailer: false });
    let body = doc_body();
    for piece in [1, 2, 7, 61, 4096, body.len()] {
        let mut decoder = auth.chunked_decoder().unwrap();
        let mut out = Vec::new();
        for part in body.chunks(piece) {
            decoder.decode(part, &mut out).unwrap();
            assert!(decoder.verified_len() <= decoder.decoded_len());
        }
        decoder.finish().unwrap();
        assert_eq!(out.len(), 66_560, "piece size {piece}");
        assert!(out.iter().all(|&b| b == b'a'));
        assert_eq!(decoder.verified_len(), 66_560);
    }
}

#[test]
fn a_changed_data_byte_fails_its_chunk() {
    let auth = doc_auth();
    let mut body = doc_body();
    // A byte inside the second chunk's data.
    let at = body.len() - 100;
    body[at] = b'b';
    let mut decoder = auth.chunked_decoder().unwrap();
    let err = decoder.decode(&body, &mut Vec::new()).unwrap_err();
    match &err {
        SigV4Error::SignatureDoesNotMatch(m) => {
            assert!(
                matches!(m.reason(), MismatchReason::Chunk { index: 1 }),
                "{err}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        decoder.verified_len(),
        65_536,
        "the first chunk had verified"
    );
    assert!(decoder.finish().is_err());
}

#[test]
fn reordered_or_truncated_bodies_fail() {
    let auth = doc_auth();
    let body = doc_body();
    // Truncated before the final chunk: the data so far verifies, the body
    // does not.
    let second_at = body.windows(4).position(|w| w == b"400;").unwrap();
    let mut decoder = auth.chunked_decoder().unwrap();
    decoder
        .decode(&body[..second_at + 10], &mut Vec::new())
        .unwrap();
    assert_eq!(decoder.verified_len(), 65_536);
    assert_eq!(decoder.finish().unwrap_err().code(), "IncompleteBody");

    // The chunk signatures chain: the second chunk cannot come first.
    let second = &body[second_at..];
    let mut decoder = auth.chunked_decoder().unwrap();
    assert_eq!(
        decoder.decode(second, &mut Vec::new()).unwrap_err().code(),
        "SignatureDoesNotMatch"
    );

    // Bytes after the final chunk.
    let mut decoder = auth.chunked_decoder().unwrap();
    let mut extra = body.clone();
    extra.extend_from_slice(b"0;chunk-signature=00\r\n");
    assert_eq!(
        decoder.decode(&extra, &mut Vec::new()).unwrap_err().code(),
        "InvalidRequest"
    );
}

#[test]
fn malformed_framing_is_a_precise_error() {
    let auth = doc_auth();
    for bad in [
        &b"zz;chunk-signature=ad80\r\n"[..],
        b"10000;chunk-sig=ad80\r\n",
        b"10000\r\n",
        b"10000;chunk-signature=ad80\n",
    ] {
        let mut decoder = auth.chunked_decoder().unwrap();
        let err = decoder.decode(bad, &mut Vec::new()).unwrap_err();
        assert_eq!(
            err.code(),
            "InvalidRequest",
            "{}",
            String::from_utf8_lossy(bad)
        );
        assert!(
            err.to_string().starts_with("Malformed aws-chunked body"),
            "{err}"
        );
    }
    let mut decoder = auth.chunked_decoder().unwrap();
    let long = vec![b'1'; 10_000];
    assert_eq!(
        decoder.decode(&long, &mut Vec::new()).unwrap_err().code(),
        "InvalidRequest"
    );
}

#[test]
fn decoded_length_header_is_signed() {
    let mut headers = doc_headers();
    for h in &mut headers {
        if h.0 == "x-amz-decoded-content-length" {
            h.1 = "66561";
        }
    }
    let request = Request {
        method: "PUT",
        path: "/examplebucket/chunkObject.txt",
        query: "",
        headers: &headers,
        authority: None,
    };
    // The header is signed, so changing it breaks the seed signature…
    let err = ParsedRequest::parse(request)
        .unwrap()
        .verify(VerifyParams {
            secret: &SecretKey::new(SECRET),
            payload: Payload::NotRead,
            now: at("20130524T000000Z"),
            rules: &Rules::new("s3"),
            cache: None,
        })
        .unwrap_err();
    assert_eq!(err.code(), "SignatureDoesNotMatch");
}

/// Signs a trailer-form upload with `aws-sigv4` and returns the request
/// headers and the encoded body.
fn signed_trailer_upload(
    chunks: &[&[u8]],
    trailer: (&str, &str),
) -> (Vec<(String, String)>, Vec<u8>) {
    let time = at("20240102T030405Z");
    let identity: Identity = Credentials::new("AKIDTRAILER", SECRET, None, None, "test").into();
    let v4_params = || {
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-1")
            .name("s3")
            .time(time)
            .settings(settings)
            .build()
            .unwrap()
    };
    let decoded: usize = chunks.iter().map(|c| c.len()).sum();
    let headers = vec![
        (
            "host".to_owned(),
            "bucket.s3.eu-west-1.amazonaws.com".to_owned(),
        ),
        ("content-encoding".to_owned(), "aws-chunked".to_owned()),
        (
            "x-amz-decoded-content-length".to_owned(),
            decoded.to_string(),
        ),
        ("x-amz-trailer".to_owned(), trailer.0.to_owned()),
    ];
    let signable = SignableRequest::new(
        "PUT",
        "https://bucket.s3.eu-west-1.amazonaws.com/key",
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Precomputed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER".into()),
    )
    .unwrap();
    let params = v4_params().into();
    let (instructions, seed) = sign(signable, &params).unwrap().into_parts();
    let mut all = headers.clone();
    for (k, v) in instructions.headers() {
        all.push((k.to_owned(), v.to_owned()));
    }

    let v4_params = v4_params();
    let mut body = Vec::new();
    let mut previous = seed;
    for chunk in chunks.iter().copied().chain(std::iter::once(&b""[..])) {
        let sig = v4::sign_chunk(&bytes::Bytes::copy_from_slice(chunk), &previous, &v4_params)
            .unwrap()
            .signature()
            .to_owned();
        body.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", chunk.len()).as_bytes());
        if !chunk.is_empty() {
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
        }
        previous = sig;
    }
    let mut trailers = SmithyHeaders::new();
    trailers.insert(trailer.0.to_owned(), trailer.1.to_owned());
    let trailer_sig = v4::sign_trailer(&trailers, &previous, &v4_params)
        .unwrap()
        .signature()
        .to_owned();
    body.extend_from_slice(format!("{}:{}\r\n", trailer.0, trailer.1).as_bytes());
    body.extend_from_slice(format!("x-amz-trailer-signature:{trailer_sig}\r\n\r\n").as_bytes());
    (all, body)
}

fn trailer_auth(headers: &[(String, String)]) -> Authenticated {
    let request = Request {
        method: "PUT",
        path: "/key",
        query: "",
        headers,
        authority: None,
    };
    ParsedRequest::parse(request)
        .unwrap()
        .verify(VerifyParams {
            secret: &SecretKey::new(SECRET),
            payload: Payload::NotRead,
            now: at("20240102T030405Z"),
            rules: &Rules::new("s3").region("eu-west-1"),
            cache: None,
        })
        .unwrap()
}

#[test]
fn trailer_form_signed_by_aws_sigv4_verifies() {
    let chunks: [&[u8]; 2] = [&[7u8; 9000], b"tail"];
    let (headers, body) = signed_trailer_upload(&chunks, ("x-amz-checksum-crc32c", "sOO8/Q=="));
    let auth = trailer_auth(&headers);
    assert_eq!(auth.payload(), PayloadCheck::Streaming { trailer: true });
    let mut decoder = auth.chunked_decoder().unwrap();
    let mut out = Vec::new();
    for part in body.chunks(333) {
        decoder.decode(part, &mut out).unwrap();
    }
    decoder.finish().unwrap();
    assert_eq!(out, [&[7u8; 9000][..], b"tail"].concat());
    assert_eq!(
        decoder.trailers(),
        &[("x-amz-checksum-crc32c".to_owned(), "sOO8/Q==".to_owned())]
    );
}

#[test]
fn a_changed_trailer_fails() {
    let (headers, body) = signed_trailer_upload(&[b"data"], ("x-amz-checksum-crc32c", "sOO8/Q=="));
    let tampered = String::from_utf8(body)
        .unwrap()
        .replace("sOO8/Q==", "AAAAAA==");
    let auth = trailer_auth(&headers);
    let mut decoder = auth.chunked_decoder().unwrap();
    let err = decoder
        .decode(tampered.as_bytes(), &mut Vec::new())
        .unwrap_err();
    match &err {
        SigV4Error::SignatureDoesNotMatch(m) => {
            assert!(matches!(m.reason(), MismatchReason::Trailer))
        }
        other => panic!("{other:?}"),
    }
}
