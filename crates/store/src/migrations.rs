//! The schema migrations, embedded in the binary so a deployed `portcullis` needs no files
//! beside it. The SQL lives in `migrations/{sqlite,postgres}/NNNN_name.sql`; both lists are
//! append-only (sqlx records a checksum of every applied migration and refuses a changed one).
//! A unit test checks that every file on disk is listed here.

use std::borrow::Cow;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType};

use crate::sql::Dialect;

/// (version, description, SQL) of each SQLite migration, in order.
const SQLITE: &[(i64, &str, &str)] = &[(
    1,
    "initial",
    include_str!("../migrations/sqlite/0001_initial.sql"),
)];

/// (version, description, SQL) of each PostgreSQL migration, in order.
const POSTGRES: &[(i64, &str, &str)] = &[(
    1,
    "initial",
    include_str!("../migrations/postgres/0001_initial.sql"),
)];

/// The embedded migrations of one backend, as an sqlx migration source.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Embedded(pub(crate) Dialect);

impl Embedded {
    fn list(self) -> &'static [(i64, &'static str, &'static str)] {
        match self.0 {
            Dialect::Sqlite => SQLITE,
            Dialect::Postgres => POSTGRES,
        }
    }
}

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>,
    > {
        let migrations = self
            .list()
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sqlx::SqlStr::from_static(sql),
                    false,
                )
            })
            .collect();
        Box::pin(async move { Ok(migrations) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_disk(dir: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir);
        let mut names: Vec<String> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        names.sort();
        names
    }

    fn listed(list: &[(i64, &str, &str)]) -> Vec<String> {
        list.iter()
            .map(|(v, d, _)| format!("{v:04}_{d}.sql"))
            .collect()
    }

    #[test]
    fn every_migration_file_is_embedded() {
        assert_eq!(on_disk("sqlite"), listed(SQLITE));
        assert_eq!(on_disk("postgres"), listed(POSTGRES));
    }
}
