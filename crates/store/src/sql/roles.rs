//! IAM roles.

use async_trait::async_trait;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::{SqlStore, count1, lower, opt_time, secs, to_time, to_u32, unique_or};
use crate::arn::role_arn;
use crate::change::{ChangeKind, EntityRef};
use crate::error::{Result, StoreError};
use crate::ids::{IdKind, new_id};
use crate::model::{NewRole, Role, RoleLastUsed, RoleUpdate};
use crate::page::{Page, after_key, encode_marker, fetch_limit, finish};
use crate::store::RoleStore;

#[derive(sqlx::FromRow)]
pub(super) struct RoleRow {
    pub(super) id: String,
    pub(super) account_id: String,
    pub(super) name: String,
    pub(super) path: String,
    pub(super) arn: String,
    pub(super) create_date: i64,
    pub(super) trust_policy: String,
    pub(super) description: Option<String>,
    pub(super) max_session_duration: i64,
    pub(super) boundary_arn: Option<String>,
    pub(super) last_used_date: Option<i64>,
    pub(super) last_used_region: Option<String>,
}

impl RoleRow {
    /// Converts a row; `with_last_used` because AWS returns `RoleLastUsed` from `GetRole` only.
    pub(super) fn into_role(self, with_last_used: bool) -> Result<Role> {
        let last_used = match (with_last_used, opt_time(self.last_used_date)?) {
            (true, Some(date)) => Some(RoleLastUsed {
                date,
                region: self.last_used_region,
            }),
            _ => None,
        };
        Ok(Role {
            id: self.id,
            account_id: self.account_id,
            name: self.name,
            path: self.path,
            arn: self.arn,
            create_date: to_time(self.create_date)?,
            assume_role_policy_document: self.trust_policy,
            description: self.description,
            max_session_duration: to_u32(self.max_session_duration)?,
            permissions_boundary: self.boundary_arn,
            last_used,
            tags: Vec::new(),
        })
    }
}

pub(super) fn not_found(name: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

fn already_exists(name: &str) -> StoreError {
    StoreError::EntityAlreadyExists(format!("Role with name {name} already exists."))
}

/// A role by name, or `NoSuchEntity`.
pub(super) async fn find(conn: &mut AnyConnection, account: &str, name: &str) -> Result<RoleRow> {
    sqlx::query_as(concat!(
        "SELECT ",
        role_cols!(),
        " FROM iam_roles WHERE account_id = $1 AND name_lower = $2"
    ))
    .bind(account)
    .bind(lower(name))
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| not_found(name))
}

/// A role by id, or `NoSuchEntity`.
pub(super) async fn find_by_id(
    conn: &mut AnyConnection,
    account: &str,
    id: &str,
) -> Result<RoleRow> {
    sqlx::query_as(concat!(
        "SELECT ",
        role_cols!(),
        " FROM iam_roles WHERE account_id = $1 AND id = $2"
    ))
    .bind(account)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NoSuchEntity(format!("The role with id {id} cannot be found.")))
}

async fn full(conn: &mut AnyConnection, row: RoleRow) -> Result<Role> {
    let tags = super::tags::load(conn, "role", &row.id).await?;
    let mut role = row.into_role(true)?;
    role.tags = tags;
    Ok(role)
}

#[async_trait]
impl RoleStore for SqlStore {
    async fn create_role(
        &self,
        account: &str,
        role: &NewRole,
        now: OffsetDateTime,
    ) -> Result<Role> {
        let mut w = self.begin_change(account).await?;
        if let Some(boundary) = &role.permissions_boundary {
            super::policies::check_exists(&mut w, account, boundary).await?;
        }
        let id = new_id(IdKind::Role);
        sqlx::query(
            "INSERT INTO iam_roles (id, account_id, name, name_lower, path, arn, create_date, \
             trust_policy, description, max_session_duration, boundary_arn) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(account)
        .bind(&role.name)
        .bind(lower(&role.name))
        .bind(&role.path)
        .bind(role_arn(account, &role.path, &role.name))
        .bind(secs(now))
        .bind(&role.assume_role_policy_document)
        .bind(role.description.as_deref())
        .bind(i64::from(role.max_session_duration))
        .bind(role.permissions_boundary.as_deref())
        .execute(&mut *w)
        .await
        .map_err(|e| unique_or(e, || already_exists(&role.name)))?;
        super::tags::put(&mut w, account, "role", &id, &role.tags).await?;
        let found = find_by_id(&mut w, account, &id).await?;
        let created = full(&mut w, found).await?;
        self.commit(w, ChangeKind::Created, EntityRef::Role(role.name.clone()))
            .await?;
        Ok(created)
    }

    async fn get_role(&self, account: &str, name: &str) -> Result<Role> {
        let mut tx = self.begin_read().await?;
        let row = find(&mut tx, account, name).await?;
        let role = full(&mut tx, row).await?;
        tx.commit().await?;
        Ok(role)
    }

    async fn get_role_by_id(&self, account: &str, id: &str) -> Result<Role> {
        let mut tx = self.begin_read().await?;
        let row = find_by_id(&mut tx, account, id).await?;
        let role = full(&mut tx, row).await?;
        tx.commit().await?;
        Ok(role)
    }

    async fn update_role(&self, account: &str, name: &str, update: &RoleUpdate) -> Result<Role> {
        let mut w = self.begin_change(account).await?;
        let row = find(&mut w, account, name).await?;
        let description = update.description.clone().or(row.description);
        let max = update
            .max_session_duration
            .map(i64::from)
            .unwrap_or(row.max_session_duration);
        sqlx::query(
            "UPDATE iam_roles SET description = $1, max_session_duration = $2 WHERE id = $3",
        )
        .bind(description)
        .bind(max)
        .bind(&row.id)
        .execute(&mut *w)
        .await?;
        let found = find_by_id(&mut w, account, &row.id).await?;
        let role = full(&mut w, found).await?;
        self.commit(w, ChangeKind::Updated, EntityRef::Role(row.name))
            .await?;
        Ok(role)
    }

    async fn update_assume_role_policy(
        &self,
        account: &str,
        name: &str,
        document: &str,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let row = find(&mut w, account, name).await?;
        sqlx::query("UPDATE iam_roles SET trust_policy = $1 WHERE id = $2")
            .bind(document)
            .bind(&row.id)
            .execute(&mut *w)
            .await?;
        self.commit(w, ChangeKind::Updated, EntityRef::Role(row.name))
            .await
    }

    async fn delete_role(&self, account: &str, name: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let row = find(&mut w, account, name).await?;
        let checks: [(&'static str, &str); 3] = [
            (
                "SELECT count(*) FROM instance_profile_roles WHERE role_id = $1",
                "must remove roles from instance profile first.",
            ),
            (
                "SELECT count(*) FROM inline_policies WHERE owner_kind = 'role' AND owner_id = $1",
                "must delete policies first.",
            ),
            (
                "SELECT count(*) FROM policy_attachments WHERE owner_kind = 'role' AND owner_id = $1",
                "must detach all policies first.",
            ),
        ];
        for (sql, what) in checks {
            if count1(&mut w, sql, &row.id).await? > 0 {
                return Err(StoreError::DeleteConflict(format!(
                    "Cannot delete entity, {what}"
                )));
            }
        }
        super::tags::delete_all(&mut w, "role", &row.id).await?;
        sqlx::query("DELETE FROM iam_roles WHERE id = $1")
            .bind(&row.id)
            .execute(&mut *w)
            .await?;
        self.commit(w, ChangeKind::Deleted, EntityRef::Role(row.name))
            .await
    }

    async fn list_roles(
        &self,
        account: &str,
        path_prefix: Option<&str>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<Role>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let rows: Vec<RoleRow> = sqlx::query_as(concat!(
            "SELECT ",
            role_cols!(),
            " FROM iam_roles WHERE account_id = $1 \
             AND ($2 IS NULL OR substr(path, 1, length($2)) = $2) \
             AND ($3 IS NULL OR name_lower > $3) ORDER BY name_lower LIMIT $4"
        ))
        .bind(account)
        .bind(path_prefix)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let roles = rows
            .into_iter()
            .map(|r| r.into_role(false))
            .collect::<Result<Vec<_>>>()?;
        Ok(finish(roles, max_items, |r| {
            encode_marker(&[&lower(&r.name)])
        }))
    }

    async fn record_role_use(
        &self,
        account: &str,
        name: &str,
        now: OffsetDateTime,
        region: &str,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE iam_roles SET last_used_date = $1, last_used_region = $2 \
             WHERE account_id = $3 AND name_lower = $4",
        )
        .bind(secs(now))
        .bind(region)
        .bind(account)
        .bind(lower(name))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if done == 0 {
            Err(not_found(name))
        } else {
            Ok(())
        }
    }
}
