//! IAM groups and memberships.

use async_trait::async_trait;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::users::UserRow;
use super::{SqlStore, count1, lower, secs, to_time, unique_or};
use crate::arn::group_arn;
use crate::change::{ChangeKind, EntityRef};
use crate::error::{Result, StoreError};
use crate::ids::{IdKind, new_id};
use crate::model::{Group, NewGroup, User};
use crate::page::{Page, after_key, encode_marker, fetch_limit, finish};
use crate::store::GroupStore;

/// AWS's default quota of groups a user can be in.
pub(crate) const MAX_GROUPS_PER_USER: i64 = 10;

#[derive(sqlx::FromRow)]
pub(super) struct GroupRow {
    pub(super) id: String,
    pub(super) account_id: String,
    pub(super) name: String,
    pub(super) path: String,
    pub(super) arn: String,
    pub(super) create_date: i64,
}

impl GroupRow {
    pub(super) fn into_group(self) -> Result<Group> {
        Ok(Group {
            id: self.id,
            account_id: self.account_id,
            name: self.name,
            path: self.path,
            arn: self.arn,
            create_date: to_time(self.create_date)?,
        })
    }
}

fn already_exists(name: &str) -> StoreError {
    StoreError::EntityAlreadyExists(format!("Group with name {name} already exists."))
}

/// A group by name, or `NoSuchEntity`.
pub(super) async fn find(conn: &mut AnyConnection, account: &str, name: &str) -> Result<GroupRow> {
    sqlx::query_as(concat!(
        "SELECT ",
        group_cols!(),
        " FROM iam_groups WHERE account_id = $1 AND name_lower = $2"
    ))
    .bind(account)
    .bind(lower(name))
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NoSuchEntity(format!("The group with name {name} cannot be found.")))
}

#[async_trait]
impl GroupStore for SqlStore {
    async fn create_group(
        &self,
        account: &str,
        group: &NewGroup,
        now: OffsetDateTime,
    ) -> Result<Group> {
        let mut w = self.begin_change(account).await?;
        let id = new_id(IdKind::Group);
        let arn = group_arn(account, &group.path, &group.name);
        sqlx::query(
            "INSERT INTO iam_groups (id, account_id, name, name_lower, path, arn, create_date) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(account)
        .bind(&group.name)
        .bind(lower(&group.name))
        .bind(&group.path)
        .bind(&arn)
        .bind(secs(now))
        .execute(&mut *w)
        .await
        .map_err(|e| unique_or(e, || already_exists(&group.name)))?;
        let created = find(&mut w, account, &group.name).await?.into_group()?;
        self.commit(w, ChangeKind::Created, EntityRef::Group(group.name.clone()))
            .await?;
        Ok(created)
    }

    async fn get_group(&self, account: &str, name: &str) -> Result<Group> {
        let mut conn = self.pool.acquire().await?;
        find(&mut conn, account, name).await?.into_group()
    }

    async fn update_group(
        &self,
        account: &str,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<Group> {
        let mut w = self.begin_change(account).await?;
        let row = find(&mut w, account, name).await?;
        let name2 = new_name.unwrap_or(&row.name).to_owned();
        let path2 = new_path.unwrap_or(&row.path).to_owned();
        sqlx::query(
            "UPDATE iam_groups SET name = $1, name_lower = $2, path = $3, arn = $4 WHERE id = $5",
        )
        .bind(&name2)
        .bind(lower(&name2))
        .bind(&path2)
        .bind(group_arn(account, &path2, &name2))
        .bind(&row.id)
        .execute(&mut *w)
        .await
        .map_err(|e| unique_or(e, || already_exists(&name2)))?;
        let group = find(&mut w, account, &name2).await?.into_group()?;
        self.commit(w, ChangeKind::Updated, EntityRef::Group(row.name))
            .await?;
        Ok(group)
    }

    async fn delete_group(&self, account: &str, name: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let row = find(&mut w, account, name).await?;
        let checks: [(&'static str, &str); 3] = [
            (
                "SELECT count(*) FROM group_members WHERE group_id = $1",
                "must remove users from group first.",
            ),
            (
                "SELECT count(*) FROM inline_policies WHERE owner_kind = 'group' AND owner_id = $1",
                "must delete policies first.",
            ),
            (
                "SELECT count(*) FROM policy_attachments WHERE owner_kind = 'group' AND owner_id = $1",
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
        sqlx::query("DELETE FROM iam_groups WHERE id = $1")
            .bind(&row.id)
            .execute(&mut *w)
            .await?;
        self.commit(w, ChangeKind::Deleted, EntityRef::Group(row.name))
            .await
    }

    async fn list_groups(
        &self,
        account: &str,
        path_prefix: Option<&str>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<Group>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let rows: Vec<GroupRow> = sqlx::query_as(concat!(
            "SELECT ",
            group_cols!(),
            " FROM iam_groups WHERE account_id = $1 \
             AND ($2 IS NULL OR substr(path, 1, length($2)) = $2) \
             AND ($3 IS NULL OR name_lower > $3) ORDER BY name_lower LIMIT $4"
        ))
        .bind(account)
        .bind(path_prefix)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let groups = rows
            .into_iter()
            .map(GroupRow::into_group)
            .collect::<Result<Vec<_>>>()?;
        Ok(finish(groups, max_items, |g| {
            encode_marker(&[&lower(&g.name)])
        }))
    }

    async fn add_user_to_group(&self, account: &str, group: &str, user: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let g = find(&mut w, account, group).await?;
        let u = super::users::find(&mut w, account, user).await?;
        let inserted = sqlx::query(
            "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(&g.id)
        .bind(&u.id)
        .execute(&mut *w)
        .await?
        .rows_affected();
        if inserted == 0 {
            // Already a member: AWS succeeds without change; nothing to announce.
            return Ok(());
        }
        if count1(
            &mut w,
            "SELECT count(*) FROM group_members WHERE user_id = $1",
            &u.id,
        )
        .await?
            > MAX_GROUPS_PER_USER
        {
            return Err(StoreError::LimitExceeded(format!(
                "Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}"
            )));
        }
        self.commit(w, ChangeKind::Updated, EntityRef::Group(g.name))
            .await
    }

    async fn remove_user_from_group(&self, account: &str, group: &str, user: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let g = find(&mut w, account, group).await?;
        let u = super::users::find(&mut w, account, user).await?;
        let removed = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
            .bind(&g.id)
            .bind(&u.id)
            .execute(&mut *w)
            .await?
            .rows_affected();
        if removed == 0 {
            return Err(StoreError::NoSuchEntity(format!(
                "The user with name {} is not a member of group {}.",
                u.name, g.name
            )));
        }
        self.commit(w, ChangeKind::Updated, EntityRef::Group(g.name))
            .await
    }

    async fn list_group_members(
        &self,
        account: &str,
        group: &str,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<User>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let mut tx = self.begin_read().await?;
        let g = find(&mut tx, account, group).await?;
        let rows: Vec<UserRow> = sqlx::query_as(
            "SELECT u.id, u.account_id, u.name, u.path, u.arn, u.create_date, u.boundary_arn, \
             u.password_last_used FROM group_members gm JOIN iam_users u ON u.id = gm.user_id \
             WHERE gm.group_id = $1 AND ($2 IS NULL OR u.name_lower > $2) \
             ORDER BY u.name_lower LIMIT $3",
        )
        .bind(&g.id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let users = rows
            .into_iter()
            .map(UserRow::into_user)
            .collect::<Result<Vec<_>>>()?;
        Ok(finish(users, max_items, |u| {
            encode_marker(&[&lower(&u.name)])
        }))
    }

    async fn list_groups_for_user(
        &self,
        account: &str,
        user: &str,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<Group>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let mut tx = self.begin_read().await?;
        let u = super::users::find(&mut tx, account, user).await?;
        let rows: Vec<GroupRow> = sqlx::query_as(
            "SELECT g.id, g.account_id, g.name, g.path, g.arn, g.create_date \
             FROM group_members gm JOIN iam_groups g ON g.id = gm.group_id \
             WHERE gm.user_id = $1 AND ($2 IS NULL OR g.name_lower > $2) \
             ORDER BY g.name_lower LIMIT $3",
        )
        .bind(&u.id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let groups = rows
            .into_iter()
            .map(GroupRow::into_group)
            .collect::<Result<Vec<_>>>()?;
        Ok(finish(groups, max_items, |g| {
            encode_marker(&[&lower(&g.name)])
        }))
    }
}
