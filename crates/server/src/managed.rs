//! The AWS managed policies that every account sees under
//! `arn:aws:iam::aws:policy/…`, embedded from
//! `data/aws-managed-policies/aws-managed-policies.json` (a March 2026
//! snapshot of `ListPolicies --scope AWS`; see `data/README.md`).
//!
//! They are read-only and the same in every account, so they live in the
//! binary rather than in each account's database; attachments to them are
//! stored like any other.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use portcullis_policy::{Policy, PolicyKind};
use serde::Deserialize;
use time::OffsetDateTime;

static SNAPSHOT: &str =
    include_str!("../../../data/aws-managed-policies/aws-managed-policies.json");

/// One AWS managed policy at its default version.
#[derive(Debug, Clone)]
pub struct AwsManagedPolicy {
    pub arn: String,
    pub name: String,
    pub id: String,
    pub path: String,
    pub default_version_id: String,
    pub create_date: OffsetDateTime,
    pub update_date: OffsetDateTime,
    /// The default version's document, compact JSON.
    pub document: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Snapshot {
    policies: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    arn: String,
    policy_name: String,
    policy_id: String,
    path: String,
    default_version_id: String,
    #[serde(with = "time::serde::rfc3339")]
    create_date: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    update_date: OffsetDateTime,
    document: serde_json::Value,
}

/// The catalog, sorted by name, with a compiled form made on first use.
#[derive(Debug)]
pub struct AwsManagedPolicies {
    by_name: Vec<AwsManagedPolicy>,
    by_arn: HashMap<String, usize>,
    compiled: RwLock<HashMap<usize, Arc<Policy>>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the embedded AWS managed policy snapshot is unreadable: {0}")]
pub struct CatalogError(String);

impl AwsManagedPolicies {
    pub fn load() -> Result<Self, CatalogError> {
        let snapshot: Snapshot =
            serde_json::from_str(SNAPSHOT).map_err(|e| CatalogError(e.to_string()))?;
        let mut by_name: Vec<AwsManagedPolicy> = snapshot
            .policies
            .into_iter()
            .map(|e| AwsManagedPolicy {
                document: e.document.to_string(),
                arn: e.arn,
                name: e.policy_name,
                id: e.policy_id,
                path: e.path,
                default_version_id: e.default_version_id,
                create_date: e.create_date,
                update_date: e.update_date,
            })
            .collect();
        by_name.sort_by(|a, b| a.name.cmp(&b.name));
        let by_arn = by_name
            .iter()
            .enumerate()
            .map(|(i, p)| (p.arn.clone(), i))
            .collect();
        Ok(AwsManagedPolicies {
            by_name,
            by_arn,
            compiled: RwLock::new(HashMap::new()),
        })
    }

    pub fn is_aws_managed_arn(arn: &str) -> bool {
        arn.starts_with("arn:aws:iam::aws:policy/")
    }

    pub fn get(&self, arn: &str) -> Option<&AwsManagedPolicy> {
        self.by_arn.get(arn).and_then(|&i| self.by_name.get(i))
    }

    /// All of them, by name.
    pub fn all(&self) -> &[AwsManagedPolicy] {
        &self.by_name
    }

    /// The compiled policy, compiled once and shared.
    pub fn compiled(&self, arn: &str) -> Option<Arc<Policy>> {
        let &i = self.by_arn.get(arn)?;
        if let Ok(cache) = self.compiled.read()
            && let Some(p) = cache.get(&i)
        {
            return Some(p.clone());
        }
        let entry = self.by_name.get(i)?;
        let policy =
            Policy::parse(entry.arn.clone(), &entry.document, PolicyKind::Identity).ok()?;
        if let Ok(mut cache) = self.compiled.write() {
            cache.insert(i, policy.clone());
        }
        Some(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_loads_and_resolves_by_arn() {
        let c = AwsManagedPolicies::load().unwrap();
        assert_eq!(c.all().len(), 1452);
        let admin = c
            .get("arn:aws:iam::aws:policy/AdministratorAccess")
            .unwrap();
        assert_eq!(admin.name, "AdministratorAccess");
        assert!(admin.document.contains("\"Action\":\"*\""));
        assert!(c.compiled(&admin.arn).is_some());
        assert!(c.get("arn:aws:iam::aws:policy/NoSuchPolicy").is_none());
    }
}
