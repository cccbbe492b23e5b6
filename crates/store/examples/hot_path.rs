//! Times the two hot-path reads: `lookup_access_key` (every signed request with a long-term
//! key) and `authorization_set` (every cache miss of the server's compiled policy sets).
//!
//! `cargo run -p portcullis-store --example hot_path [--release]`; set
//! `PORTCULLIS_TEST_DATABASE_URL` to time PostgreSQL as well. Prints microseconds per call.

use std::sync::Arc;
use std::time::Instant;

use portcullis_store::model::*;
use portcullis_store::{SqlStore, Store};
use time::OffsetDateTime;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

const N: u32 = 2000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), AnyError> {
    let dir = tempfile::tempdir()?;
    let sqlite: Arc<dyn Store> = Arc::new(SqlStore::open_sqlite(dir.path()).await?);
    measure("sqlite", &sqlite).await?;
    if let Ok(url) = std::env::var("PORTCULLIS_TEST_DATABASE_URL") {
        let pg: Arc<dyn Store> = Arc::new(SqlStore::connect_postgres(&url, 8).await?);
        measure("postgres", &pg).await?;
    }
    Ok(())
}

async fn measure(backend: &str, s: &Arc<dyn Store>) -> Result<(), AnyError> {
    let now = OffsetDateTime::now_utc();
    let account = format!(
        "{:012}",
        rand::random_range(100_000_000_000u64..1_000_000_000_000)
    );
    s.create_account(&account, now).await?;
    let user = NewUser {
        name: "bench".into(),
        path: "/".into(),
        tags: vec![Tag::new("team", "a")],
        ..Default::default()
    };
    s.create_user(&account, &user, now).await?;
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    let owner = PolicyOwner::User("bench".into());
    s.put_inline_policy(&account, &owner, "inline", doc).await?;
    let p = s
        .create_policy(
            &account,
            &NewPolicy {
                name: "P".into(),
                path: "/".into(),
                document: doc.into(),
                ..Default::default()
            },
            now,
        )
        .await?;
    s.attach_policy(&account, &owner, &p.arn).await?;
    s.attach_policy(&account, &owner, "arn:aws:iam::aws:policy/ReadOnlyAccess")
        .await?;
    for g in ["g1", "g2"] {
        s.create_group(
            &account,
            &NewGroup {
                name: g.into(),
                path: "/".into(),
            },
            now,
        )
        .await?;
        s.add_user_to_group(&account, g, "bench").await?;
        s.put_inline_policy(&account, &PolicyOwner::Group(g.into()), "gp", doc)
            .await?;
    }
    let key = portcullis_store::ids::new_id(portcullis_store::ids::IdKind::AccessKey);
    s.create_access_key(
        &account,
        &KeyOwner::User("bench".into()),
        &key,
        &Ciphertext::new(vec![7; 60]),
        now,
    )
    .await?;

    let t = Instant::now();
    for _ in 0..N {
        s.lookup_access_key(&key).await?.ok_or("key vanished")?;
    }
    let lookup = t.elapsed().as_secs_f64() * 1e6 / f64::from(N);
    let principal = PrincipalRef::UserName("bench".into());
    let t = Instant::now();
    for _ in 0..N {
        s.authorization_set(&account, &principal).await?;
    }
    let set = t.elapsed().as_secs_f64() * 1e6 / f64::from(N);
    println!(
        "{backend}: lookup_access_key {lookup:.1} µs/call, authorization_set (2 groups, 6 policies) {set:.1} µs/call"
    );
    Ok(())
}
