//! Secrets at rest: the master key and the authenticated encryption of
//! secret access keys (and MFA seeds) under it.
//!
//! The master key is 32 random bytes, kept in `DATA_DIR/master.key` (created
//! on first start, readable only by its owner) or given by
//! `PORTCULLIS_MASTER_KEY` (base64) so that several nodes share it. Each
//! secret is sealed with AES-256-GCM under a fresh nonce, with the owning
//! record's id as associated data: a ciphertext copied onto another key's
//! row does not open.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use base64::Engine as _;
use zeroize::Zeroizing;

/// Version byte at the front of every sealed value, so the format can change.
const FORMAT_V1: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("the master key must be 32 bytes of base64, got {0} bytes")]
    BadKeyLength(usize),
    #[error("the master key is not valid base64")]
    BadKeyEncoding,
    #[error("cannot read or write the master key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("a stored secret does not open under this master key")]
    Unseal,
    #[error("the system random generator failed")]
    Random,
}

/// The key that encrypts every secret the service stores.
pub struct MasterKey {
    key: LessSafeKey,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SecretsError> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| SecretsError::BadKeyLength(bytes.len()))?;
        Ok(MasterKey {
            key: LessSafeKey::new(unbound),
        })
    }

    pub fn from_base64(text: &str) -> Result<Self, SecretsError> {
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| SecretsError::BadKeyEncoding)?,
        );
        Self::from_bytes(&bytes)
    }

    /// Reads `path`, or creates it with a new random key (mode 0600).
    pub fn load_or_create(path: &Path) -> Result<Self, SecretsError> {
        let io = |source| SecretsError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&Zeroizing::new(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = Zeroizing::new([0u8; 32]);
                SystemRandom::new()
                    .fill(bytes.as_mut())
                    .map_err(|_| SecretsError::Random)?;
                let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(*bytes));
                write_private_file(path, text.as_bytes()).map_err(io)?;
                Self::from_bytes(bytes.as_ref())
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Encrypts `plaintext`, bound to `context` (the record's id).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, SecretsError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SecretsError::Random)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut body,
            )
            .map_err(|_| SecretsError::Unseal)?;
        out.extend_from_slice(&body);
        body.fill(0);
        Ok(out)
    }

    /// Decrypts what [`MasterKey::seal`] made for the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
        let Some((&FORMAT_V1, rest)) = sealed.split_first() else {
            return Err(SecretsError::Unseal);
        };
        let (nonce, body) = rest
            .split_at_checked(NONCE_LEN)
            .ok_or(SecretsError::Unseal)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretsError::Unseal)?;
        let mut buf = Zeroizing::new(body.to_vec());
        let len = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| SecretsError::Unseal)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// Writes a file only its owner can read (the master key, root credentials).
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Random bytes from the system generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], SecretsError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SecretsError::Random)?;
    Ok(bytes)
}

/// A new secret access key: 40 characters of base64 alphabet, as AWS's.
pub fn new_secret_access_key() -> Result<Zeroizing<String>, SecretsError> {
    let bytes = Zeroizing::new(random_bytes::<30>()?);
    Ok(Zeroizing::new(
        base64::engine::general_purpose::STANDARD.encode(*bytes),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_bytes(&[7u8; 32]).unwrap()
    }

    #[test]
    fn sealed_secrets_open_only_in_their_own_context() {
        let k = key();
        let sealed = k.seal("AKIAEXAMPLE", b"secret").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(&**k.open("AKIAEXAMPLE", &sealed).unwrap(), b"secret");
        assert!(k.open("AKIAOTHER", &sealed).is_err());
    }

    #[test]
    fn tampered_or_truncated_ciphertexts_are_refused() {
        let k = key();
        let mut sealed = k.seal("id", b"secret").unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(k.open("id", &sealed).is_err());
        assert!(k.open("id", &sealed[..5]).is_err());
        assert!(k.open("id", &[]).is_err());
    }

    #[test]
    fn a_different_master_key_cannot_open() {
        let sealed = key().seal("id", b"secret").unwrap();
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.open("id", &sealed).is_err());
    }

    #[test]
    fn the_key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let a = MasterKey::load_or_create(&path).unwrap();
        let sealed = a.seal("id", b"x").unwrap();
        let b = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(&**b.open("id", &sealed).unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{a:?}").contains('='));
    }

    #[test]
    fn secret_access_keys_look_like_aws_ones() {
        let s = new_secret_access_key().unwrap();
        assert_eq!(s.len(), 40);
        assert_ne!(*s, *new_secret_access_key().unwrap());
    }
}
