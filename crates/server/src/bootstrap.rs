//! Start-up: open the store, load the master key, make sure the account and
//! its root credentials exist, and build the shared state.

use std::path::Path;
use std::sync::Arc;

use portcullis_sigv4::SigningKeyCache;
use portcullis_store::ids::{IdKind, new_id};
use portcullis_store::model::{Ciphertext, KeyOwner, KeyPrincipal};
use portcullis_store::{SqlStore, Store};
use zeroize::Zeroizing;

use crate::audit::AuditLog;
use crate::authz::CompiledDocuments;
use crate::authz::cache::{Epoch, EpochCache};
use crate::config::{Config, RootCredentials};
use crate::managed::AwsManagedPolicies;
use crate::reads::EntityReads;
use crate::secrets::{MasterKey, new_secret_access_key, write_private_file};
use crate::sessions::TokenKeys;
use crate::state::{AppState, Clock};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Store(#[from] portcullis_store::StoreError),
    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretsError),
    #[error("{0}")]
    Catalog(#[from] crate::managed::CatalogError),
    #[error("the account id must be 12 digits, got `{0}`")]
    AccountId(String),
    #[error("root credentials: {0}")]
    RootCredentials(String),
    #[error("session token keys: {0}")]
    TokenKeys(#[from] crate::sessions::TokenError),
    #[error("cannot open the audit log {path}: {source}")]
    Audit {
        path: String,
        source: std::io::Error,
    },
}

/// What start-up tells the operator about the root credentials.
#[derive(Debug)]
pub enum RootKeyNotice {
    /// Installed from `PORTCULLIS_ROOT_ACCESS_KEY_ID` / `…SECRET…`.
    FromEnvironment { access_key_id: String },
    /// Generated now: the only time the secret is shown.
    Generated(RootCredentials),
    /// Already there from an earlier start.
    Existing,
}

/// Builds the state of a service from its configuration.
pub async fn start(config: Config) -> Result<(Arc<AppState>, RootKeyNotice), StartError> {
    for account in std::iter::once(&config.account_id).chain(&config.additional_accounts) {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(StartError::AccountId(account.clone()));
        }
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let store: Arc<dyn Store> = match &config.database_url {
        Some(url) => {
            let store = SqlStore::connect_postgres(url, 16).await?;
            store.spawn_postgres_listener(url);
            Arc::new(store)
        }
        None => Arc::new(SqlStore::open_sqlite(&config.data_dir).await?),
    };
    let master_key = MasterKey::load(
        &config.data_dir,
        config.master_key.as_deref().map(String::as_str),
        config.previous_master_keys.as_deref().map(String::as_str),
        true,
    )?;
    tracing::info!(
        current = %master_key.current_id(),
        previous = ?master_key.previous_ids(),
        "master key ring"
    );
    let now = time::OffsetDateTime::now_utc();
    store.ensure_account(&config.account_id, now).await?;
    let notice = ensure_root_key(store.as_ref(), &master_key, &config, now).await?;
    for account in &config.additional_accounts {
        store.ensure_account(account, now).await?;
        let file = config.data_dir.join(format!("root-credentials-{account}"));
        ensure_generated_root_key(store.as_ref(), &master_key, account, &file, now).await?;
    }
    let audit_path = config.data_dir.join("audit.log");
    let audit = AuditLog::open(&audit_path).map_err(|source| StartError::Audit {
        path: audit_path.display().to_string(),
        source,
    })?;
    let token_keys = TokenKeys::load(store.as_ref(), &master_key, now).await?;
    let state = Arc::new(AppState {
        token_keys,
        managed: AwsManagedPolicies::load()?,
        signing_keys: SigningKeyCache::new(4096),
        keys: EpochCache::new(10_000),
        policies: EpochCache::new(10_000),
        compiled: CompiledDocuments::default(),
        reads: EntityReads::default(),
        epoch: Epoch::default(),
        audit,
        clock: Clock::default(),
        master_key,
        store,
        config,
    });
    spawn_change_listener(&state);
    spawn_generation_poll(&state);
    spawn_token_key_rotation(&state);
    Ok((state, notice))
}

/// Every change the store announces moves the epoch, so caches built
/// before it are not used again. A lagging receiver moves it too: it may
/// have missed something.
fn spawn_change_listener(state: &Arc<AppState>) {
    let mut changes = state.store.subscribe();
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        loop {
            let result = changes.recv().await;
            let Some(state) = weak.upgrade() else { return };
            match result {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    state.epoch.advance()
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// How often each account's generation is compared with the last one seen.
/// Notifications usually arrive first; this bounds staleness when one is
/// missed (another node's change during a reconnect, a lagging channel).
const GENERATION_POLL: std::time::Duration = std::time::Duration::from_millis(400);

/// Moves the epoch when any account's generation moved without this node
/// hearing of it.
fn spawn_generation_poll(state: &Arc<AppState>) {
    let weak = Arc::downgrade(state);
    let accounts: Vec<String> = std::iter::once(state.config.account_id.clone())
        .chain(state.config.additional_accounts.iter().cloned())
        .collect();
    tokio::spawn(async move {
        let mut seen: Vec<Option<u64>> = vec![None; accounts.len()];
        let mut tick = tokio::time::interval(GENERATION_POLL);
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else { return };
            for (account, last) in accounts.iter().zip(seen.iter_mut()) {
                match state.store.generation(account).await {
                    Ok(generation) => {
                        if last.is_some_and(|l| l != generation) {
                            state.epoch.advance();
                        }
                        *last = Some(generation);
                    }
                    Err(e) => {
                        tracing::warn!(account, error = %e, "cannot read the account generation")
                    }
                }
            }
        }
    });
}

/// Rotates the session-token key when it is a day old; checked hourly.
fn spawn_token_key_rotation(state: &Arc<AppState>) {
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else { return };
            let now = state.clock.now();
            if state.token_keys.needs_rotation(now)
                && let Err(e) = state
                    .token_keys
                    .rotate(state.store.as_ref(), &state.master_key, now)
                    .await
            {
                tracing::error!(error = %e, "cannot rotate the session token key");
            }
        }
    });
}

async fn ensure_root_key(
    store: &dyn Store,
    master_key: &MasterKey,
    config: &Config,
    now: time::OffsetDateTime,
) -> Result<RootKeyNotice, StartError> {
    let account = config.account_id.as_str();
    let install = |creds: &RootCredentials| -> Result<Ciphertext, StartError> {
        Ok(Ciphertext::new(master_key.seal(
            &creds.access_key_id,
            creds.secret_access_key.as_bytes(),
        )?))
    };
    if let Some(creds) = &config.root_credentials {
        let id = &creds.access_key_id;
        let well_formed = id.len() == 20
            && id.starts_with("AKIA")
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !well_formed {
            return Err(StartError::RootCredentials(format!(
                "`{}` is not an access key id (AKIA followed by 16 characters)",
                creds.access_key_id
            )));
        }
        match store.lookup_access_key(&creds.access_key_id).await? {
            Some(existing) => {
                if existing.account_id != account || existing.principal != KeyPrincipal::Root {
                    return Err(StartError::RootCredentials(format!(
                        "access key {} belongs to another identity",
                        creds.access_key_id
                    )));
                }
                let stored = master_key.open(
                    &existing.access_key_id,
                    existing.secret_ciphertext.as_bytes(),
                )?;
                // A changed secret for the same id replaces the key.
                if !bool::from(subtle::ConstantTimeEq::ct_eq(
                    stored.as_slice(),
                    creds.secret_access_key.as_bytes(),
                )) {
                    store
                        .delete_access_key(account, &KeyOwner::Root, &creds.access_key_id)
                        .await?;
                    store
                        .create_access_key(
                            account,
                            &KeyOwner::Root,
                            &creds.access_key_id,
                            &install(creds)?,
                            now,
                        )
                        .await?;
                }
            }
            None => {
                store
                    .create_access_key(
                        account,
                        &KeyOwner::Root,
                        &creds.access_key_id,
                        &install(creds)?,
                        now,
                    )
                    .await?;
            }
        }
        return Ok(RootKeyNotice::FromEnvironment {
            access_key_id: creds.access_key_id.clone(),
        });
    }
    let file = config.data_dir.join("root-credentials");
    ensure_generated_root_key(store, master_key, account, &file, now).await
}

/// Generates root credentials for `account` unless it has some, writing
/// them to `file` (owner-only).
async fn ensure_generated_root_key(
    store: &dyn Store,
    master_key: &MasterKey,
    account: &str,
    file: &Path,
    now: time::OffsetDateTime,
) -> Result<RootKeyNotice, StartError> {
    let existing = store
        .list_access_keys(account, &KeyOwner::Root, None, 10)
        .await?;
    if !existing.items.is_empty() {
        return Ok(RootKeyNotice::Existing);
    }
    let creds = RootCredentials {
        access_key_id: new_id(IdKind::AccessKey),
        secret_access_key: Zeroizing::new(new_secret_access_key()?.to_string()),
    };
    let sealed =
        Ciphertext::new(master_key.seal(&creds.access_key_id, creds.secret_access_key.as_bytes())?);
    store
        .create_access_key(account, &KeyOwner::Root, &creds.access_key_id, &sealed, now)
        .await?;
    write_root_credentials(file, &creds).map_err(|e| {
        StartError::RootCredentials(format!("cannot write the root credentials file: {e}"))
    })?;
    Ok(RootKeyNotice::Generated(creds))
}

/// `DATA_DIR/root-credentials`, owner-only, in the AWS shared-credentials
/// format so it can be used as `AWS_SHARED_CREDENTIALS_FILE` directly.
fn write_root_credentials(path: &Path, creds: &RootCredentials) -> std::io::Result<()> {
    let text = Zeroizing::new(format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        creds.access_key_id,
        creds.secret_access_key.as_str()
    ));
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    write_private_file(path, text.as_bytes())
}
