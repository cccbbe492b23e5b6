//! Tags, stored in one table keyed by (resource kind, resource id, lower-cased key).

use async_trait::async_trait;
use sqlx::AnyConnection;

use super::{SqlStore, count2};
use crate::change::{ChangeKind, EntityRef};
use crate::error::{Result, StoreError};
use crate::model::{Tag, TagTarget};
use crate::page::{Page, after_key, encode_marker, fetch_limit, finish};
use crate::store::TagStore;

/// AWS's quota of tags per IAM entity.
pub(crate) const MAX_TAGS: i64 = 50;

#[derive(sqlx::FromRow)]
struct TagRow {
    tag_key: String,
    tag_value: String,
}

/// All tags of a resource, by lower-cased key.
pub(super) async fn load(conn: &mut AnyConnection, kind: &str, id: &str) -> Result<Vec<Tag>> {
    let rows: Vec<TagRow> = sqlx::query_as(
        "SELECT tag_key, tag_value FROM tags WHERE resource_kind = $1 AND resource_id = $2 \
         ORDER BY key_lower",
    )
    .bind(kind)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Tag {
            key: r.tag_key,
            value: r.tag_value,
        })
        .collect())
}

/// Adds or replaces tags, then enforces the quota inside the same transaction.
pub(super) async fn put(
    conn: &mut AnyConnection,
    account: &str,
    kind: &str,
    id: &str,
    tags: &[Tag],
) -> Result<()> {
    for tag in tags {
        sqlx::query(
            "INSERT INTO tags (account_id, resource_kind, resource_id, tag_key, key_lower, tag_value) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (resource_kind, resource_id, key_lower) \
             DO UPDATE SET tag_key = excluded.tag_key, tag_value = excluded.tag_value",
        )
        .bind(account)
        .bind(kind)
        .bind(id)
        .bind(&tag.key)
        .bind(tag.key.to_lowercase())
        .bind(&tag.value)
        .execute(&mut *conn)
        .await?;
    }
    let n = count2(
        conn,
        "SELECT count(*) FROM tags WHERE resource_kind = $1 AND resource_id = $2",
        kind,
        id,
    )
    .await?;
    if n > MAX_TAGS {
        return Err(StoreError::LimitExceeded(format!(
            "The number of tags has reached the maximum limit of {MAX_TAGS} tags per resource."
        )));
    }
    Ok(())
}

/// Removes every tag of a resource (when the resource is deleted).
pub(super) async fn delete_all(conn: &mut AnyConnection, kind: &str, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM tags WHERE resource_kind = $1 AND resource_id = $2")
        .bind(kind)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Resolves a tag target to its (kind, id) in the table and the entity a change names;
/// `NoSuchEntity` when it does not exist.
async fn resolve(
    conn: &mut AnyConnection,
    account: &str,
    target: &TagTarget,
) -> Result<(&'static str, String, EntityRef)> {
    Ok(match target {
        TagTarget::User(name) => {
            let u = super::users::find(conn, account, name).await?;
            ("user", u.id, EntityRef::User(u.name))
        }
        TagTarget::Role(name) => {
            let r = super::roles::find(conn, account, name).await?;
            ("role", r.id, EntityRef::Role(r.name))
        }
        TagTarget::Policy(arn) => {
            let p = super::policies::find(conn, account, arn).await?;
            ("policy", p.id, EntityRef::Policy(p.arn))
        }
        TagTarget::InstanceProfile(name) => {
            let p = super::instance_profiles::find(conn, account, name).await?;
            ("instance-profile", p.id, EntityRef::InstanceProfile(p.name))
        }
        TagTarget::OidcProvider(arn) => {
            super::providers::find_oidc(conn, account, arn).await?;
            (
                "oidc-provider",
                arn.clone(),
                EntityRef::Provider(arn.clone()),
            )
        }
        TagTarget::SamlProvider(arn) => {
            super::providers::find_saml(conn, account, arn).await?;
            (
                "saml-provider",
                arn.clone(),
                EntityRef::Provider(arn.clone()),
            )
        }
        TagTarget::MfaDevice(serial) => {
            super::access::find_mfa(conn, account, serial).await?;
            ("mfa", serial.clone(), EntityRef::MfaDevice(serial.clone()))
        }
    })
}

#[async_trait]
impl TagStore for SqlStore {
    async fn tag_resource(&self, account: &str, target: &TagTarget, tags: &[Tag]) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let (kind, id, entity) = resolve(&mut w, account, target).await?;
        put(&mut w, account, kind, &id, tags).await?;
        self.commit(w, ChangeKind::Updated, entity).await
    }

    async fn untag_resource(
        &self,
        account: &str,
        target: &TagTarget,
        keys: &[String],
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let (kind, id, entity) = resolve(&mut w, account, target).await?;
        for key in keys {
            sqlx::query(
                "DELETE FROM tags WHERE resource_kind = $1 AND resource_id = $2 AND key_lower = $3",
            )
            .bind(kind)
            .bind(&id)
            .bind(key.to_lowercase())
            .execute(&mut *w)
            .await?;
        }
        self.commit(w, ChangeKind::Updated, entity).await
    }

    async fn list_tags(
        &self,
        account: &str,
        target: &TagTarget,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<Tag>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let mut tx = self.begin_read().await?;
        let (kind, id, _) = resolve(&mut tx, account, target).await?;
        let rows: Vec<TagRow> = sqlx::query_as(
            "SELECT tag_key, tag_value FROM tags WHERE resource_kind = $1 AND resource_id = $2 \
             AND ($3 IS NULL OR key_lower > $3) ORDER BY key_lower LIMIT $4",
        )
        .bind(kind)
        .bind(&id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let tags: Vec<Tag> = rows
            .into_iter()
            .map(|r| Tag {
                key: r.tag_key,
                value: r.tag_value,
            })
            .collect();
        Ok(finish(tags, max_items, |t| {
            encode_marker(&[&lower_key(&t.key)])
        }))
    }
}

/// Tag keys may hold any Unicode letter, so unlike IAM names they use full lower-casing.
fn lower_key(key: &str) -> String {
    key.to_lowercase()
}
