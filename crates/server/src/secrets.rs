//! Secrets at rest: the master key ring and the authenticated encryption of
//! secret access keys, MFA seeds and the service's own keys under it.
//!
//! A master key is 32 random bytes, kept in `DATA_DIR/master.key` (created
//! on first start, readable only by its owner) or given by
//! `PORTCULLIS_MASTER_KEY` (base64) so that several nodes share it. Each
//! secret is sealed with AES-256-GCM under a fresh nonce, with the owning
//! record's id as associated data: a ciphertext copied onto another key's
//! row does not open.
//!
//! # Rotation
//!
//! [`MasterKey`] is a ring: the current key, which seals, and any previous
//! keys (`PORTCULLIS_PREVIOUS_MASTER_KEYS`, or `DATA_DIR/master.key.previous`),
//! which only open. Rotating is then a sequence of rolling restarts in which
//! every node can open whatever any other node sealed at every moment: add
//! the new key as a previous key everywhere, make it current everywhere (the
//! old one previous), re-seal the stored values (`portcullis master-key
//! reseal`), drop the old key.
//!
//! # Formats
//!
//! * 1: `[1][nonce: 12][ciphertext + tag]`. No key id: opening tries the
//!   current key, then each previous key. Kept forever for existing data.
//! * 2: `[2][key id: 8][nonce: 12][ciphertext + tag]`, the key id being the
//!   first 8 bytes of SHA-256 over [`KEY_ID_LABEL`] and the key. Opening
//!   picks the key by id, so a value sealed under a key the node lacks is
//!   named as such rather than tried against everything.
//!
//! A ring with previous keys seals format 2; a ring of one key seals
//! format 1, which is what every earlier version reads: a rolling upgrade to
//! this version keeps old and new nodes able to open each other's values.
//! Rotation needs every node on this version already (only it understands
//! previous keys), so format 2 never reaches a node that cannot read it.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use base64::Engine as _;
use zeroize::Zeroizing;

pub mod reseal;

/// Version byte of a sealed value without a key id.
const FORMAT_V1: u8 = 1;
/// Version byte of a sealed value that names its key.
const FORMAT_V2: u8 = 2;
/// Length of a key id in format 2.
const KEY_ID_LEN: usize = 8;
/// What a key id hashes before the key: the id of a key is not the hash of
/// the bare key, which other software might also publish.
pub const KEY_ID_LABEL: &[u8] = b"portcullis master key id\0";

/// The environment variable of the current master key (base64).
pub const MASTER_KEY_ENV: &str = "PORTCULLIS_MASTER_KEY";
/// The environment variable of the previous master keys (comma-separated base64).
pub const PREVIOUS_KEYS_ENV: &str = "PORTCULLIS_PREVIOUS_MASTER_KEYS";
/// The current key's file in the data directory.
pub const KEY_FILE: &str = "master.key";
/// The previous keys' file in the data directory (one base64 key per line).
pub const PREVIOUS_KEYS_FILE: &str = "master.key.previous";

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("{origin}: a master key must be 32 bytes in base64, got {length} bytes")]
    BadKeyLength { origin: String, length: usize },
    #[error("{origin}: a master key must be 32 bytes in base64, and this is not valid base64")]
    BadKeyEncoding { origin: String },
    #[error("cannot read or write the master key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "no master key: set {MASTER_KEY_ENV} or put one in {path} (`portcullis master-key generate` makes one)"
    )]
    NoKey { path: String },
    #[error(
        "a stored secret is sealed under master key {0}, which is neither this node's current master key nor one of its previous keys"
    )]
    UnknownKey(KeyId),
    #[error(
        "a stored secret does not open under any key of this node's master key ring (is the key it was sealed under missing from {PREVIOUS_KEYS_ENV} or {PREVIOUS_KEYS_FILE}?)"
    )]
    Unseal,
    #[error("the system random generator failed")]
    Random,
}

/// Names a master key without revealing it: 8 bytes of a labelled SHA-256.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    fn of(key: &[u8]) -> KeyId {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(KEY_ID_LABEL);
        ctx.update(key);
        let digest = ctx.finish();
        let mut id = [0u8; KEY_ID_LEN];
        for (out, byte) in id.iter_mut().zip(digest.as_ref()) {
            *out = *byte;
        }
        KeyId(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// One key of the ring.
struct RingKey {
    id: KeyId,
    key: LessSafeKey,
}

impl RingKey {
    fn new(bytes: &[u8], origin: &str) -> Result<Self, SecretsError> {
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| SecretsError::BadKeyLength {
                origin: origin.to_owned(),
                length: bytes.len(),
            })?;
        Ok(RingKey {
            id: KeyId::of(bytes),
            key: LessSafeKey::new(unbound),
        })
    }

    fn open(
        &self,
        context: &str,
        nonce: &[u8],
        body: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
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

/// Which key of the ring a value opened under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedUnder {
    /// The current key: nothing to re-seal.
    Current,
    /// A previous key, which is to be dropped once the value is re-sealed.
    Previous(KeyId),
}

/// The master key ring: the current key, which seals and opens, and the
/// previous keys, which only open (see the module docs).
pub struct MasterKey {
    current: RingKey,
    previous: Vec<RingKey>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// A ring of one key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SecretsError> {
        Ok(MasterKey {
            current: RingKey::new(bytes, "the master key")?,
            previous: Vec::new(),
        })
    }

    /// A ring of one key given in base64.
    pub fn from_base64(text: &str) -> Result<Self, SecretsError> {
        Self::from_base64_named(text, "the master key")
    }

    /// As [`MasterKey::from_base64`]; errors say where the key came from
    /// (never what it is).
    fn from_base64_named(text: &str, origin: &str) -> Result<Self, SecretsError> {
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| SecretsError::BadKeyEncoding {
                    origin: origin.to_owned(),
                })?,
        );
        Ok(MasterKey {
            current: RingKey::new(&bytes, origin)?,
            previous: Vec::new(),
        })
    }

    /// A new random key in base64, for `portcullis master-key generate`.
    pub fn generate_base64() -> Result<Zeroizing<String>, SecretsError> {
        let bytes = Zeroizing::new(random_bytes::<32>()?);
        Ok(Zeroizing::new(
            base64::engine::general_purpose::STANDARD.encode(*bytes),
        ))
    }

    /// Reads `path`, or creates it with a new random key (mode 0600).
    pub fn load_or_create(path: &Path) -> Result<Self, SecretsError> {
        match Self::load_file(path)? {
            Some(key) => Ok(key),
            None => {
                let text = Self::generate_base64()?;
                write_private_file(path, text.as_bytes()).map_err(|source| SecretsError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                Self::from_base64_named(&text, &path.display().to_string())
            }
        }
    }

    /// Reads the key in `path`; `None` when there is no such file.
    fn load_file(path: &Path) -> Result<Option<Self>, SecretsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64_named(&Zeroizing::new(text), &path.display().to_string())
                .map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SecretsError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// The ring a node uses, by the documented rules:
    ///
    /// * current: `current` (the value of [`MASTER_KEY_ENV`]) if given, else
    ///   `DATA_DIR/master.key`, created when missing if `create` (a first
    ///   start), an error otherwise (an admin command must not invent a key);
    /// * previous: `previous` (the value of [`PREVIOUS_KEYS_ENV`], comma
    ///   separated, blanks ignored) if given, else the lines of
    ///   `DATA_DIR/master.key.previous` if it exists (blank lines and `#`
    ///   comments ignored).
    ///
    /// A previous key equal to the current one, or repeated, is harmless and
    /// kept once.
    pub fn load(
        data_dir: &Path,
        current: Option<&str>,
        previous: Option<&str>,
        create: bool,
    ) -> Result<Self, SecretsError> {
        let key_file = data_dir.join(KEY_FILE);
        let mut ring = match current {
            Some(text) => Self::from_base64_named(text, MASTER_KEY_ENV)?,
            None if create => Self::load_or_create(&key_file)?,
            None => Self::load_file(&key_file)?.ok_or_else(|| SecretsError::NoKey {
                path: key_file.display().to_string(),
            })?,
        };
        match previous {
            Some(list) => {
                for (n, text) in list.split(',').enumerate() {
                    if !text.trim().is_empty() {
                        let origin = format!("{PREVIOUS_KEYS_ENV}, key {}", n + 1);
                        ring.add_previous(Self::from_base64_named(text, &origin)?);
                    }
                }
            }
            None => {
                let file = data_dir.join(PREVIOUS_KEYS_FILE);
                let io = |source| SecretsError::Io {
                    path: file.display().to_string(),
                    source,
                };
                let text = match std::fs::read_to_string(&file) {
                    Ok(text) => Zeroizing::new(text),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        Zeroizing::new(String::new())
                    }
                    Err(e) => return Err(io(e)),
                };
                for (n, line) in text.lines().enumerate() {
                    let line = line.trim();
                    if !line.is_empty() && !line.starts_with('#') {
                        let origin = format!("{}, line {}", file.display(), n + 1);
                        ring.add_previous(Self::from_base64_named(line, &origin)?);
                    }
                }
            }
        }
        Ok(ring)
    }

    /// Adds `other`'s keys as previous keys (opening only), skipping any the
    /// ring already has.
    pub fn add_previous(&mut self, other: MasterKey) {
        for key in std::iter::once(other.current).chain(other.previous) {
            if key.id != self.current.id && self.previous.iter().all(|p| p.id != key.id) {
                self.previous.push(key);
            }
        }
    }

    /// The current key's id (what `seal` writes into format 2).
    pub fn current_id(&self) -> KeyId {
        self.current.id
    }

    /// The previous keys' ids, in configuration order.
    pub fn previous_ids(&self) -> Vec<KeyId> {
        self.previous.iter().map(|k| k.id).collect()
    }

    /// Encrypts `plaintext` under the current key, bound to `context` (the
    /// record's id). Format 1 for a ring of one key, 2 otherwise (see the
    /// module docs).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, SecretsError> {
        let nonce = random_bytes::<NONCE_LEN>()?;
        let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + plaintext.len() + 16);
        if self.previous.is_empty() {
            out.push(FORMAT_V1);
        } else {
            out.push(FORMAT_V2);
            out.extend_from_slice(&self.current.id.0);
        }
        out.extend_from_slice(&nonce);
        // Room for the tag up front: a reallocation would free a copy of
        // the plaintext without wiping it.
        let mut body = Zeroizing::new(Vec::with_capacity(plaintext.len() + 16));
        body.extend_from_slice(plaintext);
        self.current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut *body,
            )
            .map_err(|_| SecretsError::Unseal)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decrypts what [`MasterKey::seal`] made for the same `context`, under
    /// any key of the ring.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
        self.open_reporting(context, sealed).map(|(plain, _)| plain)
    }

    /// As [`MasterKey::open`], also saying which key opened it (for the
    /// re-seal).
    pub fn open_reporting(
        &self,
        context: &str,
        sealed: &[u8],
    ) -> Result<(Zeroizing<Vec<u8>>, SealedUnder), SecretsError> {
        match sealed.split_first() {
            Some((&FORMAT_V1, rest)) => {
                let (nonce, body) = rest
                    .split_at_checked(NONCE_LEN)
                    .ok_or(SecretsError::Unseal)?;
                if let Ok(plain) = self.current.open(context, nonce, body) {
                    return Ok((plain, SealedUnder::Current));
                }
                for key in &self.previous {
                    if let Ok(plain) = key.open(context, nonce, body) {
                        return Ok((plain, SealedUnder::Previous(key.id)));
                    }
                }
                Err(SecretsError::Unseal)
            }
            Some((&FORMAT_V2, rest)) => {
                let (id, rest) = rest
                    .split_at_checked(KEY_ID_LEN)
                    .ok_or(SecretsError::Unseal)?;
                let (nonce, body) = rest
                    .split_at_checked(NONCE_LEN)
                    .ok_or(SecretsError::Unseal)?;
                let id = KeyId(<[u8; KEY_ID_LEN]>::try_from(id).map_err(|_| SecretsError::Unseal)?);
                if id == self.current.id {
                    return Ok((
                        self.current.open(context, nonce, body)?,
                        SealedUnder::Current,
                    ));
                }
                let key = self
                    .previous
                    .iter()
                    .find(|k| k.id == id)
                    .ok_or(SecretsError::UnknownKey(id))?;
                Ok((key.open(context, nonce, body)?, SealedUnder::Previous(id)))
            }
            _ => Err(SecretsError::Unseal),
        }
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

    fn ring(current: u8, previous: &[u8]) -> MasterKey {
        let mut ring = MasterKey::from_bytes(&[current; 32]).unwrap();
        for p in previous {
            ring.add_previous(MasterKey::from_bytes(&[*p; 32]).unwrap());
        }
        ring
    }

    fn b64(byte: u8) -> String {
        base64::engine::general_purpose::STANDARD.encode([byte; 32])
    }

    #[test]
    fn sealed_secrets_open_only_in_their_own_context() {
        for k in [key(), ring(7, &[8])] {
            let sealed = k.seal("AKIAEXAMPLE", b"secret").unwrap();
            assert!(!sealed.windows(6).any(|w| w == b"secret"));
            assert_eq!(&**k.open("AKIAEXAMPLE", &sealed).unwrap(), b"secret");
            assert!(k.open("AKIAOTHER", &sealed).is_err());
        }
    }

    #[test]
    fn tampered_or_truncated_ciphertexts_are_refused() {
        for k in [key(), ring(7, &[8])] {
            let mut sealed = k.seal("id", b"secret").unwrap();
            let last = sealed.len() - 1;
            sealed[last] ^= 1;
            assert!(k.open("id", &sealed).is_err());
            assert!(k.open("id", &sealed[..5]).is_err());
            assert!(k.open("id", &sealed[..1]).is_err());
            assert!(k.open("id", &[]).is_err());
            assert!(k.open("id", &[3, 0, 0]).is_err(), "unknown format");
        }
    }

    #[test]
    fn a_different_master_key_cannot_open() {
        let sealed = key().seal("id", b"secret").unwrap();
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.open("id", &sealed).is_err());
    }

    #[test]
    fn a_ring_of_one_key_seals_format_1_and_with_previous_keys_format_2() {
        let v1 = key().seal("id", b"x").unwrap();
        assert_eq!((v1[0], v1.len()), (1, 1 + 12 + 1 + 16));
        let ring = ring(7, &[8]);
        let v2 = ring.seal("id", b"x").unwrap();
        assert_eq!((v2[0], v2.len()), (2, 1 + 8 + 12 + 1 + 16));
        assert_eq!(v2[1..9], ring.current_id().0);
        // Both open under the ring and under the lone current key.
        assert_eq!(
            ring.open_reporting("id", &v1).unwrap().1,
            SealedUnder::Current
        );
        assert_eq!(&**key().open("id", &v2).unwrap(), b"x");
    }

    #[test]
    fn format_1_values_open_under_any_key_of_the_ring() {
        let old = MasterKey::from_bytes(&[1u8; 32]).unwrap();
        let sealed = old.seal("AKIAEXAMPLE", b"secret").unwrap();
        assert_eq!(sealed[0], FORMAT_V1);
        // After the switch: new key current, old key previous.
        let rotated = ring(2, &[3, 1]);
        let (plain, under) = rotated.open_reporting("AKIAEXAMPLE", &sealed).unwrap();
        assert_eq!(&**plain, b"secret");
        assert_eq!(under, SealedUnder::Previous(old.current_id()));
        // Step 1: old key current, new key previous.
        let step1 = ring(1, &[2]);
        assert_eq!(
            step1.open_reporting("AKIAEXAMPLE", &sealed).unwrap().1,
            SealedUnder::Current
        );
    }

    #[test]
    fn a_ring_without_the_sealing_key_cannot_open() {
        let v1 = MasterKey::from_bytes(&[1u8; 32])
            .unwrap()
            .seal("id", b"x")
            .unwrap();
        let v2 = ring(1, &[2]).seal("id", b"x").unwrap();
        let without = ring(2, &[3]);
        assert!(matches!(without.open("id", &v1), Err(SecretsError::Unseal)));
        match without.open("id", &v2) {
            Err(SecretsError::UnknownKey(id)) => {
                assert_eq!(id, MasterKey::from_bytes(&[1u8; 32]).unwrap().current_id());
            }
            other => panic!("expected UnknownKey, got {other:?}"),
        }
    }

    #[test]
    fn the_key_id_selects_the_key() {
        let sealed = ring(1, &[2]).seal("id", b"x").unwrap();
        // Both orders of the two keys open it, reporting which key did.
        assert_eq!(
            ring(2, &[1]).open_reporting("id", &sealed).unwrap().1,
            SealedUnder::Previous(MasterKey::from_bytes(&[1u8; 32]).unwrap().current_id())
        );
        assert_eq!(
            ring(1, &[2]).open_reporting("id", &sealed).unwrap().1,
            SealedUnder::Current
        );
        // The id is not a hint to try: pointing it at another key of the ring
        // fails, though the right key is in the ring too.
        let mut relabelled = sealed.clone();
        relabelled[1..9].copy_from_slice(&ring(2, &[]).current_id().0);
        assert!(matches!(
            ring(2, &[1]).open("id", &relabelled),
            Err(SecretsError::Unseal)
        ));
    }

    #[test]
    fn key_ids_are_stable_labelled_and_distinct() {
        let a = MasterKey::from_bytes(&[1u8; 32]).unwrap().current_id();
        assert_eq!(a, MasterKey::from_base64(&b64(1)).unwrap().current_id());
        assert_ne!(a, MasterKey::from_bytes(&[2u8; 32]).unwrap().current_id());
        let bare = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &[1u8; 32]);
        assert_ne!(a.0, bare.as_ref()[..8], "labelled, not the bare key's hash");
        assert_eq!(a.to_string().len(), 16);
    }

    #[test]
    fn previous_keys_equal_to_the_current_one_or_repeated_are_kept_once() {
        let ring = ring(1, &[1, 2, 2, 3]);
        let ids = ring.previous_ids();
        assert_eq!(ids.len(), 2);
        assert!(!ids.contains(&ring.current_id()));
    }

    #[test]
    fn the_ring_is_read_from_the_environment_values() {
        let dir = tempfile::tempdir().unwrap();
        let list = format!(" {} ,,{}", b64(2), b64(3));
        let ring = MasterKey::load(dir.path(), Some(&b64(1)), Some(&list), false).unwrap();
        assert_eq!(ring.current_id(), super::tests::ring(1, &[]).current_id());
        assert_eq!(
            ring.previous_ids(),
            super::tests::ring(1, &[2, 3]).previous_ids()
        );
        // Set but empty: no previous keys (step 4 of a rotation).
        let ring = MasterKey::load(dir.path(), Some(&b64(1)), Some(""), false).unwrap();
        assert!(ring.previous_ids().is_empty());
        assert!(!dir.path().join(KEY_FILE).exists());
    }

    #[test]
    fn the_ring_is_read_from_the_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        // An admin command never invents a key.
        let err = MasterKey::load(dir.path(), None, None, false).unwrap_err();
        assert!(matches!(err, SecretsError::NoKey { .. }), "{err}");
        assert!(!dir.path().join(KEY_FILE).exists());
        let created = MasterKey::load(dir.path(), None, None, true).unwrap();
        assert!(created.previous_ids().is_empty());
        std::fs::write(
            dir.path().join(PREVIOUS_KEYS_FILE),
            format!("# rotated 2026-01-01\n{}\n\n  {}  \n", b64(2), b64(3)),
        )
        .unwrap();
        let ring = MasterKey::load(dir.path(), None, None, false).unwrap();
        assert_eq!(ring.current_id(), created.current_id());
        assert_eq!(
            ring.previous_ids(),
            super::tests::ring(9, &[2, 3]).previous_ids()
        );
        // The environment's list wins over the file.
        let ring = MasterKey::load(dir.path(), None, Some(&b64(4)), false).unwrap();
        assert_eq!(
            ring.previous_ids(),
            super::tests::ring(9, &[4]).previous_ids()
        );
    }

    #[test]
    fn bad_keys_say_where_they_are_and_never_what() {
        let dir = tempfile::tempdir().unwrap();
        let short = base64::engine::general_purpose::STANDARD.encode([5u8; 16]);
        let list = format!("{},{short}", b64(2));
        let err = MasterKey::load(dir.path(), Some(&b64(1)), Some(&list), false).unwrap_err();
        let text = err.to_string();
        assert_eq!(
            text,
            "PORTCULLIS_PREVIOUS_MASTER_KEYS, key 2: a master key must be 32 bytes in base64, got 16 bytes"
        );
        let bad = "not base64 but secret-ish!";
        let err = MasterKey::load(dir.path(), Some(bad), None, false).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("PORTCULLIS_MASTER_KEY: "), "{text}");
        assert!(!text.contains("secret-ish"), "{text}");
        std::fs::write(
            dir.path().join(PREVIOUS_KEYS_FILE),
            format!("{}\n{bad}\n", b64(2)),
        )
        .unwrap();
        let err = MasterKey::load(dir.path(), Some(&b64(1)), None, false).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("master.key.previous, line 2: "), "{text}");
        assert!(!text.contains("secret-ish"), "{text}");
    }

    #[test]
    fn debug_never_shows_a_key() {
        let ring = ring(1, &[2]);
        let shown = format!("{ring:?}");
        assert_eq!(shown, "MasterKey(<redacted>)");
        assert!(!shown.contains(&b64(1)) && !shown.contains(&b64(2)));
    }

    #[test]
    fn generated_keys_are_new_and_load() {
        let a = MasterKey::generate_base64().unwrap();
        let b = MasterKey::generate_base64().unwrap();
        assert_ne!(*a, *b);
        let key = MasterKey::from_base64(&a).unwrap();
        assert_ne!(
            key.current_id(),
            MasterKey::from_base64(&b).unwrap().current_id()
        );
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
