//! Accounts and account-wide settings.

use async_trait::async_trait;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::{SqlStore, count1, no_account, secs, to_time, to_u32, to_u64, unique_or};
use crate::change::{ChangeKind, EntityRef};
use crate::error::{Result, StoreError};
use crate::model::{Account, AccountSummary, PasswordPolicy};
use crate::store::AccountStore;

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: String,
    alias: Option<String>,
    create_date: i64,
    generation: i64,
}

impl AccountRow {
    fn into_account(self) -> Result<Account> {
        Ok(Account {
            id: self.id,
            alias: self.alias,
            create_date: to_time(self.create_date)?,
            generation: to_u64(self.generation)?,
        })
    }
}

async fn find(conn: &mut AnyConnection, account: &str) -> Result<AccountRow> {
    sqlx::query_as("SELECT id, alias, create_date, generation FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| no_account(account))
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    minimum_password_length: i64,
    require_symbols: i64,
    require_numbers: i64,
    require_uppercase_characters: i64,
    require_lowercase_characters: i64,
    allow_users_to_change_password: i64,
    max_password_age: Option<i64>,
    password_reuse_prevention: Option<i64>,
    hard_expiry: i64,
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn create_account(&self, account: &str, now: OffsetDateTime) -> Result<Account> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO accounts (id, create_date, generation) VALUES ($1, $2, 0)")
            .bind(account)
            .bind(secs(now))
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                unique_or(e, || {
                    StoreError::EntityAlreadyExists(format!("Account {account} already exists."))
                })
            })?;
        let created = find(&mut tx, account).await?.into_account()?;
        tx.commit().await?;
        Ok(created)
    }

    async fn ensure_account(&self, account: &str, now: OffsetDateTime) -> Result<Account> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO accounts (id, create_date, generation) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING")
            .bind(account)
            .bind(secs(now))
            .execute(&mut *tx)
            .await?;
        let existing = find(&mut tx, account).await?.into_account()?;
        tx.commit().await?;
        Ok(existing)
    }

    async fn get_account(&self, account: &str) -> Result<Account> {
        let mut conn = self.pool.acquire().await?;
        find(&mut conn, account).await?.into_account()
    }

    async fn set_account_alias(&self, account: &str, alias: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        sqlx::query("UPDATE accounts SET alias = $1 WHERE id = $2")
            .bind(alias)
            .bind(account)
            .execute(&mut *w)
            .await
            .map_err(|e| {
                unique_or(e, || {
                    StoreError::EntityAlreadyExists(format!(
                        "The account alias {alias} already exists."
                    ))
                })
            })?;
        self.commit(w, ChangeKind::Updated, EntityRef::Account)
            .await
    }

    async fn delete_account_alias(&self, account: &str, alias: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let done = sqlx::query("UPDATE accounts SET alias = NULL WHERE id = $1 AND alias = $2")
            .bind(account)
            .bind(alias)
            .execute(&mut *w)
            .await?
            .rows_affected();
        if done == 0 {
            return Err(StoreError::NoSuchEntity(format!(
                "The account alias {alias} cannot be found."
            )));
        }
        self.commit(w, ChangeKind::Updated, EntityRef::Account)
            .await
    }

    async fn get_password_policy(&self, account: &str) -> Result<PasswordPolicy> {
        let row: Option<PolicyRow> = sqlx::query_as(
            "SELECT minimum_password_length, require_symbols, require_numbers, require_uppercase_characters, \
             require_lowercase_characters, allow_users_to_change_password, max_password_age, \
             password_reuse_prevention, hard_expiry FROM password_policies WHERE account_id = $1",
        )
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        let row = row.ok_or_else(|| {
            StoreError::NoSuchEntity(format!(
                "The Password Policy with domain name {account} cannot be found."
            ))
        })?;
        Ok(PasswordPolicy {
            minimum_password_length: to_u32(row.minimum_password_length)?,
            require_symbols: row.require_symbols != 0,
            require_numbers: row.require_numbers != 0,
            require_uppercase_characters: row.require_uppercase_characters != 0,
            require_lowercase_characters: row.require_lowercase_characters != 0,
            allow_users_to_change_password: row.allow_users_to_change_password != 0,
            max_password_age: row.max_password_age.map(to_u32).transpose()?,
            password_reuse_prevention: row.password_reuse_prevention.map(to_u32).transpose()?,
            hard_expiry: row.hard_expiry != 0,
        })
    }

    async fn put_password_policy(&self, account: &str, p: &PasswordPolicy) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        sqlx::query(
            "INSERT INTO password_policies (account_id, minimum_password_length, require_symbols, require_numbers, \
             require_uppercase_characters, require_lowercase_characters, allow_users_to_change_password, \
             max_password_age, password_reuse_prevention, hard_expiry) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (account_id) DO UPDATE SET \
             minimum_password_length = excluded.minimum_password_length, \
             require_symbols = excluded.require_symbols, require_numbers = excluded.require_numbers, \
             require_uppercase_characters = excluded.require_uppercase_characters, \
             require_lowercase_characters = excluded.require_lowercase_characters, \
             allow_users_to_change_password = excluded.allow_users_to_change_password, \
             max_password_age = excluded.max_password_age, \
             password_reuse_prevention = excluded.password_reuse_prevention, hard_expiry = excluded.hard_expiry",
        )
        .bind(account)
        .bind(i64::from(p.minimum_password_length))
        .bind(i64::from(p.require_symbols))
        .bind(i64::from(p.require_numbers))
        .bind(i64::from(p.require_uppercase_characters))
        .bind(i64::from(p.require_lowercase_characters))
        .bind(i64::from(p.allow_users_to_change_password))
        .bind(p.max_password_age.map(i64::from))
        .bind(p.password_reuse_prevention.map(i64::from))
        .bind(i64::from(p.hard_expiry))
        .execute(&mut *w)
        .await?;
        self.commit(w, ChangeKind::Updated, EntityRef::Account)
            .await
    }

    async fn delete_password_policy(&self, account: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let done = sqlx::query("DELETE FROM password_policies WHERE account_id = $1")
            .bind(account)
            .execute(&mut *w)
            .await?
            .rows_affected();
        if done == 0 {
            return Err(StoreError::NoSuchEntity(format!(
                "The Password Policy with domain name {account} cannot be found."
            )));
        }
        self.commit(w, ChangeKind::Updated, EntityRef::Account)
            .await
    }

    async fn account_summary(&self, account: &str) -> Result<AccountSummary> {
        let mut tx = self.begin_read().await?;
        find(&mut tx, account).await?;
        const QUERIES: [&str; 11] = [
            "SELECT count(*) FROM iam_users WHERE account_id = $1",
            "SELECT count(*) FROM iam_groups WHERE account_id = $1",
            "SELECT count(*) FROM iam_roles WHERE account_id = $1",
            "SELECT count(*) FROM managed_policies WHERE account_id = $1",
            "SELECT count(*) FROM policy_versions v JOIN managed_policies p ON p.id = v.policy_id \
             WHERE p.account_id = $1",
            "SELECT count(*) FROM policy_attachments WHERE account_id = $1",
            "SELECT count(*) FROM instance_profiles WHERE account_id = $1",
            "SELECT count(*) FROM mfa_devices WHERE account_id = $1",
            "SELECT count(*) FROM mfa_devices WHERE account_id = $1 AND user_id IS NOT NULL",
            "SELECT (SELECT count(*) FROM oidc_providers WHERE account_id = $1) \
             + (SELECT count(*) FROM saml_providers WHERE account_id = $1)",
            "SELECT count(*) FROM access_keys WHERE account_id = $1 AND user_id IS NULL",
        ];
        let mut counts = [0u64; QUERIES.len()];
        for (slot, sql) in counts.iter_mut().zip(QUERIES) {
            *slot = to_u64(count1(&mut tx, sql, account).await?)?;
        }
        let [
            users,
            groups,
            roles,
            policies,
            policy_versions_in_use,
            attached_policies,
            instance_profiles,
            mfa_devices,
            mfa_devices_in_use,
            providers,
            root_keys,
        ] = counts;
        let summary = AccountSummary {
            users,
            groups,
            roles,
            policies,
            policy_versions_in_use,
            attached_policies,
            instance_profiles,
            mfa_devices,
            mfa_devices_in_use,
            providers,
            account_access_keys_present: root_keys > 0,
        };
        tx.commit().await?;
        Ok(summary)
    }
}
