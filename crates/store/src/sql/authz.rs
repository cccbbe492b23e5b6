//! The hot path: access key lookup and a principal's authorization set.

use async_trait::async_trait;
use sqlx::AnyConnection;
use tokio::sync::broadcast;

use super::roles::RoleRow;
use super::users::UserRow;
use super::{SqlStore, no_account, to_u64};
use crate::arn::is_aws_managed_policy;
use crate::change::Change;
use crate::error::{Result, StoreError};
use crate::model::{
    AccessKeyLookup, AuthorizationSet, Ciphertext, KeyPrincipal, PolicyDocument, PolicyOrigin,
    PolicySource, PrincipalInfo, PrincipalKind, PrincipalRef, version_id,
};
use crate::store::AuthzStore;

#[derive(sqlx::FromRow)]
struct LookupRow {
    id: String,
    account_id: String,
    status: String,
    secret_ciphertext: Vec<u8>,
    user_id: Option<String>,
    user_name: Option<String>,
    user_path: Option<String>,
    user_arn: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AttachedRow {
    policy_arn: String,
    default_version: Option<i64>,
    document: Option<String>,
}

#[derive(sqlx::FromRow)]
struct InlineRow {
    name: String,
    document: String,
}

async fn generation_of(conn: &mut AnyConnection, account: &str) -> Result<u64> {
    let g: Option<i64> = sqlx::query_scalar("SELECT generation FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_optional(&mut *conn)
        .await?;
    to_u64(g.ok_or_else(|| no_account(account))?)
}

/// Inline then attached policies of one owner, in name / ARN order.
async fn policies_of(
    conn: &mut AnyConnection,
    account: &str,
    kind: &str,
    id: &str,
    origin: &PolicyOrigin,
    out: &mut Vec<PolicySource>,
) -> Result<()> {
    let inline: Vec<InlineRow> =
        sqlx::query_as("SELECT name, document FROM inline_policies WHERE owner_kind = $1 AND owner_id = $2 ORDER BY name")
            .bind(kind)
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    out.extend(inline.into_iter().map(|r| PolicySource {
        origin: origin.clone(),
        policy: PolicyDocument::Inline {
            name: r.name,
            document: r.document,
        },
    }));
    let attached: Vec<AttachedRow> = sqlx::query_as(
        "SELECT a.policy_arn, p.default_version, v.document FROM policy_attachments a \
         LEFT JOIN managed_policies p ON p.account_id = $1 AND p.arn = a.policy_arn \
         LEFT JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version \
         WHERE a.owner_kind = $2 AND a.owner_id = $3 ORDER BY a.policy_arn",
    )
    .bind(account)
    .bind(kind)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    for row in attached {
        out.push(PolicySource {
            origin: origin.clone(),
            policy: managed(row)?,
        });
    }
    Ok(())
}

fn managed(row: AttachedRow) -> Result<PolicyDocument> {
    match (row.default_version, row.document) {
        (Some(version), Some(document)) => Ok(PolicyDocument::Customer {
            arn: row.policy_arn,
            version_id: version_id(version),
            document,
        }),
        _ if is_aws_managed_policy(&row.policy_arn) => Ok(PolicyDocument::AwsManaged {
            arn: row.policy_arn,
        }),
        // Deletion of an attached policy is refused, so this is corruption, not a user error.
        _ => Err(StoreError::backend(format!(
            "attached policy {} has no default version",
            row.policy_arn
        ))),
    }
}

async fn boundary_of(
    conn: &mut AnyConnection,
    account: &str,
    arn: Option<String>,
) -> Result<Option<PolicyDocument>> {
    let Some(arn) = arn else { return Ok(None) };
    let row: Option<AttachedRow> = sqlx::query_as(
        "SELECT p.arn AS policy_arn, p.default_version, v.document FROM managed_policies p \
         JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.default_version \
         WHERE p.account_id = $1 AND p.arn = $2",
    )
    .bind(account)
    .bind(&arn)
    .fetch_optional(&mut *conn)
    .await?;
    let row = row.unwrap_or(AttachedRow {
        policy_arn: arn,
        default_version: None,
        document: None,
    });
    managed(row).map(Some)
}

async fn user_info(
    conn: &mut AnyConnection,
    row: UserRow,
) -> Result<(PrincipalInfo, Option<String>)> {
    let tags = super::tags::load(conn, "user", &row.id).await?;
    let info = PrincipalInfo {
        kind: PrincipalKind::User,
        id: row.id,
        name: row.name,
        path: row.path,
        arn: row.arn,
        tags,
    };
    Ok((info, row.boundary_arn))
}

async fn role_info(
    conn: &mut AnyConnection,
    row: RoleRow,
) -> Result<(PrincipalInfo, Option<String>)> {
    let tags = super::tags::load(conn, "role", &row.id).await?;
    let info = PrincipalInfo {
        kind: PrincipalKind::Role,
        id: row.id,
        name: row.name,
        path: row.path,
        arn: row.arn,
        tags,
    };
    Ok((info, row.boundary_arn))
}

#[async_trait]
impl AuthzStore for SqlStore {
    async fn lookup_access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyLookup>> {
        let row: Option<LookupRow> = sqlx::query_as(
            "SELECT k.id, k.account_id, k.status, k.secret_ciphertext, u.id AS user_id, u.name AS user_name, \
             u.path AS user_path, u.arn AS user_arn \
             FROM access_keys k LEFT JOIN iam_users u ON u.id = k.user_id WHERE k.id = $1",
        )
        .bind(access_key_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let principal = match (row.user_id, row.user_name, row.user_path, row.user_arn) {
            (Some(id), Some(name), Some(path), Some(arn)) => KeyPrincipal::User {
                id,
                name,
                path,
                arn,
            },
            _ => KeyPrincipal::Root,
        };
        Ok(Some(AccessKeyLookup {
            access_key_id: row.id,
            account_id: row.account_id,
            status: super::access::parse_status(&row.status)?,
            secret_ciphertext: Ciphertext::new(row.secret_ciphertext),
            principal,
        }))
    }

    async fn authorization_set(
        &self,
        account: &str,
        principal: &PrincipalRef,
    ) -> Result<AuthorizationSet> {
        let mut tx = self.begin_read().await?;
        let generation = generation_of(&mut tx, account).await?;
        let (info, boundary_arn) = match principal {
            PrincipalRef::UserName(name) => {
                let row = super::users::find(&mut tx, account, name).await?;
                user_info(&mut tx, row).await?
            }
            PrincipalRef::UserId(id) => {
                let row = super::users::find_by_id(&mut tx, account, id).await?;
                user_info(&mut tx, row).await?
            }
            PrincipalRef::RoleName(name) => {
                let row = super::roles::find(&mut tx, account, name).await?;
                role_info(&mut tx, row).await?
            }
            PrincipalRef::RoleId(id) => {
                let row = super::roles::find_by_id(&mut tx, account, id).await?;
                role_info(&mut tx, row).await?
            }
        };
        let mut policies = Vec::new();
        let kind = match info.kind {
            PrincipalKind::User => "user",
            PrincipalKind::Role => "role",
        };
        policies_of(
            &mut tx,
            account,
            kind,
            &info.id,
            &PolicyOrigin::Principal,
            &mut policies,
        )
        .await?;
        if info.kind == PrincipalKind::User {
            let groups: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT g.id, g.name, g.arn FROM group_members gm JOIN iam_groups g ON g.id = gm.group_id \
                 WHERE gm.user_id = $1 ORDER BY g.name_lower",
            )
            .bind(&info.id)
            .fetch_all(&mut *tx)
            .await?;
            for (id, name, arn) in groups {
                let origin = PolicyOrigin::Group { name, arn };
                policies_of(&mut tx, account, "group", &id, &origin, &mut policies).await?;
            }
        }
        let boundary = boundary_of(&mut tx, account, boundary_arn).await?;
        tx.commit().await?;
        Ok(AuthorizationSet {
            account_id: account.to_owned(),
            generation,
            principal: info,
            policies,
            boundary,
        })
    }

    async fn generation(&self, account: &str) -> Result<u64> {
        let mut conn = self.pool.acquire().await?;
        generation_of(&mut conn, account).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}
