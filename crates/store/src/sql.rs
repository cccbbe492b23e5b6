//! The SQL implementation of every store trait, shared by the SQLite and PostgreSQL backends.
//!
//! One implementation runs on both databases through sqlx's `Any` driver: the SQL is written in
//! the common subset (`$n` parameters, `ON CONFLICT`, `RETURNING`, `substr`/`length`), values
//! are only text, 64-bit integers and bytes, and the few differences are a [`Dialect`] switch
//! (how a writer begins, how changes are announced). Writing every rule once is what keeps the
//! two backends from drifting apart; the conformance suite checks that they did not.
//!
//! # Transactions and races
//!
//! Every writing method runs in one transaction whose first statement increments the account's
//! generation (`UPDATE accounts … RETURNING generation`). On PostgreSQL that statement takes the
//! account row's lock, so writers of one account are serialised: a count-then-insert check
//! (5 versions per policy, 2 keys per user) cannot race. On SQLite writers begin with
//! `BEGIN IMMEDIATE`, which serialises all writers. Name uniqueness is additionally enforced by
//! unique indexes on lower-cased names, so even a bug in a check cannot create a duplicate.

// Column lists shared by the modules below (textual macro scope: defined before the `mod`s).
// Macros rather than consts because sqlx takes `&'static str` SQL and `concat!` needs literals.
macro_rules! user_cols {
    () => {
        "id, account_id, name, path, arn, create_date, boundary_arn, password_last_used"
    };
}
macro_rules! group_cols {
    () => {
        "id, account_id, name, path, arn, create_date"
    };
}
macro_rules! role_cols {
    () => {
        "id, account_id, name, path, arn, create_date, trust_policy, description, \
         max_session_duration, boundary_arn, last_used_date, last_used_region"
    };
}
macro_rules! policy_cols {
    () => {
        "id, account_id, name, path, arn, description, create_date, update_date, \
         default_version, next_version"
    };
}
macro_rules! profile_cols {
    () => {
        "id, account_id, name, path, arn, create_date"
    };
}
macro_rules! key_cols {
    () => {
        "k.id, k.account_id, u.name AS user_name, k.status, k.create_date, k.last_used_date, \
         k.last_used_service, k.last_used_region"
    };
}
macro_rules! mfa_cols {
    () => {
        "m.serial_number, m.account_id, u.name AS user_name, m.seed_ciphertext, m.create_date, \
         m.enable_date, m.last_used_step"
    };
}

mod access;
mod accounts;
mod authz;
mod groups;
mod instance_profiles;
mod policies;
mod providers;
mod roles;
mod sealed;
mod service;
mod tags;
mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Executor, Transaction};
use time::OffsetDateTime;
use tokio::sync::broadcast;

use crate::change::{Change, ChangeKind, EntityRef, PG_CHANNEL};
use crate::error::{Result, StoreError};

/// Which database the pool talks to; the only place the SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL (or a compatible database).
    Postgres,
}

/// How long a SQLite writer waits for the write lock before giving up with
/// `ConcurrentModification`. Writers hold it for milliseconds, so this is only reached under
/// pathological load.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The store over one database. Cheap to share: clone the `Arc` it is usually held in.
#[derive(Debug)]
pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
    changes: broadcast::Sender<Change>,
}

/// Capacity of the in-process change channel; a receiver further behind gets `Lagged` and must
/// flush its caches (see [`crate::change`]).
const CHANGE_CHANNEL_CAPACITY: usize = 1024;

impl SqlStore {
    /// Opens (creating it if needed) the SQLite database `portcullis.db` in `data_dir` and
    /// applies pending migrations.
    ///
    /// Durability: WAL journal with `synchronous=FULL`, so a write acknowledged to a client
    /// survives a crash of the process or the machine. Foreign keys are on.
    #[cfg(feature = "sqlite")]
    pub async fn open_sqlite(data_dir: &std::path::Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(StoreError::backend)?;
        let file = data_dir.join("portcullis.db");
        let url = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true)
            .to_url_lossy();
        let options = AnyConnectOptions::from_str(url.as_str())?;
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    // Per-connection settings; journal_mode is persistent but setting it on
                    // every connection is harmless and makes the first one do it.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    let busy = format!("PRAGMA busy_timeout = {}", SQLITE_BUSY_TIMEOUT.as_millis());
                    conn.execute(sqlx::AssertSqlSafe(busy)).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let store = Self::new(pool, Dialect::Sqlite);
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to PostgreSQL and applies pending migrations. Several nodes may start at once:
    /// migrations run under an advisory lock, so exactly one applies each.
    #[cfg(feature = "postgres")]
    pub async fn connect_postgres(url: &str, max_connections: u32) -> Result<Self> {
        let options = AnyConnectOptions::from_str(url)?;
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let store = Self::new(pool, Dialect::Postgres);
        store.migrate().await?;
        Ok(store)
    }

    fn new(pool: AnyPool, dialect: Dialect) -> Self {
        let (changes, _) = broadcast::channel(CHANGE_CHANNEL_CAPACITY);
        Self {
            pool,
            dialect,
            changes,
        }
    }

    /// The backend in use.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// PostgreSQL: listens on [`PG_CHANNEL`] and forwards every node's change
    /// notifications to this process's subscribers ([`crate::AuthzStore::subscribe`]),
    /// reconnecting after a lost connection. Notifications are hints: a node
    /// must also compare generations from time to time (see [`crate::change`]),
    /// since a notification sent while this listener was reconnecting is lost.
    #[cfg(feature = "postgres")]
    pub fn spawn_postgres_listener(&self, url: &str) -> tokio::task::JoinHandle<()> {
        let url = url.to_owned();
        let changes = self.changes.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = Self::listen_once(&url, &changes).await {
                    tracing::warn!(error = %e, "change listener lost its connection; reconnecting");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    }

    #[cfg(feature = "postgres")]
    async fn listen_once(url: &str, changes: &broadcast::Sender<Change>) -> Result<()> {
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(PG_CHANNEL).await?;
        loop {
            let notification = listener.recv().await?;
            let Some((account, generation)) = notification.payload().rsplit_once(':') else {
                continue;
            };
            let Ok(generation) = generation.parse() else {
                continue;
            };
            // No receiver is fine: nobody caches yet.
            let _ = changes.send(Change {
                account: account.to_owned(),
                generation,
                kind: ChangeKind::Updated,
                entity: EntityRef::Account,
            });
        }
    }

    /// Closes the pool, waiting for connections to be returned. Useful before deleting a test
    /// database or at shutdown.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn migrate(&self) -> Result<()> {
        let migrator =
            sqlx::migrate::Migrator::new(crate::migrations::Embedded(self.dialect)).await?;
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Begins a writing transaction. SQLite: `BEGIN IMMEDIATE` takes the write lock now, so the
    /// transaction can never fail later with a lock upgrade deadlock.
    async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.pool.begin().await?,
        })
    }

    /// Begins a read transaction that sees one consistent snapshot across its statements.
    async fn begin_read(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.pool.begin().await?,
            Dialect::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        })
    }

    /// Begins a writing transaction of `account` and bumps its generation first (see the
    /// module docs for why first).
    async fn begin_change(&self, account: &str) -> Result<Writer> {
        let mut tx = self.begin_write().await?;
        let generation = bump_generation(&mut tx, account).await?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT count(*) FROM (SELECT pg_notify($1, $2)) AS n")
                .bind(PG_CHANNEL)
                .bind(format!("{account}:{generation}"))
                .execute(&mut *tx)
                .await?;
        }
        Ok(Writer {
            tx,
            account: account.to_owned(),
            generation,
        })
    }

    /// Commits a change and announces it.
    async fn commit(&self, change: Writer, kind: ChangeKind, entity: EntityRef) -> Result<()> {
        change.tx.commit().await?;
        // No receiver is not an error: nobody caches yet.
        let _ = self.changes.send(Change {
            account: change.account,
            generation: change.generation,
            kind,
            entity,
        });
        Ok(())
    }
}

/// A writing transaction of one account, with the generation it will commit.
struct Writer {
    tx: Transaction<'static, Any>,
    account: String,
    generation: u64,
}

impl std::ops::Deref for Writer {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

async fn bump_generation(conn: &mut AnyConnection, account: &str) -> Result<u64> {
    let generation: Option<i64> = sqlx::query_scalar(
        "UPDATE accounts SET generation = generation + 1 WHERE id = $1 RETURNING generation",
    )
    .bind(account)
    .fetch_optional(&mut *conn)
    .await?;
    let generation = generation.ok_or_else(|| no_account(account))?;
    u64::try_from(generation).map_err(StoreError::backend)
}

pub(crate) fn no_account(account: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("The account with id {account} cannot be found."))
}

/// Unix seconds → time, failing loudly on a corrupt value rather than inventing a date.
pub(crate) fn to_time(secs: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(StoreError::backend)
}

pub(crate) fn opt_time(secs: Option<i64>) -> Result<Option<OffsetDateTime>> {
    secs.map(to_time).transpose()
}

pub(crate) fn secs(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub(crate) fn to_u64(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(StoreError::backend)
}

pub(crate) fn to_u32(v: i64) -> Result<u32> {
    u32::try_from(v).map_err(StoreError::backend)
}

pub(crate) fn from_u64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::InvalidInput(format!("Value {v} is out of range.")))
}

/// Whether a database error is a unique-constraint violation (a duplicate name or key).
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

/// Maps a unique violation to the given AWS error, anything else to the usual mapping.
pub(crate) fn unique_or(err: sqlx::Error, on_dup: impl FnOnce() -> StoreError) -> StoreError {
    if is_unique_violation(&err) {
        on_dup()
    } else {
        StoreError::from(err)
    }
}

/// Lower-cases a name the way IAM compares names. IAM names are ASCII (`[\w+=,.@-]`), so ASCII
/// folding is exact and avoids Unicode case-mapping surprises.
pub(crate) fn lower(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// `SELECT count(*)` with one text argument.
pub(crate) async fn count1(conn: &mut AnyConnection, sql: &'static str, a: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(sql)
        .bind(a)
        .fetch_one(&mut *conn)
        .await?)
}

/// `SELECT count(*)` with two text arguments.
pub(crate) async fn count2(
    conn: &mut AnyConnection,
    sql: &'static str,
    a: &str,
    b: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(sql)
        .bind(a)
        .bind(b)
        .fetch_one(&mut *conn)
        .await?)
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;
    use crate::model::NewUser;
    use crate::store::{AccountStore, UserStore};

    #[allow(
        clippy::unwrap_used,
        reason = "test helper: a failed query must fail the test"
    )]
    async fn pragma(conn: &mut AnyConnection, name: &'static str) -> String {
        let row: (String,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(({name}) AS TEXT)"
        )))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        row.0
    }

    #[tokio::test]
    async fn sqlite_connections_are_durable_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::open_sqlite(dir.path()).await.unwrap();
        assert_eq!(store.dialect(), Dialect::Sqlite);
        assert!(dir.path().join("portcullis.db").exists());
        // Hold three connections at once, so each is a distinct pooled connection: every one
        // must have the settings, not only the first.
        let mut conns = Vec::new();
        for _ in 0..3 {
            conns.push(store.pool.acquire().await.unwrap());
        }
        for conn in &mut conns {
            assert_eq!(
                pragma(conn, "SELECT journal_mode FROM pragma_journal_mode").await,
                "wal"
            );
            assert_eq!(
                pragma(conn, "SELECT synchronous FROM pragma_synchronous").await,
                "2",
                "FULL"
            );
            assert_eq!(
                pragma(conn, "SELECT foreign_keys FROM pragma_foreign_keys").await,
                "1"
            );
            assert_eq!(
                pragma(conn, "SELECT timeout FROM pragma_busy_timeout").await,
                "10000"
            );
        }
    }

    #[tokio::test]
    async fn sqlite_reopen_keeps_data_and_does_not_remigrate() {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        {
            let store = SqlStore::open_sqlite(dir.path()).await.unwrap();
            store.create_account("111122223333", now).await.unwrap();
            let user = NewUser {
                name: "kept".into(),
                path: "/".into(),
                ..NewUser::default()
            };
            store.create_user("111122223333", &user, now).await.unwrap();
            store.close().await;
        }
        let store = SqlStore::open_sqlite(dir.path()).await.unwrap();
        let user = store.get_user("111122223333", "kept").await.unwrap();
        assert_eq!(user.create_date, now);
        assert_eq!(
            store.get_account("111122223333").await.unwrap().generation,
            1
        );
    }

    #[tokio::test]
    async fn foreign_keys_refuse_orphans() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::open_sqlite(dir.path()).await.unwrap();
        let err = sqlx::query(
            "INSERT INTO iam_users (id, account_id, name, name_lower, path, arn, create_date) \
             VALUES ('AIDAX', 'nope', 'n', 'n', '/', 'arn', 0)",
        )
        .execute(&store.pool)
        .await
        .unwrap_err();
        assert!(
            err.as_database_error()
                .is_some_and(|e| e.is_foreign_key_violation()),
            "{err}"
        );
    }
}
