//! Re-sealing every stored secret under the current master key, the third
//! step of a rotation (`portcullis master-key reseal`), and its check mode.
//!
//! Safe while nodes serve: values are read a page at a time and each one
//! that a previous key opened is swapped by compare-and-swap on the
//! ciphertext read ([`SealedStore::replace_sealed`]), one small transaction
//! each, so a value a node changed meanwhile (a deleted key, a re-created
//! device) is never overwritten. A lost swap means the record changed: its
//! kind is walked again, since the new value may be under any key.
//!
//! What opens under no key is reported by record, never by content. The one
//! exception is a retired signing key that does not open: the service never
//! opens retired keys, and a rotation race can leave one sealed for a
//! generation it did not get (see `TokenKeys::rotate`), so it is counted
//! apart and is not a failure.

use std::path::Path;

use portcullis_store::model::{Ciphertext, SealedId, SealedKind};
use portcullis_store::{SealedStore, SqlStore, StoreError};

use super::{MasterKey, SealedUnder, SecretsError};

/// Records read per page.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// How many times a kind is walked while swaps keep losing races.
const MAX_PASSES: usize = 5;

/// Re-seal, or only report what a re-seal would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Swap every value under a previous key for one under the current key.
    Reseal,
    /// Change nothing.
    Check,
}

/// What one kind of stored value held, and what was done to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindCounts {
    /// Values read in the last pass.
    pub scanned: u64,
    /// Already under the current key (last pass).
    pub current: u64,
    /// Re-sealed under the current key (all passes).
    pub resealed: u64,
    /// Under a previous key and left so ([`Mode::Check`], or a final pass
    /// that kept losing races).
    pub under_previous: u64,
    /// Retired signing keys that open under no key (ignored, see the module
    /// docs).
    pub retired_unopenable: u64,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// One entry per kind, in [`SealedKind::ALL`] order.
    pub kinds: Vec<(SealedKind, KindCounts)>,
    /// Records whose value opens under no key of the ring (by name, e.g.
    /// `access key AKIA…`), with why.
    pub unopenable: Vec<String>,
}

impl Report {
    /// Values re-sealed in this run.
    pub fn resealed(&self) -> u64 {
        self.kinds.iter().map(|(_, c)| c.resealed).sum()
    }

    /// Values still under a previous key.
    pub fn under_previous(&self) -> u64 {
        self.kinds.iter().map(|(_, c)| c.under_previous).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("no database at {0}: is this the data directory `serve` uses?")]
    NoDatabase(String),
}

/// The store `serve` with the same `--data-dir` / `--database-url` uses.
/// Unlike `serve`, never creates a SQLite database: re-sealing an empty new
/// one would only hide a mistyped directory.
pub async fn open_store(
    data_dir: &Path,
    database_url: Option<&str>,
) -> Result<SqlStore, ResealError> {
    match database_url {
        Some(url) => Ok(SqlStore::connect_postgres(url, 2).await?),
        None => {
            let file = data_dir.join("portcullis.db");
            if !file.is_file() {
                return Err(ResealError::NoDatabase(file.display().to_string()));
            }
            Ok(SqlStore::open_sqlite(data_dir).await?)
        }
    }
}

/// Walks every sealed value of the store; see the module docs.
pub async fn run(
    store: &dyn SealedStore,
    ring: &MasterKey,
    mode: Mode,
    page_size: u32,
) -> Result<Report, ResealError> {
    let mut report = Report::default();
    for kind in SealedKind::ALL {
        let mut counts = KindCounts::default();
        for pass in 1..=MAX_PASSES {
            let mut unopenable = Vec::new();
            let lost = walk(
                store,
                ring,
                mode,
                kind,
                page_size,
                &mut counts,
                &mut unopenable,
            )
            .await?;
            if lost == 0 || pass == MAX_PASSES {
                counts.under_previous += lost;
                report.unopenable.extend(unopenable);
                break;
            }
            tracing::info!(%kind, lost, "values changed while re-sealing; walking them again");
        }
        report.kinds.push((kind, counts));
    }
    Ok(report)
}

/// One pass over `kind`. Returns how many swaps lost a race.
async fn walk(
    store: &dyn SealedStore,
    ring: &MasterKey,
    mode: Mode,
    kind: SealedKind,
    page_size: u32,
    counts: &mut KindCounts,
    unopenable: &mut Vec<String>,
) -> Result<u64, ResealError> {
    counts.scanned = 0;
    counts.current = 0;
    counts.under_previous = 0;
    counts.retired_unopenable = 0;
    let mut lost = 0;
    let mut after: Option<SealedId> = None;
    loop {
        let page = store.list_sealed(kind, after.as_ref(), page_size).await?;
        let full = page.len() >= page_size as usize;
        for value in page {
            counts.scanned += 1;
            let opened = match context_of(&value.id) {
                Some(context) => ring
                    .open_reporting(&context, value.ciphertext.as_bytes())
                    .map(|(plain, under)| (context, plain, under)),
                None => Err(SecretsError::Unseal),
            };
            match opened {
                Ok((_, _, SealedUnder::Current)) => counts.current += 1,
                Ok((_, _, SealedUnder::Previous(_))) if mode == Mode::Check => {
                    counts.under_previous += 1;
                }
                Ok((context, plain, SealedUnder::Previous(_))) => {
                    let new = Ciphertext::new(ring.seal(&context, &plain)?);
                    if store
                        .replace_sealed(&value.id, &value.ciphertext, &new)
                        .await?
                    {
                        counts.resealed += 1;
                    } else {
                        lost += 1;
                    }
                }
                Err(_) if value.retired => counts.retired_unopenable += 1,
                Err(SecretsError::UnknownKey(id)) => unopenable.push(format!(
                    "{} is sealed under master key {id}, which is not in the ring",
                    value.id
                )),
                Err(_) if context_of(&value.id).is_none() => {
                    unopenable.push(format!(
                        "{} has a purpose this version does not know",
                        value.id
                    ));
                }
                Err(_) => unopenable.push(format!(
                    "{} does not open under any key of the ring",
                    value.id
                )),
            }
            after = Some(value.id);
        }
        if !full {
            return Ok(lost);
        }
    }
}

/// The associated data a record's value was sealed with.
fn context_of(id: &SealedId) -> Option<String> {
    match id {
        SealedId::AccessKey(id) => Some(id.clone()),
        SealedId::MfaDevice(serial) => Some(serial.clone()),
        SealedId::SigningKey {
            purpose,
            generation,
        } => match purpose.as_str() {
            crate::sessions::TOKEN_KEY_PURPOSE => Some(crate::sessions::key_context(*generation)),
            crate::idp::keys::PURPOSE => Some(crate::idp::keys::seal_context(*generation)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;

    use portcullis_store::model::{KeyOwner, NewSigningKey, NewVirtualMfaDevice, SealedValue};
    use portcullis_store::{AccountStore, AuthzStore, CredentialStore, ServiceStore};
    use time::OffsetDateTime;

    use super::*;

    const ACCOUNT: &str = "111122223333";
    const KEY_ID: &str = "AKIARESEALTEST000001";

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes(&[byte; 32]).unwrap()
    }

    fn ring(current: u8, previous: &[u8]) -> MasterKey {
        let mut ring = key(current);
        for p in previous {
            ring.add_previous(key(*p));
        }
        ring
    }

    /// A store holding an access key, an MFA seed, a live and a retired
    /// session-token key, all sealed under `old`.
    async fn store_sealed_under(old: &MasterKey) -> (tempfile::TempDir, SqlStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::open_sqlite(dir.path()).await.unwrap();
        let now = OffsetDateTime::now_utc();
        store.create_account(ACCOUNT, now).await.unwrap();
        let secret = Ciphertext::new(old.seal(KEY_ID, b"the-secret").unwrap());
        store
            .create_access_key(ACCOUNT, &KeyOwner::Root, KEY_ID, &secret, now)
            .await
            .unwrap();
        let serial = format!("arn:aws:iam::{ACCOUNT}:mfa/phone");
        let seed = NewVirtualMfaDevice {
            name: "phone".into(),
            path: "/".into(),
            seed_ciphertext: Ciphertext::new(old.seal(&serial, b"seed").unwrap()),
            tags: Vec::new(),
        };
        store
            .create_virtual_mfa_device(ACCOUNT, &seed, now)
            .await
            .unwrap();
        for generation in 1..=2 {
            let material = old
                .seal(
                    &crate::sessions::key_context(generation),
                    &[generation as u8; 32],
                )
                .unwrap();
            store
                .add_signing_key(
                    &NewSigningKey {
                        purpose: crate::sessions::TOKEN_KEY_PURPOSE.into(),
                        key_id: format!("gen-{generation}"),
                        algorithm: "AES-256-GCM".into(),
                        material: Ciphertext::new(material),
                    },
                    now,
                )
                .await
                .unwrap();
        }
        store
            .retire_signing_key(crate::sessions::TOKEN_KEY_PURPOSE, 1, now)
            .await
            .unwrap();
        (dir, store)
    }

    fn counts(report: &Report, kind: SealedKind) -> KindCounts {
        report
            .kinds
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, c)| c.clone())
            .unwrap()
    }

    #[tokio::test]
    async fn reseal_moves_everything_to_the_current_key_once() {
        let (_dir, store) = store_sealed_under(&key(1)).await;
        let rotated = ring(2, &[1]);
        let generation = store.generation(ACCOUNT).await.unwrap();

        let check = run(&store, &rotated, Mode::Check, 1).await.unwrap();
        assert_eq!((check.under_previous(), check.resealed()), (4, 0));
        assert!(check.unopenable.is_empty());
        assert_eq!(
            store.generation(ACCOUNT).await.unwrap(),
            generation,
            "check writes nothing"
        );

        let first = run(&store, &rotated, Mode::Reseal, 1).await.unwrap();
        assert_eq!(first.resealed(), 4, "{first:?}");
        assert_eq!(first.under_previous(), 0);
        assert!(first.unopenable.is_empty());
        assert_eq!(
            counts(&first, SealedKind::SigningKey).resealed,
            2,
            "retired keys are re-sealed too"
        );
        // Two entity writes, each bumping the account generation.
        assert_eq!(store.generation(ACCOUNT).await.unwrap(), generation + 2);

        let second = run(&store, &rotated, Mode::Reseal, 100).await.unwrap();
        assert_eq!(second.resealed(), 0);
        assert_eq!(second.kinds.iter().map(|(_, c)| c.current).sum::<u64>(), 4);
        // The new key alone now opens everything, the old one nothing.
        let new_only = key(2);
        let lookup = store.lookup_access_key(KEY_ID).await.unwrap().unwrap();
        assert_eq!(
            &**new_only
                .open(KEY_ID, lookup.secret_ciphertext.as_bytes())
                .unwrap(),
            b"the-secret"
        );
        assert!(
            key(1)
                .open(KEY_ID, lookup.secret_ciphertext.as_bytes())
                .is_err()
        );
        let after = run(&store, &new_only, Mode::Check, 100).await.unwrap();
        assert_eq!((after.under_previous(), after.unopenable.len()), (0, 0));
    }

    #[tokio::test]
    async fn values_under_no_key_are_named_and_left_alone() {
        let (_dir, store) = store_sealed_under(&key(1)).await;
        // The old key is missing from the ring: nothing opens.
        let report = run(&store, &ring(2, &[3]), Mode::Reseal, 10).await.unwrap();
        assert_eq!(report.resealed(), 0);
        let serial = format!("arn:aws:iam::{ACCOUNT}:mfa/phone");
        assert_eq!(
            report.unopenable,
            [
                format!("access key {KEY_ID} does not open under any key of the ring"),
                format!("MFA device {serial} does not open under any key of the ring"),
                "signing key sts-session-token generation 2 does not open under any key of the ring"
                    .to_owned(),
            ]
        );
        // The retired generation is counted apart, not a failure.
        assert_eq!(
            counts(&report, SealedKind::SigningKey).retired_unopenable,
            1
        );
        for line in &report.unopenable {
            assert!(!line.contains("the-secret"));
        }
    }

    #[tokio::test]
    async fn format_2_values_under_a_dropped_key_name_it() {
        let (_dir, store) = store_sealed_under(&ring(1, &[4])).await;
        let report = run(&store, &ring(2, &[3]), Mode::Check, 10).await.unwrap();
        let id = key(1).current_id();
        assert!(
            report.unopenable[0].ends_with(&format!(
                "is sealed under master key {id}, which is not in the ring"
            )),
            "{:?}",
            report.unopenable
        );
    }

    /// A store where a serving node replaces an access key's secret (under
    /// the new key) between the re-seal's read and its swap.
    struct RacingStore {
        inner: SqlStore,
        theirs: Ciphertext,
        raced: std::sync::atomic::AtomicBool,
    }

    type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = portcullis_store::Result<T>> + Send + 'a>>;

    // By hand, as `#[async_trait]` would expand it (this crate does not
    // depend on async-trait).
    impl SealedStore for RacingStore {
        fn list_sealed<'life0, 'life1, 'async_trait>(
            &'life0 self,
            kind: SealedKind,
            after: Option<&'life1 SealedId>,
            limit: u32,
        ) -> BoxFuture<'async_trait, Vec<SealedValue>>
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(self.inner.list_sealed(kind, after, limit))
        }

        fn replace_sealed<'life0, 'life1, 'life2, 'life3, 'async_trait>(
            &'life0 self,
            id: &'life1 SealedId,
            old: &'life2 Ciphertext,
            new: &'life3 Ciphertext,
        ) -> BoxFuture<'async_trait, bool>
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            'life2: 'async_trait,
            'life3: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move {
                if matches!(id, SealedId::AccessKey(_))
                    && !self.raced.swap(true, std::sync::atomic::Ordering::SeqCst)
                {
                    assert!(self.inner.replace_sealed(id, old, &self.theirs).await?);
                }
                self.inner.replace_sealed(id, old, new).await
            })
        }
    }

    #[tokio::test]
    async fn a_value_changed_meanwhile_is_not_overwritten() {
        let (_dir, inner) = store_sealed_under(&key(1)).await;
        let rotated = ring(2, &[1]);
        let theirs = Ciphertext::new(rotated.seal(KEY_ID, b"changed").unwrap());
        let store = RacingStore {
            inner,
            theirs: theirs.clone(),
            raced: false.into(),
        };
        let report = run(&store, &rotated, Mode::Reseal, 10).await.unwrap();
        let keys = counts(&report, SealedKind::AccessKeySecret);
        // The swap lost; the second pass found their value under the current key.
        assert_eq!(
            (keys.resealed, keys.current, keys.under_previous),
            (0, 1, 0)
        );
        assert!(store.raced.load(std::sync::atomic::Ordering::SeqCst));
        let lookup = store
            .inner
            .lookup_access_key(KEY_ID)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(lookup.secret_ciphertext, theirs);
    }

    #[tokio::test]
    async fn a_missing_sqlite_database_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let err = open_store(dir.path(), None).await.unwrap_err();
        assert!(err.to_string().starts_with("no database at "), "{err}");
        assert!(!dir.path().join("portcullis.db").exists());
    }
}
