//! Everything a request needs that outlives it, built once at start.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use portcullis_sigv4::SigningKeyCache;
use portcullis_store::Store;
use time::OffsetDateTime;

use crate::audit::AuditLog;
use crate::authn::KeyCache;
use crate::authz::cache::Epoch;
use crate::authz::{CompiledDocuments, PolicyCache};
use crate::config::Config;
use crate::managed::AwsManagedPolicies;
use crate::reads::EntityReads;
use crate::secrets::MasterKey;
use crate::sessions::TokenKeys;

/// The shared state of one service process.
#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub master_key: MasterKey,
    pub managed: AwsManagedPolicies,
    /// Derived SigV4 signing keys, per (key, date, region, service).
    pub signing_keys: SigningKeyCache,
    /// Access key id → who it is and its secret, valid for one epoch.
    pub keys: KeyCache,
    /// Principal → compiled policy set, valid for one epoch.
    pub policies: PolicyCache,
    /// Compiled policy documents, shared by every principal they apply to.
    pub compiled: CompiledDocuments,
    /// Entity reads kept between changes.
    pub reads: EntityReads,
    /// Moves whenever cached authorisation data may be stale.
    pub epoch: Epoch,
    pub audit: AuditLog,
    /// The keys that seal and open session tokens.
    pub token_keys: TokenKeys,
    pub clock: Clock,
}

/// The service's clock: the system clock plus an offset that tests move to
/// reach expiry without sleeping.
#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        // Outside tests the offset is zero, and date arithmetic (which
        // normalises the calendar date) would be a cost on every request.
        match self.offset_seconds.load(Ordering::Relaxed) {
            0 => OffsetDateTime::now_utc(),
            offset => OffsetDateTime::now_utc() + time::Duration::seconds(offset),
        }
    }

    pub fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }
}
