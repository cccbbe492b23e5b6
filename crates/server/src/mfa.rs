//! Virtual MFA devices: TOTP seeds and one-time codes as AWS's virtual
//! devices use them (RFC 6238 with HMAC-SHA1, 6 digits, 30-second steps),
//! and [`verify_mfa_code`], the one check STS runs on `SerialNumber` +
//! `TokenCode`.
//!
//! Security notes:
//! - A seed leaves the service once, in the `CreateVirtualMFADevice`
//!   answer; it is stored only sealed under the master key, bound to the
//!   device's serial number (a sealed seed copied onto another device does
//!   not open). In memory it lives in zeroized buffers and `Debug` redacts it.
//! - A code is accepted once: the store records the last accepted time step
//!   atomically (`consume_mfa_step`), so a replayed code, or two concurrent
//!   uses of one code, fail.
//! - Codes are compared in constant time (totp-rs compares tokens with
//!   `constant_time_eq`).

use std::fmt;
use std::ops::RangeInclusive;

use portcullis_store::StoreError;
use portcullis_store::model::MfaDevice;
use time::OffsetDateTime;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

use crate::error::{ApiError, ErrorCode, store_error};
use crate::secrets::{MasterKey, random_bytes};
use crate::state::AppState;

/// Seed length in bytes: AWS's virtual MFA seeds are 64 Base32 characters,
/// which is 40 bytes.
pub const SEED_LEN: usize = 40;
/// Seconds per TOTP step.
pub const STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Steps on either side of the current one a code may come from in
/// `verify_mfa_code`: one, as RFC 6238 recommends for network delay.
pub const VERIFY_SKEW: u64 = 1;

/// A TOTP seed in clear, only ever in memory.
pub struct Seed {
    totp: Totp,
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed(<redacted>)")
    }
}

impl Seed {
    /// A fresh random seed from the system generator.
    pub fn generate() -> Result<Seed, ApiError> {
        let bytes = Zeroizing::new(random_bytes::<SEED_LEN>().map_err(|_| ApiError::internal())?);
        Seed::from_bytes(bytes.as_ref())
    }

    /// A seed from its raw bytes (at least 16, as RFC 4226 requires).
    pub fn from_bytes(bytes: &[u8]) -> Result<Seed, ApiError> {
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(0)
            .with_step_duration(STEP_SECONDS)
            .with_secret(Secret::new(bytes.to_vec().into_boxed_slice()))
            .build()
            .map_err(|e| {
                tracing::error!(error = %e, "unusable TOTP seed");
                ApiError::internal()
            })?;
        Ok(Seed { totp })
    }

    /// Opens a device's sealed seed.
    pub fn unseal(key: &MasterKey, device: &MfaDevice) -> Result<Seed, ApiError> {
        let bytes = key
            .open(&device.serial_number, device.seed_ciphertext.as_bytes())
            .map_err(|e| {
                tracing::error!(serial = %device.serial_number, error = %e, "MFA seed does not open");
                ApiError::internal()
            })?;
        Seed::from_bytes(&bytes)
    }

    /// Seals the seed for the device `serial_number`.
    pub fn seal(&self, key: &MasterKey, serial_number: &str) -> Result<Vec<u8>, ApiError> {
        key.seal(serial_number, self.totp.secret().as_bytes())
            .map_err(|_| ApiError::internal())
    }

    /// The seed as RFC 4648 Base32 without padding, as authenticator apps
    /// and AWS's `Base32StringSeed` spell it.
    pub fn base32(&self) -> Zeroizing<String> {
        Zeroizing::new(self.totp.secret().to_base32())
    }

    /// The code of one time step.
    pub fn code_at_step(&self, step: u64) -> Zeroizing<String> {
        Zeroizing::new(
            self.totp
                .generate(step.saturating_mul(STEP_SECONDS))
                .to_string(),
        )
    }

    /// The first step of `steps` whose code is `code`. Anything but six
    /// ASCII digits matches nothing.
    pub fn matching_step(&self, code: &str, steps: RangeInclusive<u64>) -> Option<u64> {
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // `check` with zero skew compares in constant time and answers the
        // step it matched.
        steps.into_iter().find(|&s| {
            self.totp
                .check(code, s.saturating_mul(STEP_SECONDS))
                .is_some()
        })
    }
}

/// The TOTP step `now` falls in; `None` before 1970.
pub fn step_at(now: OffsetDateTime) -> Option<u64> {
    u64::try_from(now.unix_timestamp())
        .ok()
        .map(|t| t / STEP_SECONDS)
}

/// Steps within `skew` of `center`.
pub fn window(center: u64, skew: u64) -> RangeInclusive<u64> {
    center.saturating_sub(skew)..=center.saturating_add(skew)
}

/// The provisioning URI a QR code carries:
/// `otpauth://totp/$virtualMFADeviceName@$AccountName?secret=$Base32String`,
/// the form AWS documents for `QRCodePNG`.
pub fn otpauth_uri(device_name: &str, account_name: &str, seed: &Seed) -> Zeroizing<String> {
    let label = format!("{device_name}@{account_name}");
    let label = percent_encoding::utf8_percent_encode(&label, LABEL_ENCODE_SET);
    Zeroizing::new(format!(
        "otpauth://totp/{label}?secret={}",
        seed.base32().as_str()
    ))
}

/// Characters kept as they are in an otpauth label: unreserved ones and `@`
/// (device names may hold `+=,.@-_`).
const LABEL_ENCODE_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'@');

/// Pixels per QR module, and modules of white border (the standard's
/// minimum quiet zone is 4).
const QR_SCALE: usize = 6;
const QR_BORDER: usize = 4;

/// A PNG of the QR code for `text` (8-bit grayscale, black on white).
pub fn qr_png(text: &str) -> Result<Vec<u8>, ApiError> {
    let qr = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).map_err(|e| {
        tracing::error!(error = %e, "QR code too long");
        ApiError::internal()
    })?;
    let modules = usize::try_from(qr.size()).map_err(|_| ApiError::internal())?;
    let side = (modules + 2 * QR_BORDER) * QR_SCALE;
    let mut pixels = Zeroizing::new(vec![0xFFu8; side * side]);
    for (i, px) in pixels.iter_mut().enumerate() {
        let (x, y) = (i % side / QR_SCALE, i / side / QR_SCALE);
        let module = |v: usize| i32::try_from(v.wrapping_sub(QR_BORDER)).unwrap_or(-1);
        if qr.get_module(module(x), module(y)) {
            *px = 0;
        }
    }
    let side = u32::try_from(side).map_err(|_| ApiError::internal())?;
    let mut out = Vec::new();
    let png_error = |e: png::EncodingError| {
        tracing::error!(error = %e, "PNG encoding failed");
        ApiError::internal()
    };
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&pixels).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(out)
}

/// `AccessDenied` for a serial number that names no device enabled for the
/// caller, in AWS's words.
pub fn mfa_unverifiable() -> ApiError {
    ApiError::new(
        ErrorCode::AccessDenied,
        "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA \
         serial number is valid and associated with this user.",
    )
    .with_status(403)
}

/// `AccessDenied` for a wrong, expired or replayed code, in AWS's words.
pub fn mfa_invalid_code() -> ApiError {
    ApiError::new(
        ErrorCode::AccessDenied,
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    )
    .with_status(403)
}

/// Checks a one-time code for STS (`GetSessionToken`, `AssumeRole` with
/// `SerialNumber` and `TokenCode`) and consumes its time step.
///
/// Succeeds only when `serial_number` names a virtual device of `account`
/// that is enabled for `user_name` (compared case-insensitively, as IAM
/// compares user names), `code` is the code of the current step or of one
/// step either side, and that step is newer than any step the device
/// accepted before. `user_name` is `None` for the account's root user,
/// whose devices the store cannot hold, so it always fails.
///
/// # Errors
/// `AccessDenied` with AWS's messages: "unable to validate MFA code" when
/// the device is unknown, not enabled or someone else's; "invalid MFA one
/// time pass code" for a wrong or already used code. `ServiceFailure` when
/// the store fails or the seed does not open.
pub async fn verify_mfa_code(
    state: &AppState,
    account: &str,
    user_name: Option<&str>,
    serial_number: &str,
    code: &str,
    now: OffsetDateTime,
) -> Result<(), ApiError> {
    let device = match state.store.get_mfa_device(account, serial_number).await {
        Ok(d) => d,
        Err(StoreError::NoSuchEntity(_)) => return Err(mfa_unverifiable()),
        Err(e) => return Err(store_error(e)),
    };
    let owned = match (user_name, device.user_name.as_deref()) {
        (Some(caller), Some(owner)) => caller.eq_ignore_ascii_case(owner),
        _ => false,
    };
    if !owned || device.enable_date.is_none() {
        return Err(mfa_unverifiable());
    }
    let seed = Seed::unseal(&state.master_key, &device)?;
    let current = step_at(now).ok_or_else(mfa_invalid_code)?;
    let newer_than = device.last_used_step;
    let Some(step) = window(current, VERIFY_SKEW)
        .filter(|s| newer_than.is_none_or(|last| *s > last))
        .find(|&s| seed.matching_step(code, s..=s).is_some())
    else {
        return Err(mfa_invalid_code());
    };
    match state
        .store
        .consume_mfa_step(account, &device.serial_number, step)
        .await
    {
        Ok(true) => Ok(()),
        // Another request used this step (or a later one) first.
        Ok(false) => Err(mfa_invalid_code()),
        Err(StoreError::NoSuchEntity(_)) => Err(mfa_unverifiable()),
        Err(e) => Err(store_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column: the seed is the ASCII of
    /// "12345678901234567890"; the RFC prints 8 digits, our 6 are their tail.
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let seed = Seed::from_bytes(b"12345678901234567890").unwrap();
        for (time, code8) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            let step = time / STEP_SECONDS;
            assert_eq!(seed.code_at_step(step).as_str(), &code8[2..], "t={time}");
            assert_eq!(seed.matching_step(&code8[2..], window(step, 1)), Some(step));
        }
    }

    #[test]
    fn a_code_matches_only_its_own_step_and_well_formed_codes() {
        let seed = Seed::generate().unwrap();
        let code = seed.code_at_step(1000);
        assert_eq!(seed.matching_step(&code, 990..=1010), Some(1000));
        assert_eq!(seed.matching_step(&code, 1001..=1010), None);
        assert_eq!(seed.matching_step("12345", 0..=10), None);
        assert_eq!(seed.matching_step("+12345", 990..=1010), None);
        assert_eq!(seed.matching_step("abcdef", 990..=1010), None);
    }

    #[test]
    fn seeds_are_aws_sized_base32_and_redacted() {
        let seed = Seed::generate().unwrap();
        let b32 = seed.base32();
        assert_eq!(b32.len(), 64);
        assert!(
            b32.bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        );
        assert_eq!(format!("{seed:?}"), "Seed(<redacted>)");
        assert_ne!(*b32, *Seed::generate().unwrap().base32());
    }

    #[test]
    fn sealed_seeds_open_only_for_their_device() {
        let key = MasterKey::from_bytes(&[3u8; 32]).unwrap();
        let seed = Seed::generate().unwrap();
        let serial = "arn:aws:iam::123456789012:mfa/alice";
        let sealed = seed.seal(&key, serial).unwrap();
        let b32 = seed.base32();
        assert!(!sealed.windows(8).any(|w| w == &b32.as_bytes()[..8]));
        let device = |serial: &str| MfaDevice {
            serial_number: serial.to_owned(),
            account_id: "123456789012".to_owned(),
            user_name: None,
            seed_ciphertext: portcullis_store::model::Ciphertext::new(sealed.clone()),
            create_date: OffsetDateTime::UNIX_EPOCH,
            enable_date: None,
            last_used_step: None,
            tags: Vec::new(),
        };
        let opened = Seed::unseal(&key, &device(serial)).unwrap();
        assert_eq!(*opened.base32(), *b32);
        assert!(Seed::unseal(&key, &device("arn:aws:iam::123456789012:mfa/bob")).is_err());
    }

    #[test]
    fn the_uri_follows_aws_documented_form() {
        let seed = Seed::from_bytes(&[0u8; 20]).unwrap();
        let uri = otpauth_uri("my device", "123456789012", &seed);
        assert_eq!(
            uri.as_str(),
            "otpauth://totp/my%20device@123456789012?secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        );
    }

    #[test]
    fn the_qr_png_draws_the_qr_code_modules() {
        let text = "otpauth://totp/dev@123456789012?secret=ABCDEFGHIJKLMNOP";
        let png_bytes = qr_png(text).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let qr = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).unwrap();
        let modules = qr.size() as usize;
        let side = (modules + 2 * QR_BORDER) * QR_SCALE;
        assert_eq!((info.width as usize, info.height as usize), (side, side));
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        for y in 0..modules + 2 * QR_BORDER {
            for x in 0..modules + 2 * QR_BORDER {
                // The centre pixel of each module.
                let px = buf[(y * QR_SCALE + QR_SCALE / 2) * side + x * QR_SCALE + QR_SCALE / 2];
                let dark = qr.get_module(x as i32 - QR_BORDER as i32, y as i32 - QR_BORDER as i32);
                assert_eq!(px == 0, dark, "module ({x}, {y})");
            }
        }
    }

    /// A started service with user `alice` holding an enabled device whose
    /// last accepted step is `enabled_at`.
    async fn service_with_device(
        enabled_at: u64,
    ) -> (tempfile::TempDir, std::sync::Arc<AppState>, Seed, String) {
        use portcullis_store::model::{Ciphertext, NewUser, NewVirtualMfaDevice};
        let dir = tempfile::tempdir().unwrap();
        let config =
            crate::config::Config::new("127.0.0.1:0".parse().unwrap(), dir.path().join("data"));
        let (state, _) = crate::bootstrap::start(config).await.unwrap();
        let account = state.config.account_id.clone();
        let now = OffsetDateTime::now_utc();
        state
            .store
            .create_user(
                &account,
                &NewUser {
                    name: "alice".into(),
                    path: "/".into(),
                    permissions_boundary: None,
                    tags: Vec::new(),
                },
                now,
            )
            .await
            .unwrap();
        let seed = Seed::generate().unwrap();
        let serial = portcullis_store::arn::mfa_arn(&account, "/", "alice-phone");
        let sealed = seed.seal(&state.master_key, &serial).unwrap();
        state
            .store
            .create_virtual_mfa_device(
                &account,
                &NewVirtualMfaDevice {
                    name: "alice-phone".into(),
                    path: "/".into(),
                    seed_ciphertext: Ciphertext::new(sealed),
                    tags: Vec::new(),
                },
                now,
            )
            .await
            .unwrap();
        state
            .store
            .enable_mfa_device(&account, "alice", &serial, enabled_at, now)
            .await
            .unwrap();
        (dir, state, seed, serial)
    }

    #[tokio::test]
    async fn a_code_is_accepted_once_within_one_step_and_only_for_its_user() {
        let now = OffsetDateTime::now_utc();
        let step = step_at(now).unwrap();
        let (_dir, state, seed, serial) = service_with_device(step - 3).await;
        let account = state.config.account_id.clone();
        let verify = |user: Option<&'static str>, serial: String, code: Zeroizing<String>| {
            let state = state.clone();
            let account = account.clone();
            async move { verify_mfa_code(&state, &account, user, &serial, &code, now).await }
        };

        // The previous step's code, then the current one: each once.
        verify(Some("alice"), serial.clone(), seed.code_at_step(step - 1))
            .await
            .unwrap();
        verify(Some("ALICE"), serial.clone(), seed.code_at_step(step))
            .await
            .unwrap();
        let replay = verify(Some("alice"), serial.clone(), seed.code_at_step(step))
            .await
            .unwrap_err();
        assert_eq!(replay, mfa_invalid_code());
        // Going back to an older step is a replay too.
        let older = verify(Some("alice"), serial.clone(), seed.code_at_step(step - 1))
            .await
            .unwrap_err();
        assert_eq!(older.code(), ErrorCode::AccessDenied);
        // Two steps ahead is outside the window; one ahead is inside.
        let ahead = verify(Some("alice"), serial.clone(), seed.code_at_step(step + 2))
            .await
            .unwrap_err();
        assert_eq!(ahead, mfa_invalid_code());
        verify(Some("alice"), serial.clone(), seed.code_at_step(step + 1))
            .await
            .unwrap();
        // Malformed codes never match.
        let garbage = verify(
            Some("alice"),
            serial.clone(),
            Zeroizing::new("12ab56".into()),
        )
        .await
        .unwrap_err();
        assert_eq!(garbage, mfa_invalid_code());

        // Another user, root, or an unknown device: unable to validate.
        for (user, serial) in [
            (Some("bob"), serial.clone()),
            (None, serial.clone()),
            (
                Some("alice"),
                portcullis_store::arn::mfa_arn(&account, "/", "nope"),
            ),
        ] {
            let e = verify(user, serial, seed.code_at_step(step + 1))
                .await
                .unwrap_err();
            assert_eq!(e, mfa_unverifiable());
            assert_eq!(e.status(), 403);
        }
    }

    #[tokio::test]
    async fn codes_of_a_deactivated_device_are_refused() {
        let now = OffsetDateTime::now_utc();
        let step = step_at(now).unwrap();
        let (_dir, state, seed, serial) = service_with_device(step - 3).await;
        let account = state.config.account_id.clone();
        state
            .store
            .deactivate_mfa_device(&account, "alice", &serial)
            .await
            .unwrap();
        let code = seed.code_at_step(step);
        let e = verify_mfa_code(&state, &account, Some("alice"), &serial, &code, now)
            .await
            .unwrap_err();
        assert_eq!(e, mfa_unverifiable());
    }

    #[test]
    fn steps_before_1970_do_not_exist() {
        assert_eq!(step_at(OffsetDateTime::UNIX_EPOCH), Some(0));
        assert_eq!(
            step_at(OffsetDateTime::UNIX_EPOCH - time::Duration::seconds(1)),
            None
        );
        assert_eq!(window(0, 1), 0..=1);
    }
}
