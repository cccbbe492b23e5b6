//! Portcullis storage: the IAM entities and the one interface the server stores them through.
//!
//! # Shape
//!
//! * [`model`]: plain data types (users, groups, roles, policies, keys, …).
//! * [`Store`]: the interface, a family of async traits ([`UserStore`], [`PolicyStore`],
//!   [`AuthzStore`], …) that the server holds as `Arc<dyn Store>`. Every method is one
//!   semantic operation in one transaction that enforces AWS's rules itself (uniqueness,
//!   quotas, delete conflicts), so no caller can race them; see [`store`].
//! * [`SqlStore`]: the implementation, on SQLite ([`SqlStore::open_sqlite`], the default: one
//!   file in the data directory) or PostgreSQL ([`SqlStore::connect_postgres`], for several
//!   nodes). Migrations are embedded and applied at open.
//! * [`StoreError`]: one error enum whose variants are AWS error codes with AWS's messages.
//! * [`ids`] and [`arn`]: AWS-format unique ids (`AIDA…`, `AKIA…`) and entity ARNs.
//! * [`change`]: how the server learns that cached authorization data went stale.
//! * [`page`]: `Marker` / `MaxItems` pagination.
//!
//! # What the store does not do
//!
//! It does no cryptography on secrets and never sees one in clear: secret access keys and MFA
//! seeds arrive encrypted ([`model::Ciphertext`]), passwords as Argon2id hashes
//! ([`model::PasswordHash`]). It does not validate names, paths or policy documents against
//! AWS's patterns (the server does, from the API model); it enforces what only the database can
//! enforce atomically. It takes `now` from the caller.
//!
//! # Drivers
//!
//! Both backends go through sqlx's `Any` driver; the store installs sqlx's default drivers
//! (`sqlx::any::install_default_drivers`) when it opens. A process that installs other
//! drivers itself must do so before opening a store.
//!
//! # Testing a backend
//!
//! With the `conformance` feature, [`conformance::suite`] runs every rule against any `Store`;
//! `tests/conformance.rs` runs it on SQLite always and on PostgreSQL when
//! `PORTCULLIS_TEST_DATABASE_URL` is set.

pub mod arn;
pub mod change;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
pub mod ids;
mod migrations;
pub mod model;
pub mod page;
mod sql;
pub mod store;

pub use change::{Change, ChangeKind, EntityRef};
pub use error::{Result, StoreError};
pub use page::Page;
pub use sql::{Dialect, SqlStore};
pub use store::{
    AccountStore, AuthzStore, CredentialStore, GroupStore, InstanceProfileStore, PolicyStore,
    ProviderStore, RoleStore, SealedStore, ServiceStore, Store, TagStore, UserStore,
};
