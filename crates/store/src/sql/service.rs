//! Service bookkeeping: signing keys, OIDC issuer clients, sign-in lockout, single-use values.
//! None of this changes an authorization decision, so nothing here bumps a generation.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{SqlStore, from_u64, lower, opt_time, secs, to_time, to_u32, to_u64, unique_or};
use crate::error::{Result, StoreError};
use crate::model::{
    Ciphertext, LockoutPolicy, NewOidcClient, NewSigningKey, OidcClient, SigninLockout, SigningKey,
};
use crate::store::ServiceStore;

#[derive(sqlx::FromRow)]
struct KeyRow {
    purpose: String,
    generation: i64,
    key_id: String,
    algorithm: String,
    material: Vec<u8>,
    create_date: i64,
    retire_date: Option<i64>,
}

impl KeyRow {
    fn into_key(self) -> Result<SigningKey> {
        Ok(SigningKey {
            purpose: self.purpose,
            generation: to_u64(self.generation)?,
            key_id: self.key_id,
            algorithm: self.algorithm,
            material: Ciphertext::new(self.material),
            create_date: to_time(self.create_date)?,
            retire_date: opt_time(self.retire_date)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    client_id: String,
    account_id: String,
    name: String,
    redirect_uris: String,
    secret_hash: Option<String>,
    create_date: i64,
}

impl ClientRow {
    fn into_client(self) -> Result<OidcClient> {
        Ok(OidcClient {
            client_id: self.client_id,
            account_id: self.account_id,
            name: self.name,
            redirect_uris: self
                .redirect_uris
                .split('\n')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            secret_hash: self.secret_hash,
            create_date: to_time(self.create_date)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct FailureRow {
    failures: i64,
    first_failure: i64,
    locked_until: Option<i64>,
}

impl FailureRow {
    fn state(&self, policy: &LockoutPolicy, now: OffsetDateTime) -> Result<SigninLockout> {
        let in_window = self.first_failure > secs(now) - policy.window_seconds;
        Ok(SigninLockout {
            failures: if in_window { to_u32(self.failures)? } else { 0 },
            locked_until: opt_time(self.locked_until)?.filter(|until| *until > now),
        })
    }
}

fn client_not_found(id: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("The OIDC client with id {id} cannot be found."))
}

#[async_trait]
impl ServiceStore for SqlStore {
    async fn add_signing_key(
        &self,
        key: &NewSigningKey,
        now: OffsetDateTime,
    ) -> Result<SigningKey> {
        let mut tx = self.begin_write().await?;
        let row: KeyRow = sqlx::query_as(
            "INSERT INTO signing_keys (purpose, generation, key_id, algorithm, material, create_date) \
             VALUES ($1, (SELECT COALESCE(MAX(generation), 0) + 1 FROM signing_keys WHERE purpose = $1), \
             $2, $3, $4, $5) \
             RETURNING purpose, generation, key_id, algorithm, material, create_date, retire_date",
        )
        .bind(&key.purpose)
        .bind(&key.key_id)
        .bind(&key.algorithm)
        .bind(key.material.as_bytes())
        .bind(secs(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            // Two nodes rotating at once: one wins the generation, the other retries.
            unique_or(e, || {
                StoreError::ConcurrentModification(format!(
                    "Signing key {} or a concurrent rotation of {} already exists.",
                    key.key_id, key.purpose
                ))
            })
        })?;
        tx.commit().await?;
        row.into_key()
    }

    async fn list_signing_keys(&self, purpose: &str) -> Result<Vec<SigningKey>> {
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT purpose, generation, key_id, algorithm, material, create_date, retire_date \
             FROM signing_keys WHERE purpose = $1 ORDER BY generation DESC",
        )
        .bind(purpose)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(KeyRow::into_key).collect()
    }

    async fn retire_signing_key(
        &self,
        purpose: &str,
        generation: u64,
        now: OffsetDateTime,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE signing_keys SET retire_date = COALESCE(retire_date, $1) WHERE purpose = $2 AND generation = $3",
        )
        .bind(secs(now))
        .bind(purpose)
        .bind(from_u64(generation)?)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(StoreError::NoSuchEntity(format!(
                "The signing key {purpose} generation {generation} cannot be found."
            )));
        }
        Ok(())
    }

    async fn create_oidc_client(
        &self,
        account: &str,
        client: &NewOidcClient,
        now: OffsetDateTime,
    ) -> Result<OidcClient> {
        if client
            .redirect_uris
            .iter()
            .any(|u| u.contains(['\n', '\r']) || u.is_empty())
        {
            return Err(StoreError::InvalidInput(
                "A redirect URI is empty or contains a line break.".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO oidc_clients (client_id, account_id, name, redirect_uris, secret_hash, create_date) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&client.client_id)
        .bind(account)
        .bind(&client.name)
        .bind(client.redirect_uris.join("\n"))
        .bind(client.secret_hash.as_deref())
        .bind(secs(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            unique_or(e, || StoreError::EntityAlreadyExists(format!("OIDC client {} already exists.", client.client_id)))
        })?;
        tx.commit().await?;
        Ok(OidcClient {
            client_id: client.client_id.clone(),
            account_id: account.to_owned(),
            name: client.name.clone(),
            redirect_uris: client.redirect_uris.clone(),
            secret_hash: client.secret_hash.clone(),
            create_date: to_time(secs(now))?,
        })
    }

    async fn get_oidc_client(&self, client_id: &str) -> Result<OidcClient> {
        let row: Option<ClientRow> = sqlx::query_as(
            "SELECT client_id, account_id, name, redirect_uris, secret_hash, create_date FROM oidc_clients \
             WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| client_not_found(client_id))?
            .into_client()
    }

    async fn delete_oidc_client(&self, account: &str, client_id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM oidc_clients WHERE account_id = $1 AND client_id = $2")
            .bind(account)
            .bind(client_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if done == 0 {
            Err(client_not_found(client_id))
        } else {
            Ok(())
        }
    }

    async fn list_oidc_clients(&self, account: &str) -> Result<Vec<OidcClient>> {
        let rows: Vec<ClientRow> = sqlx::query_as(
            "SELECT client_id, account_id, name, redirect_uris, secret_hash, create_date FROM oidc_clients \
             WHERE account_id = $1 ORDER BY client_id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ClientRow::into_client).collect()
    }

    async fn record_signin_failure(
        &self,
        account: &str,
        user: &str,
        policy: &LockoutPolicy,
        now: OffsetDateTime,
    ) -> Result<SigninLockout> {
        let mut tx = self.begin_write().await?;
        // One upsert counts the failure (restarting the window when it has passed); on
        // PostgreSQL it also locks the row for the rest of the transaction.
        let row: FailureRow = sqlx::query_as(
            "INSERT INTO signin_failures (account_id, user_lower, failures, first_failure, locked_until) \
             VALUES ($1, $2, 1, $3, NULL) \
             ON CONFLICT (account_id, user_lower) DO UPDATE SET \
             failures = CASE WHEN signin_failures.first_failure <= $3 - $4 THEN 1 \
                        ELSE signin_failures.failures + 1 END, \
             first_failure = CASE WHEN signin_failures.first_failure <= $3 - $4 THEN $3 \
                        ELSE signin_failures.first_failure END \
             RETURNING failures, first_failure, locked_until",
        )
        .bind(account)
        .bind(lower(user))
        .bind(secs(now))
        .bind(policy.window_seconds)
        .fetch_one(&mut *tx)
        .await?;
        let mut state = row.state(policy, now)?;
        if state.failures >= policy.max_failures {
            let until = secs(now) + policy.lock_seconds;
            sqlx::query(
                "UPDATE signin_failures SET locked_until = $1, failures = 0, first_failure = $2 \
                 WHERE account_id = $3 AND user_lower = $4",
            )
            .bind(until)
            .bind(secs(now))
            .bind(account)
            .bind(lower(user))
            .execute(&mut *tx)
            .await?;
            state = SigninLockout {
                failures: state.failures,
                locked_until: Some(to_time(until)?),
            };
        }
        tx.commit().await?;
        Ok(state)
    }

    async fn get_signin_lockout(
        &self,
        account: &str,
        user: &str,
        policy: &LockoutPolicy,
        now: OffsetDateTime,
    ) -> Result<SigninLockout> {
        let row: Option<FailureRow> = sqlx::query_as(
            "SELECT failures, first_failure, locked_until FROM signin_failures \
             WHERE account_id = $1 AND user_lower = $2",
        )
        .bind(account)
        .bind(lower(user))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => row.state(policy, now),
            None => Ok(SigninLockout::default()),
        }
    }

    async fn clear_signin_failures(&self, account: &str, user: &str) -> Result<()> {
        sqlx::query("DELETE FROM signin_failures WHERE account_id = $1 AND user_lower = $2")
            .bind(account)
            .bind(lower(user))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn put_once(
        &self,
        kind: &str,
        key: &str,
        payload: &str,
        expires: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<()> {
        // An expired leftover with the same key is replaced; a live one makes this a replay.
        let done = sqlx::query(
            "INSERT INTO one_time_values (kind, value_key, payload, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, value_key) DO UPDATE SET payload = excluded.payload, \
             expires_at = excluded.expires_at WHERE one_time_values.expires_at <= $5",
        )
        .bind(kind)
        .bind(key)
        .bind(payload)
        .bind(secs(expires))
        .bind(secs(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(StoreError::EntityAlreadyExists(format!(
                "The {kind} value has already been used."
            )));
        }
        Ok(())
    }

    async fn take_once(
        &self,
        kind: &str,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<String>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "DELETE FROM one_time_values WHERE kind = $1 AND value_key = $2 RETURNING payload, expires_at",
        )
        .bind(kind)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(payload, expires)| (expires > secs(now)).then_some(payload)))
    }

    async fn purge_expired_once(&self, now: OffsetDateTime) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM one_time_values WHERE expires_at <= $1")
                .bind(secs(now))
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}
