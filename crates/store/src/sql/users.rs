//! IAM users.

use async_trait::async_trait;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::{SqlStore, count1, lower, opt_time, secs, to_time, unique_or};
use crate::arn::user_arn;
use crate::change::{ChangeKind, EntityRef};
use crate::error::{Result, StoreError};
use crate::ids::{IdKind, new_id};
use crate::model::{NewUser, Tag, User, UserUpdate};
use crate::page::{Page, after_key, encode_marker, fetch_limit, finish};
use crate::store::UserStore;

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    pub(super) id: String,
    pub(super) account_id: String,
    pub(super) name: String,
    pub(super) path: String,
    pub(super) arn: String,
    pub(super) create_date: i64,
    pub(super) boundary_arn: Option<String>,
    pub(super) password_last_used: Option<i64>,
}

impl UserRow {
    pub(super) fn into_user(self) -> Result<User> {
        Ok(User {
            id: self.id,
            account_id: self.account_id,
            name: self.name,
            path: self.path,
            arn: self.arn,
            create_date: to_time(self.create_date)?,
            permissions_boundary: self.boundary_arn,
            password_last_used: opt_time(self.password_last_used)?,
            tags: Vec::new(),
        })
    }
}

/// A user and one of its tags (none when it has no tags): a user with its tags in one statement.
#[derive(sqlx::FromRow)]
struct UserTagRow {
    #[sqlx(flatten)]
    user: UserRow,
    tag_key: Option<String>,
    tag_value: Option<String>,
}

pub(super) fn not_found(name: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("The user with name {name} cannot be found."))
}

fn already_exists(name: &str) -> StoreError {
    StoreError::EntityAlreadyExists(format!("User with name {name} already exists."))
}

/// A user by name, or `NoSuchEntity`.
pub(super) async fn find(conn: &mut AnyConnection, account: &str, name: &str) -> Result<UserRow> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_cols!(),
        " FROM iam_users WHERE account_id = $1 AND name_lower = $2"
    ))
    .bind(account)
    .bind(lower(name))
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| not_found(name))
}

/// A user by id, or `NoSuchEntity`.
pub(super) async fn find_by_id(
    conn: &mut AnyConnection,
    account: &str,
    id: &str,
) -> Result<UserRow> {
    sqlx::query_as(concat!(
        "SELECT ",
        user_cols!(),
        " FROM iam_users WHERE account_id = $1 AND id = $2"
    ))
    .bind(account)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NoSuchEntity(format!("The user with id {id} cannot be found.")))
}

async fn with_tags(conn: &mut AnyConnection, row: UserRow) -> Result<User> {
    let tags = super::tags::load(conn, "user", &row.id).await?;
    let mut user = row.into_user()?;
    user.tags = tags;
    Ok(user)
}

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(
        &self,
        account: &str,
        user: &NewUser,
        now: OffsetDateTime,
    ) -> Result<User> {
        let mut w = self.begin_change(account).await?;
        if let Some(boundary) = &user.permissions_boundary {
            super::policies::check_exists(&mut w, account, boundary).await?;
        }
        let id = new_id(IdKind::User);
        let arn = user_arn(account, &user.path, &user.name);
        sqlx::query(
            "INSERT INTO iam_users (id, account_id, name, name_lower, path, arn, create_date, boundary_arn) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(account)
        .bind(&user.name)
        .bind(lower(&user.name))
        .bind(&user.path)
        .bind(&arn)
        .bind(secs(now))
        .bind(user.permissions_boundary.as_deref())
        .execute(&mut *w)
        .await
        .map_err(|e| unique_or(e, || already_exists(&user.name)))?;
        super::tags::put(&mut w, account, "user", &id, &user.tags).await?;
        let found = find_by_id(&mut w, account, &id).await?;
        let created = with_tags(&mut w, found).await?;
        self.commit(w, ChangeKind::Created, EntityRef::User(user.name.clone()))
            .await?;
        Ok(created)
    }

    async fn get_user(&self, account: &str, name: &str) -> Result<User> {
        // One statement rather than a transaction of two: a single statement already reads one
        // snapshot, and on SQLite every statement is a round trip to sqlx's worker thread.
        let rows: Vec<UserTagRow> = sqlx::query_as(
            "SELECT u.id, u.account_id, u.name, u.path, u.arn, u.create_date, u.boundary_arn, \
             u.password_last_used, t.tag_key, t.tag_value \
             FROM iam_users u LEFT JOIN tags t \
             ON t.resource_kind = 'user' AND t.resource_id = u.id \
             WHERE u.account_id = $1 AND u.name_lower = $2 ORDER BY t.key_lower",
        )
        .bind(account)
        .bind(lower(name))
        .fetch_all(&self.pool)
        .await?;
        let mut rows = rows.into_iter();
        let first = rows.next().ok_or_else(|| not_found(name))?;
        let mut tags = Vec::new();
        let mut push = |key: Option<String>, value: Option<String>| {
            if let (Some(key), Some(value)) = (key, value) {
                tags.push(Tag { key, value });
            }
        };
        push(first.tag_key, first.tag_value);
        for row in rows {
            push(row.tag_key, row.tag_value);
        }
        let mut user = first.user.into_user()?;
        user.tags = tags;
        Ok(user)
    }

    async fn get_user_by_id(&self, account: &str, id: &str) -> Result<User> {
        let mut tx = self.begin_read().await?;
        let row = find_by_id(&mut tx, account, id).await?;
        let user = with_tags(&mut tx, row).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn update_user(&self, account: &str, name: &str, update: &UserUpdate) -> Result<User> {
        let mut w = self.begin_change(account).await?;
        let row = find(&mut w, account, name).await?;
        let new_name = update.new_name.clone().unwrap_or_else(|| row.name.clone());
        let new_path = update.new_path.clone().unwrap_or_else(|| row.path.clone());
        sqlx::query(
            "UPDATE iam_users SET name = $1, name_lower = $2, path = $3, arn = $4 WHERE id = $5",
        )
        .bind(&new_name)
        .bind(lower(&new_name))
        .bind(&new_path)
        .bind(user_arn(account, &new_path, &new_name))
        .bind(&row.id)
        .execute(&mut *w)
        .await
        .map_err(|e| unique_or(e, || already_exists(&new_name)))?;
        let found = find_by_id(&mut w, account, &row.id).await?;
        let user = with_tags(&mut w, found).await?;
        self.commit(w, ChangeKind::Updated, EntityRef::User(row.name))
            .await?;
        Ok(user)
    }

    async fn delete_user(&self, account: &str, name: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let row = find(&mut w, account, name).await?;
        let checks: [(&'static str, &str); 6] = [
            (
                "SELECT count(*) FROM access_keys WHERE user_id = $1",
                "must delete access keys first.",
            ),
            (
                "SELECT count(*) FROM login_profiles WHERE user_id = $1",
                "must delete login profile first.",
            ),
            (
                "SELECT count(*) FROM mfa_devices WHERE user_id = $1",
                "must delete MFA device first.",
            ),
            (
                "SELECT count(*) FROM group_members WHERE user_id = $1",
                "must remove user from all groups first.",
            ),
            (
                "SELECT count(*) FROM inline_policies WHERE owner_kind = 'user' AND owner_id = $1",
                "must delete policies first.",
            ),
            (
                "SELECT count(*) FROM policy_attachments WHERE owner_kind = 'user' AND owner_id = $1",
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
        super::tags::delete_all(&mut w, "user", &row.id).await?;
        sqlx::query("DELETE FROM signin_failures WHERE account_id = $1 AND user_lower = $2")
            .bind(account)
            .bind(lower(&row.name))
            .execute(&mut *w)
            .await?;
        sqlx::query("DELETE FROM iam_users WHERE id = $1")
            .bind(&row.id)
            .execute(&mut *w)
            .await?;
        self.commit(w, ChangeKind::Deleted, EntityRef::User(row.name))
            .await
    }

    async fn list_users(
        &self,
        account: &str,
        path_prefix: Option<&str>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<User>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let rows: Vec<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_cols!(),
            " FROM iam_users WHERE account_id = $1 \
             AND ($2 IS NULL OR substr(path, 1, length($2)) = $2) \
             AND ($3 IS NULL OR name_lower > $3) ORDER BY name_lower LIMIT $4"
        ))
        .bind(account)
        .bind(path_prefix)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let users = rows
            .into_iter()
            .map(UserRow::into_user)
            .collect::<Result<Vec<_>>>()?;
        Ok(finish(users, max_items, |u| {
            encode_marker(&[&lower(&u.name)])
        }))
    }
}
