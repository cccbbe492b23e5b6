//! The store a behaviour test's service runs on. SQLite in the test's data
//! directory by default; with `PORTCULLIS_TEST_BACKEND=postgres`, a fresh
//! PostgreSQL database of its own, made on the cluster that
//! `PORTCULLIS_TEST_DATABASE_URL` names. `scripts/test.sh` runs these tests
//! once per backend; the throwaway cluster (and every database on it) is
//! removed at its end.

#![allow(
    clippy::panic,
    reason = "test set-up: a backend that cannot be reached must stop the test loudly, never fall back"
)]

/// The `--database-url` for one service, or `None` for SQLite.
pub fn database_url() -> Option<String> {
    match std::env::var("PORTCULLIS_TEST_BACKEND").as_deref() {
        Err(_) | Ok("sqlite") => None,
        Ok("postgres") => {
            let base = std::env::var("PORTCULLIS_TEST_DATABASE_URL").unwrap_or_else(|_| {
                panic!(
                    "PORTCULLIS_TEST_BACKEND=postgres needs PORTCULLIS_TEST_DATABASE_URL \
                     (scripts/test.sh sets it from a throwaway cluster)"
                )
            });
            let name = format!("portcullis_rs_{}", uuid::Uuid::new_v4().simple());
            let status = std::process::Command::new("psql")
                .args([&base, "-v", "ON_ERROR_STOP=1", "-q", "-c"])
                .arg(format!("CREATE DATABASE {name}"))
                .stdin(std::process::Stdio::null())
                .status()
                .unwrap_or_else(|e| panic!("cannot run psql to create a test database: {e}"));
            assert!(status.success(), "psql could not create {name} on {base}");
            let (cluster, _) = base
                .rsplit_once('/')
                .unwrap_or_else(|| panic!("{base} names no database"));
            Some(format!("{cluster}/{name}"))
        }
        Ok(other) => panic!("PORTCULLIS_TEST_BACKEND is `{other}`: expected sqlite or postgres"),
    }
}
