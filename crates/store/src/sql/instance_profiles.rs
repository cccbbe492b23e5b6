//! Instance profiles.

use async_trait::async_trait;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::roles::RoleRow;
use super::{SqlStore, count1, lower, secs, to_time, unique_or};
use crate::arn::instance_profile_arn;
use crate::change::{ChangeKind, EntityRef};
use crate::error::{Result, StoreError};
use crate::ids::{IdKind, new_id};
use crate::model::{InstanceProfile, NewInstanceProfile};
use crate::page::{Page, after_key, encode_marker, fetch_limit, finish};
use crate::store::InstanceProfileStore;

#[derive(sqlx::FromRow)]
pub(super) struct ProfileRow {
    pub(super) id: String,
    account_id: String,
    pub(super) name: String,
    path: String,
    arn: String,
    create_date: i64,
}

fn not_found(name: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("Instance Profile {name} cannot be found."))
}

/// An instance profile by name, or `NoSuchEntity`.
pub(super) async fn find(
    conn: &mut AnyConnection,
    account: &str,
    name: &str,
) -> Result<ProfileRow> {
    sqlx::query_as(concat!(
        "SELECT ",
        profile_cols!(),
        " FROM instance_profiles WHERE account_id = $1 AND name_lower = $2"
    ))
    .bind(account)
    .bind(lower(name))
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| not_found(name))
}

/// Completes a profile with its role (and tags when asked: `GetInstanceProfile` returns them).
async fn complete(
    conn: &mut AnyConnection,
    row: ProfileRow,
    with_tags: bool,
) -> Result<InstanceProfile> {
    let roles: Vec<RoleRow> = sqlx::query_as(
        "SELECT r.id, r.account_id, r.name, r.path, r.arn, r.create_date, r.trust_policy, r.description, \
         r.max_session_duration, r.boundary_arn, r.last_used_date, r.last_used_region \
         FROM instance_profile_roles ipr JOIN iam_roles r ON r.id = ipr.role_id \
         WHERE ipr.instance_profile_id = $1",
    )
    .bind(&row.id)
    .fetch_all(&mut *conn)
    .await?;
    let tags = if with_tags {
        super::tags::load(conn, "instance-profile", &row.id).await?
    } else {
        Vec::new()
    };
    Ok(InstanceProfile {
        id: row.id,
        account_id: row.account_id,
        name: row.name,
        path: row.path,
        arn: row.arn,
        create_date: to_time(row.create_date)?,
        roles: roles
            .into_iter()
            .map(|r| r.into_role(false))
            .collect::<Result<_>>()?,
        tags,
    })
}

#[async_trait]
impl InstanceProfileStore for SqlStore {
    async fn create_instance_profile(
        &self,
        account: &str,
        profile: &NewInstanceProfile,
        now: OffsetDateTime,
    ) -> Result<InstanceProfile> {
        let mut w = self.begin_change(account).await?;
        let id = new_id(IdKind::InstanceProfile);
        sqlx::query(
            "INSERT INTO instance_profiles (id, account_id, name, name_lower, path, arn, create_date) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(account)
        .bind(&profile.name)
        .bind(lower(&profile.name))
        .bind(&profile.path)
        .bind(instance_profile_arn(account, &profile.path, &profile.name))
        .bind(secs(now))
        .execute(&mut *w)
        .await
        .map_err(|e| {
            unique_or(e, || {
                StoreError::EntityAlreadyExists(format!("Instance Profile {} already exists.", profile.name))
            })
        })?;
        super::tags::put(&mut w, account, "instance-profile", &id, &profile.tags).await?;
        let row = find(&mut w, account, &profile.name).await?;
        let created = complete(&mut w, row, true).await?;
        self.commit(
            w,
            ChangeKind::Created,
            EntityRef::InstanceProfile(profile.name.clone()),
        )
        .await?;
        Ok(created)
    }

    async fn get_instance_profile(&self, account: &str, name: &str) -> Result<InstanceProfile> {
        let mut tx = self.begin_read().await?;
        let row = find(&mut tx, account, name).await?;
        let profile = complete(&mut tx, row, true).await?;
        tx.commit().await?;
        Ok(profile)
    }

    async fn delete_instance_profile(&self, account: &str, name: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let row = find(&mut w, account, name).await?;
        if count1(
            &mut w,
            "SELECT count(*) FROM instance_profile_roles WHERE instance_profile_id = $1",
            &row.id,
        )
        .await?
            > 0
        {
            return Err(StoreError::DeleteConflict(
                "Cannot delete entity, must remove roles from instance profile first.".into(),
            ));
        }
        super::tags::delete_all(&mut w, "instance-profile", &row.id).await?;
        sqlx::query("DELETE FROM instance_profiles WHERE id = $1")
            .bind(&row.id)
            .execute(&mut *w)
            .await?;
        self.commit(w, ChangeKind::Deleted, EntityRef::InstanceProfile(row.name))
            .await
    }

    async fn list_instance_profiles(
        &self,
        account: &str,
        path_prefix: Option<&str>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<InstanceProfile>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let mut tx = self.begin_read().await?;
        let rows: Vec<ProfileRow> = sqlx::query_as(concat!(
            "SELECT ",
            profile_cols!(),
            " FROM instance_profiles WHERE account_id = $1 \
             AND ($2 IS NULL OR substr(path, 1, length($2)) = $2) \
             AND ($3 IS NULL OR name_lower > $3) ORDER BY name_lower LIMIT $4"
        ))
        .bind(account)
        .bind(path_prefix)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut profiles = Vec::with_capacity(rows.len());
        for row in rows {
            profiles.push(complete(&mut tx, row, false).await?);
        }
        tx.commit().await?;
        Ok(finish(profiles, max_items, |p| {
            encode_marker(&[&lower(&p.name)])
        }))
    }

    async fn add_role_to_instance_profile(
        &self,
        account: &str,
        profile: &str,
        role: &str,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let p = find(&mut w, account, profile).await?;
        let r = super::roles::find(&mut w, account, role).await?;
        // The primary key on instance_profile_id is the quota: a second role cannot be inserted.
        sqlx::query(
            "INSERT INTO instance_profile_roles (instance_profile_id, role_id) VALUES ($1, $2)",
        )
        .bind(&p.id)
        .bind(&r.id)
        .execute(&mut *w)
        .await
        .map_err(|e| {
            unique_or(e, || {
                StoreError::LimitExceeded(
                    "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1".into(),
                )
            })
        })?;
        self.commit(w, ChangeKind::Updated, EntityRef::InstanceProfile(p.name))
            .await
    }

    async fn remove_role_from_instance_profile(
        &self,
        account: &str,
        profile: &str,
        role: &str,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let p = find(&mut w, account, profile).await?;
        let r = super::roles::find(&mut w, account, role).await?;
        let removed = sqlx::query(
            "DELETE FROM instance_profile_roles WHERE instance_profile_id = $1 AND role_id = $2",
        )
        .bind(&p.id)
        .bind(&r.id)
        .execute(&mut *w)
        .await?
        .rows_affected();
        if removed == 0 {
            return Err(StoreError::NoSuchEntity(format!(
                "The role with name {} cannot be found in instance profile {}.",
                r.name, p.name
            )));
        }
        self.commit(w, ChangeKind::Updated, EntityRef::InstanceProfile(p.name))
            .await
    }

    async fn list_instance_profiles_for_role(
        &self,
        account: &str,
        role: &str,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<InstanceProfile>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let mut tx = self.begin_read().await?;
        let r = super::roles::find(&mut tx, account, role).await?;
        let rows: Vec<ProfileRow> = sqlx::query_as(
            "SELECT p.id, p.account_id, p.name, p.path, p.arn, p.create_date \
             FROM instance_profile_roles ipr JOIN instance_profiles p ON p.id = ipr.instance_profile_id \
             WHERE ipr.role_id = $1 AND ($2 IS NULL OR p.name_lower > $2) ORDER BY p.name_lower LIMIT $3",
        )
        .bind(&r.id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut profiles = Vec::with_capacity(rows.len());
        for row in rows {
            profiles.push(complete(&mut tx, row, false).await?);
        }
        tx.commit().await?;
        Ok(finish(profiles, max_items, |p| {
            encode_marker(&[&lower(&p.name)])
        }))
    }
}
