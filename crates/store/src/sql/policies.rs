//! Managed policies and versions, inline policies, attachments and permissions boundaries.

use async_trait::async_trait;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::{SqlStore, count1, count2, lower, secs, to_time, to_u64, unique_or};
use crate::arn::{AWS_MANAGED_POLICY_PREFIX, is_aws_managed_policy, policy_arn};
use crate::change::{ChangeKind, EntityRef};
use crate::error::{Result, StoreError};
use crate::ids::{IdKind, new_id};
use crate::model::{
    AttachedPolicy, BoundaryOwner, EntityKind, InlinePolicy, ManagedPolicy, NewPolicy,
    PolicyEntity, PolicyFilter, PolicyOwner, PolicyUsage, PolicyVersion, parse_version_id,
    version_id,
};
use crate::page::{Page, after_key, decode_marker, encode_marker, fetch_limit, finish};
use crate::store::PolicyStore;

/// AWS's quota of versions per managed policy.
pub(crate) const MAX_POLICY_VERSIONS: i64 = 5;
/// AWS's default quota of managed policies attached to one identity.
pub(crate) const MAX_ATTACHED_POLICIES: i64 = 10;

#[derive(sqlx::FromRow)]
pub(super) struct PolicyRow {
    pub(super) id: String,
    pub(super) account_id: String,
    pub(super) name: String,
    pub(super) path: String,
    pub(super) arn: String,
    pub(super) description: Option<String>,
    pub(super) create_date: i64,
    pub(super) update_date: i64,
    pub(super) default_version: i64,
    pub(super) next_version: i64,
}

/// A policy row with its usage counts, as lists read it.
#[derive(sqlx::FromRow)]
struct CountedPolicyRow {
    #[sqlx(flatten)]
    row: PolicyRow,
    attachment_count: i64,
    boundary_count: i64,
}

impl PolicyRow {
    fn into_policy(self, attachment_count: i64, boundary_count: i64) -> Result<ManagedPolicy> {
        Ok(ManagedPolicy {
            id: self.id,
            account_id: self.account_id,
            name: self.name,
            path: self.path,
            arn: self.arn,
            description: self.description,
            create_date: to_time(self.create_date)?,
            update_date: to_time(self.update_date)?,
            default_version_id: version_id(self.default_version),
            attachment_count: to_u64(attachment_count)?,
            permissions_boundary_usage_count: to_u64(boundary_count)?,
            tags: Vec::new(),
        })
    }
}

fn not_found(arn: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
}

fn version_not_found(arn: &str, version: &str) -> StoreError {
    StoreError::NoSuchEntity(format!(
        "Policy {arn} version {version} does not exist or is not attachable."
    ))
}

/// A customer managed policy of the account by ARN, or `NoSuchEntity`.
pub(super) async fn find(conn: &mut AnyConnection, account: &str, arn: &str) -> Result<PolicyRow> {
    sqlx::query_as(concat!(
        "SELECT ",
        policy_cols!(),
        " FROM managed_policies WHERE account_id = $1 AND arn = $2"
    ))
    .bind(account)
    .bind(arn)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| not_found(arn))
}

/// Checks that a policy ARN can be attached or used as a boundary: an AWS managed ARN is
/// accepted as is (the server knows that catalogue), a customer one must exist in the account.
pub(super) async fn check_exists(conn: &mut AnyConnection, account: &str, arn: &str) -> Result<()> {
    if is_aws_managed_policy(arn) {
        return Ok(());
    }
    find(conn, account, arn).await.map(|_| ())
}

async fn counts(conn: &mut AnyConnection, account: &str, arn: &str) -> Result<(i64, i64)> {
    let attached = count2(
        conn,
        "SELECT count(*) FROM policy_attachments WHERE account_id = $1 AND policy_arn = $2",
        account,
        arn,
    )
    .await?;
    let boundary = count2(
        conn,
        "SELECT (SELECT count(*) FROM iam_users WHERE account_id = $1 AND boundary_arn = $2) \
         + (SELECT count(*) FROM iam_roles WHERE account_id = $1 AND boundary_arn = $2)",
        account,
        arn,
    )
    .await?;
    Ok((attached, boundary))
}

async fn full(conn: &mut AnyConnection, account: &str, row: PolicyRow) -> Result<ManagedPolicy> {
    let (attached, boundary) = counts(conn, account, &row.arn).await?;
    let tags = super::tags::load(conn, "policy", &row.id).await?;
    let mut policy = row.into_policy(attached, boundary)?;
    policy.tags = tags;
    Ok(policy)
}

/// (kind, id, entity name for the change) of a policy owner, or `NoSuchEntity`.
pub(super) async fn owner(
    conn: &mut AnyConnection,
    account: &str,
    owner: &PolicyOwner,
) -> Result<(&'static str, String, EntityRef)> {
    Ok(match owner {
        PolicyOwner::User(name) => {
            let u = super::users::find(conn, account, name).await?;
            ("user", u.id, EntityRef::User(u.name))
        }
        PolicyOwner::Group(name) => {
            let g = super::groups::find(conn, account, name).await?;
            ("group", g.id, EntityRef::Group(g.name))
        }
        PolicyOwner::Role(name) => {
            let r = super::roles::find(conn, account, name).await?;
            ("role", r.id, EntityRef::Role(r.name))
        }
    })
}

/// The path part of a policy ARN (`/service-role/` of `…:policy/service-role/X`).
fn path_of_arn(arn: &str) -> String {
    let after = arn
        .split_once(":policy")
        .map(|(_, rest)| rest)
        .unwrap_or("/");
    match after.rfind('/') {
        Some(i) => after.get(..=i).unwrap_or("/").to_owned(),
        None => "/".to_owned(),
    }
}

fn quota_name(kind: &str) -> &'static str {
    match kind {
        "group" => "PoliciesPerGroup",
        "role" => "PoliciesPerRole",
        _ => "PoliciesPerUser",
    }
}

#[async_trait]
impl PolicyStore for SqlStore {
    async fn create_policy(
        &self,
        account: &str,
        policy: &NewPolicy,
        now: OffsetDateTime,
    ) -> Result<ManagedPolicy> {
        let mut w = self.begin_change(account).await?;
        let id = new_id(IdKind::ManagedPolicy);
        let arn = policy_arn(account, &policy.path, &policy.name);
        sqlx::query(
            "INSERT INTO managed_policies (id, account_id, name, name_lower, path, arn, description, \
             create_date, update_date, default_version, next_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1, 2)",
        )
        .bind(&id)
        .bind(account)
        .bind(&policy.name)
        .bind(lower(&policy.name))
        .bind(&policy.path)
        .bind(&arn)
        .bind(policy.description.as_deref())
        .bind(secs(now))
        .execute(&mut *w)
        .await
        .map_err(|e| {
            unique_or(e, || {
                StoreError::EntityAlreadyExists(format!(
                    "A policy called {} already exists. Duplicate names are not allowed.",
                    policy.name
                ))
            })
        })?;
        sqlx::query("INSERT INTO policy_versions (policy_id, version, document, create_date) VALUES ($1, 1, $2, $3)")
            .bind(&id)
            .bind(&policy.document)
            .bind(secs(now))
            .execute(&mut *w)
            .await?;
        super::tags::put(&mut w, account, "policy", &id, &policy.tags).await?;
        let row = find(&mut w, account, &arn).await?;
        let created = full(&mut w, account, row).await?;
        self.commit(w, ChangeKind::Created, EntityRef::Policy(arn))
            .await?;
        Ok(created)
    }

    async fn get_policy(&self, account: &str, arn: &str) -> Result<ManagedPolicy> {
        let mut tx = self.begin_read().await?;
        let row = find(&mut tx, account, arn).await?;
        let policy = full(&mut tx, account, row).await?;
        tx.commit().await?;
        Ok(policy)
    }

    async fn delete_policy(&self, account: &str, arn: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let row = find(&mut w, account, arn).await?;
        let (attached, boundary) = counts(&mut w, account, arn).await?;
        if attached > 0 {
            return Err(StoreError::DeleteConflict(
                "Cannot delete a policy attached to entities.".into(),
            ));
        }
        if boundary > 0 {
            return Err(StoreError::DeleteConflict(
                "Cannot delete a policy used as a permissions boundary.".into(),
            ));
        }
        if count1(
            &mut w,
            "SELECT count(*) FROM policy_versions WHERE policy_id = $1",
            &row.id,
        )
        .await?
            > 1
        {
            return Err(StoreError::DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must delete the \
                 policy's versions. The default version is deleted with the policy."
                    .into(),
            ));
        }
        super::tags::delete_all(&mut w, "policy", &row.id).await?;
        sqlx::query("DELETE FROM policy_versions WHERE policy_id = $1")
            .bind(&row.id)
            .execute(&mut *w)
            .await?;
        sqlx::query("DELETE FROM managed_policies WHERE id = $1")
            .bind(&row.id)
            .execute(&mut *w)
            .await?;
        self.commit(w, ChangeKind::Deleted, EntityRef::Policy(row.arn))
            .await
    }

    async fn list_policies(
        &self,
        account: &str,
        filter: &PolicyFilter,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<ManagedPolicy>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let usage = match (filter.only_attached, filter.usage) {
            (_, Some(PolicyUsage::PermissionsBoundary)) => Some("boundary"),
            (true, _) | (_, Some(PolicyUsage::PermissionsPolicy)) => Some("policy"),
            (false, None) => None,
        };
        let rows: Vec<CountedPolicyRow> = sqlx::query_as(
            "SELECT * FROM (SELECT p.id, p.account_id, p.name, p.name_lower, p.path, p.arn, p.description, \
             p.create_date, p.update_date, p.default_version, p.next_version, \
             (SELECT count(*) FROM policy_attachments a WHERE a.account_id = p.account_id \
               AND a.policy_arn = p.arn) AS attachment_count, \
             (SELECT count(*) FROM iam_users u WHERE u.account_id = p.account_id AND u.boundary_arn = p.arn) \
             + (SELECT count(*) FROM iam_roles r WHERE r.account_id = p.account_id AND r.boundary_arn = p.arn) \
               AS boundary_count \
             FROM managed_policies p WHERE p.account_id = $1 \
             AND ($2 IS NULL OR substr(p.path, 1, length($2)) = $2) \
             AND ($3 IS NULL OR p.name_lower > $3)) q \
             WHERE ($4 IS NULL OR ($4 = 'policy' AND q.attachment_count > 0) \
               OR ($4 = 'boundary' AND q.boundary_count > 0)) \
             ORDER BY q.name_lower LIMIT $5",
        )
        .bind(account)
        .bind(filter.path_prefix.as_deref())
        .bind(after)
        .bind(usage)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let policies = rows
            .into_iter()
            .map(|r| r.row.into_policy(r.attachment_count, r.boundary_count))
            .collect::<Result<Vec<_>>>()?;
        Ok(finish(policies, max_items, |p| {
            encode_marker(&[&lower(&p.name)])
        }))
    }

    async fn create_policy_version(
        &self,
        account: &str,
        arn: &str,
        document: &str,
        set_as_default: bool,
        now: OffsetDateTime,
    ) -> Result<PolicyVersion> {
        let mut w = self.begin_change(account).await?;
        let row = find(&mut w, account, arn).await?;
        if count1(
            &mut w,
            "SELECT count(*) FROM policy_versions WHERE policy_id = $1",
            &row.id,
        )
        .await?
            >= MAX_POLICY_VERSIONS
        {
            return Err(StoreError::LimitExceeded(format!(
                "A managed policy can have up to {MAX_POLICY_VERSIONS} versions. Before you create a new \
                 version, you must delete an existing version."
            )));
        }
        let version = row.next_version;
        sqlx::query("INSERT INTO policy_versions (policy_id, version, document, create_date) VALUES ($1, $2, $3, $4)")
            .bind(&row.id)
            .bind(version)
            .bind(document)
            .bind(secs(now))
            .execute(&mut *w)
            .await?;
        let default = if set_as_default {
            version
        } else {
            row.default_version
        };
        sqlx::query(
            "UPDATE managed_policies SET next_version = $1, default_version = $2, update_date = $3 WHERE id = $4",
        )
        .bind(version + 1)
        .bind(default)
        .bind(secs(now))
        .bind(&row.id)
        .execute(&mut *w)
        .await?;
        self.commit(w, ChangeKind::Updated, EntityRef::Policy(row.arn.clone()))
            .await?;
        Ok(PolicyVersion {
            policy_arn: row.arn,
            version_id: version_id(version),
            document: document.to_owned(),
            is_default: set_as_default,
            create_date: now.replace_nanosecond(0).unwrap_or(now),
        })
    }

    async fn get_policy_version(
        &self,
        account: &str,
        arn: &str,
        version: &str,
    ) -> Result<PolicyVersion> {
        let n = parse_version_id(version).ok_or_else(|| version_not_found(arn, version))?;
        let mut tx = self.begin_read().await?;
        let row = find(&mut tx, account, arn).await?;
        let v: Option<VersionRow> =
            sqlx::query_as("SELECT version, document, create_date FROM policy_versions WHERE policy_id = $1 AND version = $2")
                .bind(&row.id)
                .bind(n)
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        let v = v.ok_or_else(|| version_not_found(arn, version))?;
        v.into_version(&row)
    }

    async fn list_policy_versions(
        &self,
        account: &str,
        arn: &str,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<PolicyVersion>> {
        let limit = fetch_limit(max_items)?;
        let before = match marker {
            Some(m) => {
                let key = decode_marker(&m, 1)?.concat();
                Some(
                    key.parse::<i64>()
                        .map_err(|_| StoreError::InvalidInput("Invalid Marker.".into()))?,
                )
            }
            None => None,
        };
        let mut tx = self.begin_read().await?;
        let row = find(&mut tx, account, arn).await?;
        let rows: Vec<VersionRow> = sqlx::query_as(
            "SELECT version, document, create_date FROM policy_versions WHERE policy_id = $1 \
             AND ($2 IS NULL OR version < $2) ORDER BY version DESC LIMIT $3",
        )
        .bind(&row.id)
        .bind(before)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let versions = rows
            .into_iter()
            .map(|v| v.into_version(&row))
            .collect::<Result<Vec<_>>>()?;
        Ok(finish(versions, max_items, |v| {
            encode_marker(&[v.version_id.trim_start_matches('v')])
        }))
    }

    async fn delete_policy_version(&self, account: &str, arn: &str, version: &str) -> Result<()> {
        let n = parse_version_id(version).ok_or_else(|| version_not_found(arn, version))?;
        let mut w = self.begin_change(account).await?;
        let row = find(&mut w, account, arn).await?;
        if n == row.default_version {
            return Err(StoreError::DeleteConflict(
                "Cannot delete the default version of a policy.".into(),
            ));
        }
        let deleted =
            sqlx::query("DELETE FROM policy_versions WHERE policy_id = $1 AND version = $2")
                .bind(&row.id)
                .bind(n)
                .execute(&mut *w)
                .await?
                .rows_affected();
        if deleted == 0 {
            return Err(version_not_found(arn, version));
        }
        self.commit(w, ChangeKind::Updated, EntityRef::Policy(row.arn))
            .await
    }

    async fn set_default_policy_version(
        &self,
        account: &str,
        arn: &str,
        version: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let n = parse_version_id(version).ok_or_else(|| version_not_found(arn, version))?;
        let mut w = self.begin_change(account).await?;
        let row = find(&mut w, account, arn).await?;
        let exists = sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM policy_versions WHERE policy_id = $1 AND version = $2",
        )
        .bind(&row.id)
        .bind(n)
        .fetch_one(&mut *w)
        .await?;
        if exists == 0 {
            return Err(version_not_found(arn, version));
        }
        sqlx::query(
            "UPDATE managed_policies SET default_version = $1, update_date = $2 WHERE id = $3",
        )
        .bind(n)
        .bind(secs(now))
        .bind(&row.id)
        .execute(&mut *w)
        .await?;
        self.commit(w, ChangeKind::Updated, EntityRef::Policy(row.arn))
            .await
    }

    async fn attach_policy(&self, account: &str, owner_ref: &PolicyOwner, arn: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let (kind, id, entity) = owner(&mut w, account, owner_ref).await?;
        check_exists(&mut w, account, arn).await?;
        let inserted = sqlx::query(
            "INSERT INTO policy_attachments (account_id, owner_kind, owner_id, policy_arn, policy_path) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(account)
        .bind(kind)
        .bind(&id)
        .bind(arn)
        .bind(path_of_arn(arn))
        .execute(&mut *w)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(());
        }
        let n = count2(
            &mut w,
            "SELECT count(*) FROM policy_attachments WHERE owner_kind = $1 AND owner_id = $2",
            kind,
            &id,
        )
        .await?;
        if n > MAX_ATTACHED_POLICIES {
            return Err(StoreError::LimitExceeded(format!(
                "Cannot exceed quota for {}: {MAX_ATTACHED_POLICIES}",
                quota_name(kind)
            )));
        }
        self.commit(w, ChangeKind::Updated, entity).await
    }

    async fn detach_policy(&self, account: &str, owner_ref: &PolicyOwner, arn: &str) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let (kind, id, entity) = owner(&mut w, account, owner_ref).await?;
        let removed = sqlx::query(
            "DELETE FROM policy_attachments WHERE owner_kind = $1 AND owner_id = $2 AND policy_arn = $3",
        )
        .bind(kind)
        .bind(&id)
        .bind(arn)
        .execute(&mut *w)
        .await?
        .rows_affected();
        if removed == 0 {
            return Err(StoreError::NoSuchEntity(format!(
                "Policy {arn} was not found."
            )));
        }
        self.commit(w, ChangeKind::Updated, entity).await
    }

    async fn list_attached_policies(
        &self,
        account: &str,
        owner_ref: &PolicyOwner,
        path_prefix: Option<&str>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<AttachedPolicy>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let mut tx = self.begin_read().await?;
        let (kind, id, _) = owner(&mut tx, account, owner_ref).await?;
        let arns: Vec<String> = sqlx::query_scalar(
            "SELECT policy_arn FROM policy_attachments WHERE owner_kind = $1 AND owner_id = $2 \
             AND ($3 IS NULL OR substr(policy_path, 1, length($3)) = $3) \
             AND ($4 IS NULL OR policy_arn > $4) ORDER BY policy_arn LIMIT $5",
        )
        .bind(kind)
        .bind(&id)
        .bind(path_prefix)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let attached: Vec<AttachedPolicy> =
            arns.into_iter().map(AttachedPolicy::from_arn).collect();
        Ok(finish(attached, max_items, |a| {
            encode_marker(&[&a.policy_arn])
        }))
    }

    async fn list_entities_for_policy(
        &self,
        account: &str,
        arn: &str,
        kind: Option<EntityKind>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<PolicyEntity>> {
        let limit = fetch_limit(max_items)?;
        let (after_kind, after_name) = match marker {
            Some(m) => {
                let mut parts = decode_marker(&m, 2)?.into_iter();
                (parts.next(), parts.next())
            }
            None => (None, None),
        };
        let mut tx = self.begin_read().await?;
        check_exists(&mut tx, account, arn).await?;
        let rows: Vec<EntityRow> = sqlx::query_as(
            "SELECT kind, name, id FROM ( \
               SELECT 'group' AS kind, g.name AS name, g.name_lower AS name_lower, g.id AS id \
               FROM policy_attachments a JOIN iam_groups g ON a.owner_kind = 'group' AND g.id = a.owner_id \
               WHERE a.account_id = $1 AND a.policy_arn = $2 \
               UNION ALL \
               SELECT 'role', r.name, r.name_lower, r.id \
               FROM policy_attachments a JOIN iam_roles r ON a.owner_kind = 'role' AND r.id = a.owner_id \
               WHERE a.account_id = $1 AND a.policy_arn = $2 \
               UNION ALL \
               SELECT 'user', u.name, u.name_lower, u.id \
               FROM policy_attachments a JOIN iam_users u ON a.owner_kind = 'user' AND u.id = a.owner_id \
               WHERE a.account_id = $1 AND a.policy_arn = $2) e \
             WHERE ($3 IS NULL OR e.kind = $3) \
             AND ($4 IS NULL OR e.kind > $4 OR (e.kind = $4 AND e.name_lower > $5)) \
             ORDER BY e.kind, e.name_lower LIMIT $6",
        )
        .bind(account)
        .bind(arn)
        .bind(kind.map(EntityKind::as_str))
        .bind(after_kind)
        .bind(after_name)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let entities = rows
            .into_iter()
            .map(|r| {
                let kind = EntityKind::parse(&r.kind)
                    .ok_or_else(|| StoreError::backend("bad entity kind"))?;
                Ok(PolicyEntity {
                    kind,
                    name: r.name,
                    id: r.id,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(finish(entities, max_items, |e| {
            encode_marker(&[e.kind.as_str(), &lower(&e.name)])
        }))
    }

    async fn aws_managed_attachment_counts(&self, account: &str) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT policy_arn, count(*) FROM policy_attachments WHERE account_id = $1 \
             AND substr(policy_arn, 1, length($2)) = $2 GROUP BY policy_arn ORDER BY policy_arn",
        )
        .bind(account)
        .bind(AWS_MANAGED_POLICY_PREFIX)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(arn, n)| Ok((arn, to_u64(n)?)))
            .collect()
    }

    async fn put_inline_policy(
        &self,
        account: &str,
        owner_ref: &PolicyOwner,
        name: &str,
        document: &str,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let (kind, id, entity) = owner(&mut w, account, owner_ref).await?;
        sqlx::query(
            "INSERT INTO inline_policies (account_id, owner_kind, owner_id, name, document) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (owner_kind, owner_id, name) DO UPDATE SET document = excluded.document",
        )
        .bind(account)
        .bind(kind)
        .bind(&id)
        .bind(name)
        .bind(document)
        .execute(&mut *w)
        .await?;
        self.commit(w, ChangeKind::Updated, entity).await
    }

    async fn get_inline_policy(
        &self,
        account: &str,
        owner_ref: &PolicyOwner,
        name: &str,
    ) -> Result<InlinePolicy> {
        let mut tx = self.begin_read().await?;
        let (kind, id, _) = owner(&mut tx, account, owner_ref).await?;
        let document: Option<String> = sqlx::query_scalar(
            "SELECT document FROM inline_policies WHERE owner_kind = $1 AND owner_id = $2 AND name = $3",
        )
        .bind(kind)
        .bind(&id)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let document = document.ok_or_else(|| inline_not_found(kind, name))?;
        Ok(InlinePolicy {
            name: name.to_owned(),
            document,
        })
    }

    async fn delete_inline_policy(
        &self,
        account: &str,
        owner_ref: &PolicyOwner,
        name: &str,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let (kind, id, entity) = owner(&mut w, account, owner_ref).await?;
        let removed = sqlx::query(
            "DELETE FROM inline_policies WHERE owner_kind = $1 AND owner_id = $2 AND name = $3",
        )
        .bind(kind)
        .bind(&id)
        .bind(name)
        .execute(&mut *w)
        .await?
        .rows_affected();
        if removed == 0 {
            return Err(inline_not_found(kind, name));
        }
        self.commit(w, ChangeKind::Updated, entity).await
    }

    async fn list_inline_policies(
        &self,
        account: &str,
        owner_ref: &PolicyOwner,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<String>> {
        let limit = fetch_limit(max_items)?;
        let after = after_key(marker)?;
        let mut tx = self.begin_read().await?;
        let (kind, id, _) = owner(&mut tx, account, owner_ref).await?;
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM inline_policies WHERE owner_kind = $1 AND owner_id = $2 \
             AND ($3 IS NULL OR name > $3) ORDER BY name LIMIT $4",
        )
        .bind(kind)
        .bind(&id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(finish(names, max_items, |n| encode_marker(&[n])))
    }

    async fn put_permissions_boundary(
        &self,
        account: &str,
        owner_ref: &BoundaryOwner,
        arn: &str,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        check_exists(&mut w, account, arn).await?;
        let entity = set_boundary(&mut w, account, owner_ref, Some(arn)).await?;
        self.commit(w, ChangeKind::Updated, entity).await
    }

    async fn delete_permissions_boundary(
        &self,
        account: &str,
        owner_ref: &BoundaryOwner,
    ) -> Result<()> {
        let mut w = self.begin_change(account).await?;
        let entity = set_boundary(&mut w, account, owner_ref, None).await?;
        self.commit(w, ChangeKind::Updated, entity).await
    }
}

async fn set_boundary(
    conn: &mut AnyConnection,
    account: &str,
    owner_ref: &BoundaryOwner,
    arn: Option<&str>,
) -> Result<EntityRef> {
    Ok(match owner_ref {
        BoundaryOwner::User(name) => {
            let u = super::users::find(conn, account, name).await?;
            sqlx::query("UPDATE iam_users SET boundary_arn = $1 WHERE id = $2")
                .bind(arn)
                .bind(&u.id)
                .execute(&mut *conn)
                .await?;
            EntityRef::User(u.name)
        }
        BoundaryOwner::Role(name) => {
            let r = super::roles::find(conn, account, name).await?;
            sqlx::query("UPDATE iam_roles SET boundary_arn = $1 WHERE id = $2")
                .bind(arn)
                .bind(&r.id)
                .execute(&mut *conn)
                .await?;
            EntityRef::Role(r.name)
        }
    })
}

fn inline_not_found(kind: &str, name: &str) -> StoreError {
    StoreError::NoSuchEntity(format!(
        "The {kind} policy with name {name} cannot be found."
    ))
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i64,
    document: String,
    create_date: i64,
}

impl VersionRow {
    fn into_version(self, policy: &PolicyRow) -> Result<PolicyVersion> {
        Ok(PolicyVersion {
            policy_arn: policy.arn.clone(),
            version_id: version_id(self.version),
            document: self.document,
            is_default: self.version == policy.default_version,
            create_date: to_time(self.create_date)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EntityRow {
    kind: String,
    name: String,
    id: String,
}

#[cfg(test)]
mod tests {
    use super::path_of_arn;

    #[test]
    fn policy_paths_come_from_arns() {
        assert_eq!(
            path_of_arn("arn:aws:iam::aws:policy/AdministratorAccess"),
            "/"
        );
        assert_eq!(
            path_of_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaRole"),
            "/service-role/"
        );
        assert_eq!(
            path_of_arn("arn:aws:iam::123456789012:policy/a/b/P"),
            "/a/b/"
        );
    }
}
