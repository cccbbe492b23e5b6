//! The behaviour every backend of [`Store`] must show, as a reusable suite (feature
//! `conformance`).
//!
//! Each case creates its own account (random 12-digit id), so cases are independent of each
//! other and of whatever else the database holds; they can run one after the other on one
//! store. [`cases`] lists them by name for a harness that reports each; [`suite`] runs them all.
//! The races (`race_*`) start many tasks at once against the same entity and check that the
//! rule held for exactly the expected number of them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "this is test code shipped in the library: a failed expectation must abort the case"
)]

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use time::OffsetDateTime;
use time::macros::datetime;
use tokio::task::JoinSet;

use crate::change::{ChangeKind, EntityRef};
use crate::error::StoreError;
use crate::ids::IdKind;
use crate::model::*;
use crate::page::Page;
use crate::{Result, Store};

/// A shared store handle, as the server holds it.
pub type DynStore = Arc<dyn Store>;

/// One named case of the suite.
#[derive(Clone, Copy)]
pub struct Case {
    /// The case's name (the function's name).
    pub name: &'static str,
    /// Runs the case; panics on the first broken expectation.
    pub run: fn(DynStore) -> Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        vec![$(Case { name: stringify!($name), run: |s| Box::pin($name(s)) }),*]
    };
}

/// Every case, in a stable order.
pub fn cases() -> Vec<Case> {
    cases![
        accounts_aliases_password_policy_and_summary,
        users_crud_and_case_insensitive_names,
        users_pagination_is_stable,
        user_delete_conflicts,
        groups_and_memberships,
        roles_crud_and_delete_conflicts,
        managed_policies_and_versions,
        policy_delete_conflicts,
        list_policies_filters,
        attachments_and_entities_for_policy,
        inline_policies,
        permissions_boundaries,
        access_keys_and_lookup,
        login_profiles,
        mfa_devices_and_replay_protection,
        instance_profiles,
        oidc_and_saml_providers,
        tags_on_every_taggable_entity,
        authorization_set_collects_everything,
        changes_bump_generation_and_notify,
        service_bookkeeping,
        sealed_values_listed_and_swapped,
        race_create_user_same_name,
        race_third_access_key,
        race_policy_versions,
        race_mfa_step,
        race_instance_profile_role,
    ]
}

/// Runs every case in order against `store`, panicking on the first failure.
pub async fn suite(store: DynStore) {
    for case in cases() {
        (case.run)(store.clone()).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn at(seconds: i64) -> OffsetDateTime {
    datetime!(2026-01-01 00:00 UTC) + time::Duration::seconds(seconds)
}

async fn new_account(s: &DynStore) -> String {
    let id = format!(
        "{:012}",
        rand::random_range(100_000_000_000u64..1_000_000_000_000)
    );
    s.create_account(&id, at(0)).await.unwrap();
    id
}

/// The AWS error code of a result that must have failed.
#[track_caller]
fn code<T: Debug>(r: Result<T>) -> &'static str {
    match r {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e.code(),
    }
}

#[track_caller]
fn message<T: Debug>(r: Result<T>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e.to_string(),
    }
}

fn user(name: &str) -> NewUser {
    NewUser {
        name: name.into(),
        path: "/".into(),
        ..NewUser::default()
    }
}

fn role(name: &str) -> NewRole {
    NewRole {
        name: name.into(),
        path: "/".into(),
        assume_role_policy_document: TRUST.into(),
        max_session_duration: 3600,
        ..NewRole::default()
    }
}

fn policy(name: &str, document: &str) -> NewPolicy {
    NewPolicy {
        name: name.into(),
        path: "/".into(),
        document: document.into(),
        ..NewPolicy::default()
    }
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const DOC1: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const DOC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#;
const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const S3_RO: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";

/// Follows every page of a list.
async fn all_pages<T, F, Fut>(max_items: u32, mut list: F) -> Vec<T>
where
    F: FnMut(Option<String>, u32) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let page = list(marker, max_items).await.unwrap();
        assert!(page.items.len() <= max_items as usize);
        out.extend(page.items);
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => return out,
        }
    }
}

fn ciphertext(b: &[u8]) -> Ciphertext {
    Ciphertext::new(b.to_vec())
}

fn key_id(n: u8) -> String {
    // Deterministic but unique per call site and run: random suffix from the id generator.
    let mut id = crate::ids::new_id(IdKind::AccessKey);
    id.replace_range(4..5, &char::from(b'A' + n % 26).to_string());
    id
}

// ---------------------------------------------------------------------------------------------
// Cases

async fn accounts_aliases_password_policy_and_summary(s: DynStore) {
    let a = new_account(&s).await;
    assert_eq!(
        code(s.create_account(&a, at(1)).await),
        "EntityAlreadyExists"
    );
    let ensured = s.ensure_account(&a, at(5)).await.unwrap();
    assert_eq!(
        ensured.create_date,
        at(0),
        "ensure_account must not recreate"
    );
    assert_eq!(ensured.root_arn(), format!("arn:aws:iam::{a}:root"));
    assert_eq!(code(s.get_account("000000000000").await), "NoSuchEntity");
    assert_eq!(
        code(s.create_user("000000000000", &user("x"), at(1)).await),
        "NoSuchEntity"
    );

    // Alias: set, replace, unique across accounts, delete only the current one.
    let alias = format!("alias-{a}");
    s.set_account_alias(&a, &alias).await.unwrap();
    assert_eq!(
        s.get_account(&a).await.unwrap().alias.as_deref(),
        Some(alias.as_str())
    );
    let b = new_account(&s).await;
    assert_eq!(
        code(s.set_account_alias(&b, &alias).await),
        "EntityAlreadyExists"
    );
    assert_eq!(
        code(s.delete_account_alias(&a, "other").await),
        "NoSuchEntity"
    );
    s.delete_account_alias(&a, &alias).await.unwrap();
    assert_eq!(s.get_account(&a).await.unwrap().alias, None);
    s.set_account_alias(&b, &alias).await.unwrap();

    // Password policy.
    let m = message(s.get_password_policy(&a).await);
    assert_eq!(
        m,
        format!("The Password Policy with domain name {a} cannot be found.")
    );
    let pw = PasswordPolicy {
        minimum_password_length: 14,
        require_symbols: true,
        max_password_age: Some(90),
        password_reuse_prevention: Some(5),
        ..PasswordPolicy::default()
    };
    s.put_password_policy(&a, &pw).await.unwrap();
    assert_eq!(s.get_password_policy(&a).await.unwrap(), pw);
    let policy2 = PasswordPolicy {
        minimum_password_length: 8,
        ..PasswordPolicy::default()
    };
    s.put_password_policy(&a, &policy2).await.unwrap();
    assert_eq!(s.get_password_policy(&a).await.unwrap(), policy2);
    s.delete_password_policy(&a).await.unwrap();
    assert_eq!(code(s.delete_password_policy(&a).await), "NoSuchEntity");

    // Summary.
    s.create_user(&a, &user("u1"), at(1)).await.unwrap();
    s.create_user(&a, &user("u2"), at(1)).await.unwrap();
    s.create_group(
        &a,
        &NewGroup {
            name: "g".into(),
            path: "/".into(),
        },
        at(1),
    )
    .await
    .unwrap();
    s.create_role(&a, &role("r"), at(1)).await.unwrap();
    let p = s
        .create_policy(&a, &policy("p", DOC1), at(1))
        .await
        .unwrap();
    s.create_policy_version(&a, &p.arn, DOC2, false, at(2))
        .await
        .unwrap();
    s.attach_policy(&a, &PolicyOwner::User("u1".into()), &p.arn)
        .await
        .unwrap();
    s.attach_policy(&a, &PolicyOwner::Role("r".into()), ADMIN)
        .await
        .unwrap();
    s.create_access_key(&a, &KeyOwner::Root, &key_id(1), &ciphertext(b"s"), at(1))
        .await
        .unwrap();
    let sum = s.account_summary(&a).await.unwrap();
    assert_eq!(
        sum,
        AccountSummary {
            users: 2,
            groups: 1,
            roles: 1,
            policies: 1,
            policy_versions_in_use: 2,
            attached_policies: 2,
            account_access_keys_present: true,
            ..AccountSummary::default()
        }
    );
}

async fn users_crud_and_case_insensitive_names(s: DynStore) {
    let a = new_account(&s).await;
    let mut nu = user("Alice");
    nu.path = "/eng/".into();
    nu.tags = vec![Tag::new("team", "core")];
    let u = s.create_user(&a, &nu, at(10)).await.unwrap();
    assert!(IdKind::User.matches(&u.id), "{}", u.id);
    assert_eq!(u.arn, format!("arn:aws:iam::{a}:user/eng/Alice"));
    assert_eq!(u.create_date, at(10));
    assert_eq!(u.tags, vec![Tag::new("team", "core")]);

    let dup = s.create_user(&a, &user("ALICE"), at(11)).await;
    assert_eq!(message(dup), "User with name ALICE already exists.");
    // Same name in another account is fine.
    let b = new_account(&s).await;
    s.create_user(&b, &user("alice"), at(11)).await.unwrap();

    let got = s.get_user(&a, "aLiCe").await.unwrap();
    assert_eq!(got.name, "Alice", "returned as spelled at creation");
    assert_eq!(got, u);
    assert_eq!(s.get_user_by_id(&a, &u.id).await.unwrap(), u);
    assert_eq!(code(s.get_user_by_id(&b, &u.id).await), "NoSuchEntity");
    assert_eq!(
        message(s.get_user(&a, "bob").await),
        "The user with name bob cannot be found."
    );

    // Rename and move: ARN follows, id stays.
    s.create_user(&a, &user("carol"), at(12)).await.unwrap();
    let upd = UserUpdate {
        new_name: Some("CAROL".into()),
        new_path: None,
    };
    assert_eq!(
        code(s.update_user(&a, "alice", &upd).await),
        "EntityAlreadyExists"
    );
    let upd = UserUpdate {
        new_name: Some("Alicia".into()),
        new_path: Some("/ops/".into()),
    };
    let renamed = s.update_user(&a, "alice", &upd).await.unwrap();
    assert_eq!(renamed.id, u.id);
    assert_eq!(renamed.arn, format!("arn:aws:iam::{a}:user/ops/Alicia"));
    assert_eq!(renamed.tags, u.tags);
    assert_eq!(code(s.get_user(&a, "alice").await), "NoSuchEntity");
    // A case-only rename of oneself is allowed.
    let upd = UserUpdate {
        new_name: Some("ALICIA".into()),
        new_path: None,
    };
    assert_eq!(
        s.update_user(&a, "alicia", &upd).await.unwrap().name,
        "ALICIA"
    );

    s.delete_user(&a, "alicia").await.unwrap();
    assert_eq!(code(s.get_user(&a, "alicia").await), "NoSuchEntity");
    assert_eq!(code(s.delete_user(&a, "alicia").await), "NoSuchEntity");
    assert_eq!(
        code(s.update_user(&a, "alicia", &UserUpdate::default()).await),
        "NoSuchEntity"
    );
    // Re-created under the same name: a new id.
    let again = s.create_user(&a, &user("Alice"), at(20)).await.unwrap();
    assert_ne!(again.id, u.id);
}

async fn users_pagination_is_stable(s: DynStore) {
    let a = new_account(&s).await;
    for (name, path) in [
        ("b", "/x/"),
        ("D", "/x/y/"),
        ("a", "/"),
        ("c", "/x/"),
        ("e", "/z/"),
        ("F", "/x/"),
    ] {
        let mut u = user(name);
        u.path = path.into();
        s.create_user(&a, &u, at(1)).await.unwrap();
    }
    let names = |v: Vec<User>| v.into_iter().map(|u| u.name).collect::<Vec<_>>();
    let all = all_pages(4, |m, n| s.list_users(&a, None, m, n)).await;
    assert_eq!(
        names(all),
        ["a", "b", "c", "D", "e", "F"],
        "ordered by name, case-insensitively"
    );
    for size in [1, 2, 5, 6, 1000, 5000] {
        assert_eq!(
            all_pages(size, |m, n| s.list_users(&a, None, m, n))
                .await
                .len(),
            6,
            "page size {size}"
        );
    }
    let under_x = all_pages(2, |m, n| s.list_users(&a, Some("/x/"), m, n)).await;
    assert_eq!(names(under_x), ["b", "c", "D", "F"]);
    let page = s.list_users(&a, Some("/x/y/"), None, 10).await.unwrap();
    assert_eq!(names(page.items), ["D"]);
    assert!(page.next_marker.is_none());

    // Stable under inserts and deletes between pages: nothing twice, nothing present
    // throughout is skipped.
    let first = s.list_users(&a, None, None, 3).await.unwrap();
    assert!(first.is_truncated());
    assert_eq!(names(first.items.clone()), ["a", "b", "c"]);
    s.create_user(&a, &user("aa"), at(2)).await.unwrap(); // before the marker
    s.create_user(&a, &user("ee"), at(2)).await.unwrap(); // after it
    s.delete_user(&a, "D").await.unwrap();
    let rest = all_pages(10, |m, n| {
        let m = m.or_else(|| first.next_marker.clone());
        s.list_users(&a, None, m, n)
    })
    .await;
    assert_eq!(names(rest), ["e", "ee", "F"]);

    assert_eq!(
        code(s.list_users(&a, None, Some("garbage".into()), 10).await),
        "InvalidInput"
    );
    assert_eq!(code(s.list_users(&a, None, None, 0).await), "InvalidInput");
}

async fn user_delete_conflicts(s: DynStore) {
    let a = new_account(&s).await;
    let u = || PolicyOwner::User("u".into());
    s.create_user(&a, &user("u"), at(1)).await.unwrap();
    s.create_group(
        &a,
        &NewGroup {
            name: "g".into(),
            path: "/".into(),
        },
        at(1),
    )
    .await
    .unwrap();

    let key = key_id(2);
    s.create_access_key(
        &a,
        &KeyOwner::User("u".into()),
        &key,
        &ciphertext(b"x"),
        at(1),
    )
    .await
    .unwrap();
    assert_eq!(
        message(s.delete_user(&a, "u").await),
        "Cannot delete entity, must delete access keys first."
    );
    s.delete_access_key(&a, &KeyOwner::User("u".into()), &key)
        .await
        .unwrap();

    let lp = NewLoginProfile {
        password_hash: PasswordHash::new("$argon2id$x"),
        password_reset_required: false,
    };
    s.create_login_profile(&a, "u", &lp, at(1)).await.unwrap();
    assert_eq!(code(s.delete_user(&a, "u").await), "DeleteConflict");
    s.delete_login_profile(&a, "u").await.unwrap();

    let dev = NewVirtualMfaDevice {
        name: "d".into(),
        path: "/".into(),
        seed_ciphertext: ciphertext(b"seed"),
        tags: vec![],
    };
    let d = s.create_virtual_mfa_device(&a, &dev, at(1)).await.unwrap();
    s.enable_mfa_device(&a, "u", &d.serial_number, 1, at(1))
        .await
        .unwrap();
    assert_eq!(code(s.delete_user(&a, "u").await), "DeleteConflict");
    s.deactivate_mfa_device(&a, "u", &d.serial_number)
        .await
        .unwrap();

    s.add_user_to_group(&a, "g", "u").await.unwrap();
    assert_eq!(code(s.delete_user(&a, "u").await), "DeleteConflict");
    s.remove_user_from_group(&a, "g", "u").await.unwrap();

    s.put_inline_policy(&a, &u(), "p", DOC1).await.unwrap();
    assert_eq!(
        message(s.delete_user(&a, "u").await),
        "Cannot delete entity, must delete policies first."
    );
    s.delete_inline_policy(&a, &u(), "p").await.unwrap();

    s.attach_policy(&a, &u(), ADMIN).await.unwrap();
    assert_eq!(
        message(s.delete_user(&a, "u").await),
        "Cannot delete entity, must detach all policies first."
    );
    s.detach_policy(&a, &u(), ADMIN).await.unwrap();

    // Still intact after all the refused deletes.
    s.get_user(&a, "u").await.unwrap();
    s.delete_user(&a, "u").await.unwrap();
    assert_eq!(code(s.get_user(&a, "u").await), "NoSuchEntity");
}

async fn groups_and_memberships(s: DynStore) {
    let a = new_account(&s).await;
    let g = s
        .create_group(
            &a,
            &NewGroup {
                name: "Devs".into(),
                path: "/eng/".into(),
            },
            at(1),
        )
        .await
        .unwrap();
    assert!(IdKind::Group.matches(&g.id));
    assert_eq!(g.arn, format!("arn:aws:iam::{a}:group/eng/Devs"));
    assert_eq!(
        message(
            s.create_group(
                &a,
                &NewGroup {
                    name: "devs".into(),
                    path: "/".into()
                },
                at(1)
            )
            .await
        ),
        "Group with name devs already exists."
    );
    assert_eq!(s.get_group(&a, "DEVS").await.unwrap(), g);
    assert_eq!(
        message(s.get_group(&a, "ops").await),
        "The group with name ops cannot be found."
    );

    for n in ["u3", "u1", "u2"] {
        s.create_user(&a, &user(n), at(1)).await.unwrap();
        s.add_user_to_group(&a, "devs", n).await.unwrap();
    }
    s.add_user_to_group(&a, "devs", "U1").await.unwrap(); // idempotent
    let members = all_pages(2, |m, n| s.list_group_members(&a, "devs", m, n)).await;
    assert_eq!(
        members.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["u1", "u2", "u3"]
    );
    assert_eq!(
        code(s.add_user_to_group(&a, "devs", "nobody").await),
        "NoSuchEntity"
    );
    assert_eq!(
        code(s.add_user_to_group(&a, "nogroup", "u1").await),
        "NoSuchEntity"
    );

    let renamed = s
        .update_group(&a, "devs", Some("Developers"), Some("/"))
        .await
        .unwrap();
    assert_eq!(renamed.arn, format!("arn:aws:iam::{a}:group/Developers"));
    assert_eq!(renamed.id, g.id);
    let groups = s.list_groups_for_user(&a, "u1", None, 10).await.unwrap();
    assert_eq!(groups.items, vec![renamed.clone()]);

    assert_eq!(
        message(s.delete_group(&a, "developers").await),
        "Cannot delete entity, must remove users from group first."
    );
    for n in ["u1", "u2", "u3"] {
        s.remove_user_from_group(&a, "developers", n).await.unwrap();
    }
    assert_eq!(
        code(s.remove_user_from_group(&a, "developers", "u1").await),
        "NoSuchEntity"
    );
    s.put_inline_policy(&a, &PolicyOwner::Group("developers".into()), "p", DOC1)
        .await
        .unwrap();
    assert_eq!(
        code(s.delete_group(&a, "developers").await),
        "DeleteConflict"
    );
    s.delete_inline_policy(&a, &PolicyOwner::Group("developers".into()), "p")
        .await
        .unwrap();
    s.attach_policy(&a, &PolicyOwner::Group("developers".into()), ADMIN)
        .await
        .unwrap();
    assert_eq!(
        code(s.delete_group(&a, "developers").await),
        "DeleteConflict"
    );
    s.detach_policy(&a, &PolicyOwner::Group("developers".into()), ADMIN)
        .await
        .unwrap();
    s.delete_group(&a, "developers").await.unwrap();
    assert_eq!(code(s.get_group(&a, "developers").await), "NoSuchEntity");

    // Groups per user: 10.
    for i in 0..10 {
        let name = format!("g{i:02}");
        s.create_group(
            &a,
            &NewGroup {
                name: name.clone(),
                path: "/".into(),
            },
            at(1),
        )
        .await
        .unwrap();
        s.add_user_to_group(&a, &name, "u1").await.unwrap();
    }
    s.create_group(
        &a,
        &NewGroup {
            name: "g10".into(),
            path: "/".into(),
        },
        at(1),
    )
    .await
    .unwrap();
    assert_eq!(
        code(s.add_user_to_group(&a, "g10", "u1").await),
        "LimitExceeded"
    );
    assert_eq!(
        all_pages(3, |m, n| s.list_groups_for_user(&a, "u1", m, n))
            .await
            .len(),
        10
    );
    let listed = all_pages(4, |m, n| s.list_groups(&a, None, m, n)).await;
    assert_eq!(listed.len(), 11);
    assert_eq!(
        s.list_groups(&a, Some("/nothing/"), None, 10)
            .await
            .unwrap()
            .items,
        vec![]
    );
}

async fn roles_crud_and_delete_conflicts(s: DynStore) {
    let a = new_account(&s).await;
    let mut nr = role("WebApp");
    nr.path = "/service-role/".into();
    nr.description = Some("web".into());
    nr.tags = vec![Tag::new("env", "prod")];
    let r = s.create_role(&a, &nr, at(5)).await.unwrap();
    assert!(IdKind::Role.matches(&r.id));
    assert_eq!(r.arn, format!("arn:aws:iam::{a}:role/service-role/WebApp"));
    assert_eq!(r.assume_role_policy_document, TRUST);
    assert_eq!(r.max_session_duration, 3600);
    assert_eq!(r.last_used, None);
    assert_eq!(
        message(s.create_role(&a, &role("webapp"), at(5)).await),
        "Role with name webapp already exists."
    );
    assert_eq!(
        message(s.get_role(&a, "nope").await),
        "The role with name nope cannot be found."
    );

    s.record_role_use(&a, "webapp", at(100), "eu-west-1")
        .await
        .unwrap();
    let got = s.get_role(&a, "WEBAPP").await.unwrap();
    assert_eq!(
        got.last_used,
        Some(RoleLastUsed {
            date: at(100),
            region: Some("eu-west-1".into())
        })
    );
    assert_eq!(got.tags, vec![Tag::new("env", "prod")]);
    assert_eq!(s.get_role_by_id(&a, &r.id).await.unwrap().name, "WebApp");
    assert_eq!(
        code(s.record_role_use(&a, "nope", at(1), "x").await),
        "NoSuchEntity"
    );
    let listed = s
        .list_roles(&a, Some("/service-role/"), None, 10)
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(
        listed.items[0].last_used, None,
        "ListRoles omits RoleLastUsed"
    );

    let upd = s
        .update_role(
            &a,
            "webapp",
            &RoleUpdate {
                description: Some("new".into()),
                max_session_duration: Some(7200),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (upd.description.as_deref(), upd.max_session_duration),
        (Some("new"), 7200)
    );
    let upd = s
        .update_role(
            &a,
            "webapp",
            &RoleUpdate {
                description: None,
                max_session_duration: Some(3600),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        upd.description.as_deref(),
        Some("new"),
        "unset fields are kept"
    );
    s.update_assume_role_policy(&a, "webapp", DOC1)
        .await
        .unwrap();
    assert_eq!(
        s.get_role(&a, "webapp")
            .await
            .unwrap()
            .assume_role_policy_document,
        DOC1
    );

    let ip = NewInstanceProfile {
        name: "ip".into(),
        path: "/".into(),
        tags: vec![],
    };
    s.create_instance_profile(&a, &ip, at(1)).await.unwrap();
    s.add_role_to_instance_profile(&a, "ip", "webapp")
        .await
        .unwrap();
    assert_eq!(
        message(s.delete_role(&a, "webapp").await),
        "Cannot delete entity, must remove roles from instance profile first."
    );
    s.remove_role_from_instance_profile(&a, "ip", "webapp")
        .await
        .unwrap();
    s.put_inline_policy(&a, &PolicyOwner::Role("webapp".into()), "p", DOC1)
        .await
        .unwrap();
    assert_eq!(code(s.delete_role(&a, "webapp").await), "DeleteConflict");
    s.delete_inline_policy(&a, &PolicyOwner::Role("webapp".into()), "p")
        .await
        .unwrap();
    s.attach_policy(&a, &PolicyOwner::Role("webapp".into()), ADMIN)
        .await
        .unwrap();
    assert_eq!(code(s.delete_role(&a, "webapp").await), "DeleteConflict");
    s.detach_policy(&a, &PolicyOwner::Role("webapp".into()), ADMIN)
        .await
        .unwrap();
    s.delete_role(&a, "webapp").await.unwrap();
    assert_eq!(code(s.get_role_by_id(&a, &r.id).await), "NoSuchEntity");
    // Tags went with it: a new role of the same name starts untagged.
    assert_eq!(
        s.create_role(&a, &role("WebApp"), at(9))
            .await
            .unwrap()
            .tags,
        vec![]
    );
}

async fn managed_policies_and_versions(s: DynStore) {
    let a = new_account(&s).await;
    let mut np = policy("ReadS3", DOC1);
    np.path = "/team/".into();
    np.description = Some("read".into());
    let p = s.create_policy(&a, &np, at(1)).await.unwrap();
    assert!(IdKind::ManagedPolicy.matches(&p.id));
    assert_eq!(p.arn, format!("arn:aws:iam::{a}:policy/team/ReadS3"));
    assert_eq!(
        (p.default_version_id.as_str(), p.attachment_count),
        ("v1", 0)
    );
    assert_eq!(
        message(s.create_policy(&a, &policy("reads3", DOC1), at(1)).await),
        "A policy called reads3 already exists. Duplicate names are not allowed."
    );
    assert_eq!(s.get_policy(&a, &p.arn).await.unwrap(), p);
    let missing = format!("arn:aws:iam::{a}:policy/Nope");
    assert_eq!(
        message(s.get_policy(&a, &missing).await),
        format!("Policy {missing} does not exist or is not attachable.")
    );
    // Another account cannot see it.
    let b = new_account(&s).await;
    assert_eq!(code(s.get_policy(&b, &p.arn).await), "NoSuchEntity");

    let v1 = s.get_policy_version(&a, &p.arn, "v1").await.unwrap();
    assert_eq!((v1.document.as_str(), v1.is_default), (DOC1, true));
    let v2 = s
        .create_policy_version(&a, &p.arn, DOC2, false, at(2))
        .await
        .unwrap();
    assert_eq!((v2.version_id.as_str(), v2.is_default), ("v2", false));
    let v3 = s
        .create_policy_version(&a, &p.arn, DOC2, true, at(3))
        .await
        .unwrap();
    assert_eq!(v3.version_id, "v3");
    let got = s.get_policy(&a, &p.arn).await.unwrap();
    assert_eq!(
        (got.default_version_id.as_str(), got.update_date),
        ("v3", at(3))
    );
    s.create_policy_version(&a, &p.arn, DOC1, false, at(4))
        .await
        .unwrap();
    s.create_policy_version(&a, &p.arn, DOC1, false, at(5))
        .await
        .unwrap();
    let r = s
        .create_policy_version(&a, &p.arn, DOC1, false, at(6))
        .await;
    assert_eq!(code(r), "LimitExceeded");

    let versions = all_pages(2, |m, n| s.list_policy_versions(&a, &p.arn, m, n)).await;
    let ids: Vec<_> = versions
        .iter()
        .map(|v| (v.version_id.as_str(), v.is_default))
        .collect();
    assert_eq!(
        ids,
        [
            ("v5", false),
            ("v4", false),
            ("v3", true),
            ("v2", false),
            ("v1", false)
        ]
    );

    assert_eq!(
        message(s.delete_policy_version(&a, &p.arn, "v3").await),
        "Cannot delete the default version of a policy."
    );
    s.delete_policy_version(&a, &p.arn, "v2").await.unwrap();
    assert_eq!(
        code(s.delete_policy_version(&a, &p.arn, "v2").await),
        "NoSuchEntity"
    );
    assert_eq!(
        code(s.get_policy_version(&a, &p.arn, "v2").await),
        "NoSuchEntity"
    );
    for bad in ["v9", "2", "vx", ""] {
        assert_eq!(
            code(s.get_policy_version(&a, &p.arn, bad).await),
            "NoSuchEntity",
            "{bad}"
        );
    }
    // Numbers are not reused.
    assert_eq!(
        s.create_policy_version(&a, &p.arn, DOC1, false, at(7))
            .await
            .unwrap()
            .version_id,
        "v6"
    );

    s.set_default_policy_version(&a, &p.arn, "v1", at(8))
        .await
        .unwrap();
    assert_eq!(
        s.get_policy(&a, &p.arn).await.unwrap().default_version_id,
        "v1"
    );
    assert!(
        s.get_policy_version(&a, &p.arn, "v1")
            .await
            .unwrap()
            .is_default
    );
    assert_eq!(
        code(s.set_default_policy_version(&a, &p.arn, "v2", at(9)).await),
        "NoSuchEntity"
    );
    assert_eq!(
        code(
            s.create_policy_version(&a, &missing, DOC1, false, at(9))
                .await
        ),
        "NoSuchEntity"
    );
}

async fn policy_delete_conflicts(s: DynStore) {
    let a = new_account(&s).await;
    let p = s
        .create_policy(&a, &policy("P", DOC1), at(1))
        .await
        .unwrap();
    s.create_user(&a, &user("u"), at(1)).await.unwrap();

    s.attach_policy(&a, &PolicyOwner::User("u".into()), &p.arn)
        .await
        .unwrap();
    assert_eq!(
        message(s.delete_policy(&a, &p.arn).await),
        "Cannot delete a policy attached to entities."
    );
    s.detach_policy(&a, &PolicyOwner::User("u".into()), &p.arn)
        .await
        .unwrap();

    s.put_permissions_boundary(&a, &BoundaryOwner::User("u".into()), &p.arn)
        .await
        .unwrap();
    assert_eq!(
        s.get_policy(&a, &p.arn)
            .await
            .unwrap()
            .permissions_boundary_usage_count,
        1
    );
    assert_eq!(code(s.delete_policy(&a, &p.arn).await), "DeleteConflict");
    s.delete_permissions_boundary(&a, &BoundaryOwner::User("u".into()))
        .await
        .unwrap();

    s.create_policy_version(&a, &p.arn, DOC2, true, at(2))
        .await
        .unwrap();
    assert!(
        message(s.delete_policy(&a, &p.arn).await)
            .starts_with("This policy has more than one version.")
    );
    s.delete_policy_version(&a, &p.arn, "v1").await.unwrap();

    s.tag_resource(&a, &TagTarget::Policy(p.arn.clone()), &[Tag::new("k", "v")])
        .await
        .unwrap();
    s.delete_policy(&a, &p.arn).await.unwrap();
    assert_eq!(code(s.get_policy(&a, &p.arn).await), "NoSuchEntity");
    assert_eq!(code(s.delete_policy(&a, &p.arn).await), "NoSuchEntity");
    // Re-created: no versions or tags left over.
    let again = s
        .create_policy(&a, &policy("P", DOC2), at(3))
        .await
        .unwrap();
    assert_eq!(again.tags, vec![]);
    assert_eq!(
        s.list_policy_versions(&a, &again.arn, None, 10)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

async fn list_policies_filters(s: DynStore) {
    let a = new_account(&s).await;
    let mut arns = Vec::new();
    for (name, path) in [("a", "/"), ("b", "/x/"), ("c", "/x/"), ("d", "/y/")] {
        let mut np = policy(name, DOC1);
        np.path = path.into();
        arns.push(s.create_policy(&a, &np, at(1)).await.unwrap().arn);
    }
    s.create_user(&a, &user("u"), at(1)).await.unwrap();
    s.create_role(&a, &role("r"), at(1)).await.unwrap();
    s.attach_policy(&a, &PolicyOwner::User("u".into()), &arns[1])
        .await
        .unwrap();
    s.attach_policy(&a, &PolicyOwner::Role("r".into()), &arns[1])
        .await
        .unwrap();
    s.put_permissions_boundary(&a, &BoundaryOwner::Role("r".into()), &arns[3])
        .await
        .unwrap();

    let names = |f: PolicyFilter| {
        let s = s.clone();
        let a = a.clone();
        async move {
            all_pages(2, |m, n| s.list_policies(&a, &f, m, n))
                .await
                .into_iter()
                .map(|p| {
                    (
                        p.name,
                        p.attachment_count,
                        p.permissions_boundary_usage_count,
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let n = |x: &str, c, b| (x.to_owned(), c, b);
    assert_eq!(
        names(PolicyFilter::default()).await,
        [n("a", 0, 0), n("b", 2, 0), n("c", 0, 0), n("d", 0, 1)]
    );
    assert_eq!(
        names(PolicyFilter {
            path_prefix: Some("/x/".into()),
            ..Default::default()
        })
        .await,
        [n("b", 2, 0), n("c", 0, 0)]
    );
    assert_eq!(
        names(PolicyFilter {
            only_attached: true,
            ..Default::default()
        })
        .await,
        [n("b", 2, 0)]
    );
    assert_eq!(
        names(PolicyFilter {
            usage: Some(PolicyUsage::PermissionsBoundary),
            ..Default::default()
        })
        .await,
        [n("d", 0, 1)]
    );
    assert_eq!(
        names(PolicyFilter {
            usage: Some(PolicyUsage::PermissionsPolicy),
            ..Default::default()
        })
        .await,
        [n("b", 2, 0)]
    );
}

async fn attachments_and_entities_for_policy(s: DynStore) {
    let a = new_account(&s).await;
    let p = s
        .create_policy(&a, &policy("P", DOC1), at(1))
        .await
        .unwrap();
    for n in ["u2", "u1"] {
        s.create_user(&a, &user(n), at(1)).await.unwrap();
    }
    s.create_group(
        &a,
        &NewGroup {
            name: "g".into(),
            path: "/".into(),
        },
        at(1),
    )
    .await
    .unwrap();
    s.create_role(&a, &role("r"), at(1)).await.unwrap();
    let owners = [
        PolicyOwner::User("u1".into()),
        PolicyOwner::User("u2".into()),
        PolicyOwner::Group("g".into()),
        PolicyOwner::Role("r".into()),
    ];
    for o in &owners {
        s.attach_policy(&a, o, &p.arn).await.unwrap();
        s.attach_policy(&a, o, &p.arn).await.unwrap(); // idempotent
    }
    assert_eq!(s.get_policy(&a, &p.arn).await.unwrap().attachment_count, 4);

    let missing = format!("arn:aws:iam::{a}:policy/Missing");
    assert_eq!(
        code(s.attach_policy(&a, &owners[0], &missing).await),
        "NoSuchEntity"
    );
    assert_eq!(
        code(
            s.attach_policy(&a, &PolicyOwner::User("ghost".into()), &p.arn)
                .await
        ),
        "NoSuchEntity"
    );
    // A customer policy of another account cannot be attached.
    let b = new_account(&s).await;
    let foreign = s
        .create_policy(&b, &policy("F", DOC1), at(1))
        .await
        .unwrap();
    assert_eq!(
        code(s.attach_policy(&a, &owners[0], &foreign.arn).await),
        "NoSuchEntity"
    );

    s.attach_policy(&a, &owners[0], ADMIN).await.unwrap();
    s.attach_policy(&a, &owners[3], ADMIN).await.unwrap();
    s.attach_policy(
        &a,
        &owners[0],
        "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
    )
    .await
    .unwrap();
    let counts = s.aws_managed_attachment_counts(&a).await.unwrap();
    assert_eq!(
        counts,
        vec![
            (ADMIN.to_owned(), 2),
            (
                "arn:aws:iam::aws:policy/service-role/AWSLambdaRole".to_owned(),
                1
            )
        ]
    );

    let attached = all_pages(1, |m, n| {
        s.list_attached_policies(&a, &owners[0], None, m, n)
    })
    .await;
    let names: Vec<_> = attached.iter().map(|p| p.policy_name.as_str()).collect();
    // By ARN, byte order: the account's digits sort before `aws`.
    assert_eq!(names, ["P", "AdministratorAccess", "AWSLambdaRole"]);
    let under = s
        .list_attached_policies(&a, &owners[0], Some("/service-role/"), None, 10)
        .await
        .unwrap();
    assert_eq!(
        under.items,
        vec![AttachedPolicy::from_arn(
            "arn:aws:iam::aws:policy/service-role/AWSLambdaRole".into()
        )]
    );

    let entities = all_pages(1, |m, n| s.list_entities_for_policy(&a, &p.arn, None, m, n)).await;
    let got: Vec<_> = entities.iter().map(|e| (e.kind, e.name.as_str())).collect();
    assert_eq!(
        got,
        [
            (EntityKind::Group, "g"),
            (EntityKind::Role, "r"),
            (EntityKind::User, "u1"),
            (EntityKind::User, "u2")
        ]
    );
    let users = s
        .list_entities_for_policy(&a, &p.arn, Some(EntityKind::User), None, 10)
        .await
        .unwrap();
    assert_eq!(users.items.len(), 2);
    let aws = s
        .list_entities_for_policy(&a, ADMIN, None, None, 10)
        .await
        .unwrap();
    assert_eq!(aws.items.len(), 2);
    assert_eq!(
        code(
            s.list_entities_for_policy(&a, &missing, None, None, 10)
                .await
        ),
        "NoSuchEntity"
    );

    assert_eq!(
        message(s.detach_policy(&a, &owners[2], S3_RO).await),
        format!("Policy {S3_RO} was not found.")
    );
    s.detach_policy(&a, &owners[2], &p.arn).await.unwrap();
    assert_eq!(s.get_policy(&a, &p.arn).await.unwrap().attachment_count, 3);

    // Ten managed policies per identity.
    let r = PolicyOwner::Role("r".into());
    for i in 0..8 {
        s.attach_policy(&a, &r, &format!("arn:aws:iam::aws:policy/P{i}"))
            .await
            .unwrap();
    }
    assert_eq!(
        s.list_attached_policies(&a, &r, None, None, 100)
            .await
            .unwrap()
            .items
            .len(),
        10
    );
    assert_eq!(
        message(s.attach_policy(&a, &r, S3_RO).await),
        "Cannot exceed quota for PoliciesPerRole: 10"
    );
    assert_eq!(
        s.list_attached_policies(&a, &r, None, None, 100)
            .await
            .unwrap()
            .items
            .len(),
        10
    );
}

async fn inline_policies(s: DynStore) {
    let a = new_account(&s).await;
    s.create_user(&a, &user("u"), at(1)).await.unwrap();
    s.create_group(
        &a,
        &NewGroup {
            name: "g".into(),
            path: "/".into(),
        },
        at(1),
    )
    .await
    .unwrap();
    s.create_role(&a, &role("r"), at(1)).await.unwrap();
    for (owner, kind) in [
        (PolicyOwner::User("U".into()), "user"),
        (PolicyOwner::Group("G".into()), "group"),
        (PolicyOwner::Role("R".into()), "role"),
    ] {
        s.put_inline_policy(&a, &owner, "b", DOC1).await.unwrap();
        s.put_inline_policy(&a, &owner, "a", DOC1).await.unwrap();
        s.put_inline_policy(&a, &owner, "b", DOC2).await.unwrap(); // replaces
        assert_eq!(
            s.get_inline_policy(&a, &owner, "b").await.unwrap(),
            InlinePolicy {
                name: "b".into(),
                document: DOC2.into()
            }
        );
        let names = all_pages(1, |m, n| s.list_inline_policies(&a, &owner, m, n)).await;
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            message(s.get_inline_policy(&a, &owner, "c").await),
            format!("The {kind} policy with name c cannot be found.")
        );
        s.delete_inline_policy(&a, &owner, "a").await.unwrap();
        assert_eq!(
            code(s.delete_inline_policy(&a, &owner, "a").await),
            "NoSuchEntity"
        );
        s.delete_inline_policy(&a, &owner, "b").await.unwrap();
    }
    assert_eq!(
        code(
            s.put_inline_policy(&a, &PolicyOwner::Role("nope".into()), "a", DOC1)
                .await
        ),
        "NoSuchEntity"
    );
}

async fn permissions_boundaries(s: DynStore) {
    let a = new_account(&s).await;
    let p = s
        .create_policy(&a, &policy("B", DOC1), at(1))
        .await
        .unwrap();
    let mut nu = user("u");
    nu.permissions_boundary = Some(format!("arn:aws:iam::{a}:policy/Missing"));
    assert_eq!(code(s.create_user(&a, &nu, at(1)).await), "NoSuchEntity");
    assert_eq!(
        code(s.get_user(&a, "u").await),
        "NoSuchEntity",
        "nothing half-written"
    );
    nu.permissions_boundary = Some(p.arn.clone());
    assert_eq!(
        s.create_user(&a, &nu, at(1))
            .await
            .unwrap()
            .permissions_boundary,
        Some(p.arn.clone())
    );
    let mut nr = role("r");
    nr.permissions_boundary = Some(ADMIN.into());
    assert_eq!(
        s.create_role(&a, &nr, at(1))
            .await
            .unwrap()
            .permissions_boundary
            .as_deref(),
        Some(ADMIN)
    );

    s.put_permissions_boundary(&a, &BoundaryOwner::User("u".into()), ADMIN)
        .await
        .unwrap();
    assert_eq!(
        s.get_user(&a, "u")
            .await
            .unwrap()
            .permissions_boundary
            .as_deref(),
        Some(ADMIN)
    );
    assert_eq!(
        code(
            s.put_permissions_boundary(
                &a,
                &BoundaryOwner::Role("r".into()),
                &format!("arn:aws:iam::{a}:policy/X")
            )
            .await
        ),
        "NoSuchEntity"
    );
    s.delete_permissions_boundary(&a, &BoundaryOwner::Role("r".into()))
        .await
        .unwrap();
    assert_eq!(
        s.get_role(&a, "r").await.unwrap().permissions_boundary,
        None
    );
    assert_eq!(
        code(
            s.delete_permissions_boundary(&a, &BoundaryOwner::User("ghost".into()))
                .await
        ),
        "NoSuchEntity"
    );
}

async fn access_keys_and_lookup(s: DynStore) {
    let a = new_account(&s).await;
    let u = s.create_user(&a, &user("alice"), at(1)).await.unwrap();
    let owner = KeyOwner::User("ALICE".into());
    let (k1, k2) = (key_id(3), key_id(4));
    let key = s
        .create_access_key(&a, &owner, &k1, &ciphertext(b"sealed-1"), at(2))
        .await
        .unwrap();
    assert_eq!(
        key,
        AccessKey {
            access_key_id: k1.clone(),
            account_id: a.clone(),
            user_name: Some("alice".into()),
            status: AccessKeyStatus::Active,
            create_date: at(2),
            last_used: None,
        }
    );
    assert_eq!(
        code(
            s.create_access_key(&a, &KeyOwner::Root, &k1, &ciphertext(b"x"), at(2))
                .await
        ),
        "EntityAlreadyExists"
    );
    s.create_access_key(&a, &owner, &k2, &ciphertext(b"sealed-2"), at(3))
        .await
        .unwrap();
    let third = s
        .create_access_key(&a, &owner, &key_id(5), &ciphertext(b"x"), at(4))
        .await;
    assert_eq!(
        message(third),
        "Cannot exceed quota for AccessKeysPerUser: 2"
    );
    let mut listed: Vec<_> = all_pages(1, |m, n| s.list_access_keys(&a, &owner, m, n))
        .await
        .into_iter()
        .map(|k| k.access_key_id)
        .collect();
    listed.sort();
    let mut expected = vec![k1.clone(), k2.clone()];
    expected.sort();
    assert_eq!(listed, expected);

    // Hot path lookup.
    let found = s.lookup_access_key(&k1).await.unwrap().unwrap();
    assert_eq!(
        (found.account_id.as_str(), found.status),
        (a.as_str(), AccessKeyStatus::Active)
    );
    assert_eq!(found.secret_ciphertext.as_bytes(), b"sealed-1");
    assert_eq!(
        found.principal,
        KeyPrincipal::User {
            id: u.id.clone(),
            name: u.name.clone(),
            path: "/".into(),
            arn: u.arn.clone()
        }
    );
    assert!(
        s.lookup_access_key("AKIANOSUCHKEY0000000")
            .await
            .unwrap()
            .is_none()
    );

    s.update_access_key_status(&a, &owner, &k1, AccessKeyStatus::Inactive)
        .await
        .unwrap();
    assert_eq!(
        s.lookup_access_key(&k1).await.unwrap().unwrap().status,
        AccessKeyStatus::Inactive
    );
    // Someone else's key is not found through another owner.
    s.create_user(&a, &user("bob"), at(1)).await.unwrap();
    let bob = KeyOwner::User("bob".into());
    assert_eq!(
        message(
            s.update_access_key_status(&a, &bob, &k1, AccessKeyStatus::Active)
                .await
        ),
        format!("The Access Key with id {k1} cannot be found.")
    );
    assert_eq!(
        code(s.delete_access_key(&a, &bob, &k1).await),
        "NoSuchEntity"
    );
    assert_eq!(
        code(s.delete_access_key(&a, &KeyOwner::Root, &k1).await),
        "NoSuchEntity"
    );

    // Last used.
    s.record_access_key_use(&k2, at(50), "iam", "us-east-1")
        .await
        .unwrap();
    let got = s.get_access_key(&a, &k2).await.unwrap();
    assert_eq!(
        got.last_used,
        Some(AccessKeyLastUsed {
            date: at(50),
            service: "iam".into(),
            region: "us-east-1".into()
        })
    );
    assert_eq!(
        code(s.get_access_key(&a, "AKIANOSUCHKEY0000000").await),
        "NoSuchEntity"
    );
    let other = new_account(&s).await;
    assert_eq!(code(s.get_access_key(&other, &k2).await), "NoSuchEntity");
    assert_eq!(
        code(
            s.record_access_key_use("AKIANOSUCHKEY0000000", at(1), "iam", "x")
                .await
        ),
        "NoSuchEntity"
    );

    // Root keys: their own quota of 2, no user.
    let r1 = key_id(6);
    let root = s
        .create_access_key(&a, &KeyOwner::Root, &r1, &ciphertext(b"root"), at(5))
        .await
        .unwrap();
    assert_eq!(root.user_name, None);
    s.create_access_key(&a, &KeyOwner::Root, &key_id(7), &ciphertext(b"root"), at(5))
        .await
        .unwrap();
    assert_eq!(
        code(
            s.create_access_key(&a, &KeyOwner::Root, &key_id(8), &ciphertext(b"x"), at(5))
                .await
        ),
        "LimitExceeded"
    );
    assert_eq!(
        s.lookup_access_key(&r1).await.unwrap().unwrap().principal,
        KeyPrincipal::Root
    );
    assert_eq!(
        s.list_access_keys(&a, &KeyOwner::Root, None, 10)
            .await
            .unwrap()
            .items
            .len(),
        2
    );

    s.delete_access_key(&a, &owner, &k1).await.unwrap();
    assert!(s.lookup_access_key(&k1).await.unwrap().is_none());
    assert_eq!(
        code(
            s.create_access_key(
                &a,
                &KeyOwner::User("ghost".into()),
                &key_id(9),
                &ciphertext(b"x"),
                at(1)
            )
            .await
        ),
        "NoSuchEntity"
    );
}

async fn login_profiles(s: DynStore) {
    let a = new_account(&s).await;
    s.create_user(&a, &user("u"), at(1)).await.unwrap();
    assert_eq!(
        message(s.get_login_profile(&a, "u").await),
        "Login Profile for User u cannot be found."
    );
    let np = NewLoginProfile {
        password_hash: PasswordHash::new("$argon2id$one"),
        password_reset_required: true,
    };
    let lp = s.create_login_profile(&a, "U", &np, at(2)).await.unwrap();
    assert_eq!(
        (
            lp.user_name.as_str(),
            lp.password_reset_required,
            lp.create_date
        ),
        ("u", true, at(2))
    );
    assert_eq!(
        code(s.create_login_profile(&a, "u", &np, at(3)).await),
        "EntityAlreadyExists"
    );
    assert_eq!(s.get_login_profile(&a, "u").await.unwrap(), lp);

    let upd = LoginProfileUpdate {
        password_hash: None,
        password_reset_required: Some(false),
    };
    s.update_login_profile(&a, "u", &upd, at(4)).await.unwrap();
    let got = s.get_login_profile(&a, "u").await.unwrap();
    assert_eq!(
        (got.password_reset_required, got.password_changed),
        (false, at(2)),
        "hash untouched"
    );
    let upd = LoginProfileUpdate {
        password_hash: Some(PasswordHash::new("$argon2id$two")),
        password_reset_required: None,
    };
    s.update_login_profile(&a, "u", &upd, at(5)).await.unwrap();
    let got = s.get_login_profile(&a, "u").await.unwrap();
    assert_eq!(
        (
            got.password_hash.expose(),
            got.password_changed,
            got.password_reset_required
        ),
        ("$argon2id$two", at(5), false)
    );

    s.record_password_use(&a, "u", at(9)).await.unwrap();
    assert_eq!(
        s.get_user(&a, "u").await.unwrap().password_last_used,
        Some(at(9))
    );
    assert_eq!(
        code(s.record_password_use(&a, "ghost", at(9)).await),
        "NoSuchEntity"
    );

    s.delete_login_profile(&a, "u").await.unwrap();
    assert_eq!(code(s.delete_login_profile(&a, "u").await), "NoSuchEntity");
    assert_eq!(
        code(s.update_login_profile(&a, "u", &upd, at(6)).await),
        "NoSuchEntity"
    );
}

async fn mfa_devices_and_replay_protection(s: DynStore) {
    let a = new_account(&s).await;
    s.create_user(&a, &user("u"), at(1)).await.unwrap();
    let dev = |name: &str| NewVirtualMfaDevice {
        name: name.into(),
        path: "/".into(),
        seed_ciphertext: ciphertext(b"sealed-seed"),
        tags: vec![Tag::new("k", "v")],
    };
    let d = s
        .create_virtual_mfa_device(&a, &dev("Phone"), at(1))
        .await
        .unwrap();
    assert_eq!(d.serial_number, format!("arn:aws:iam::{a}:mfa/Phone"));
    assert_eq!(
        (d.user_name.as_ref(), d.enable_date, d.tags.len()),
        (None, None, 1)
    );
    assert_eq!(
        code(s.create_virtual_mfa_device(&a, &dev("phone"), at(1)).await),
        "EntityAlreadyExists"
    );
    let d2 = s
        .create_virtual_mfa_device(&a, &dev("Tablet"), at(1))
        .await
        .unwrap();

    s.enable_mfa_device(&a, "u", &d.serial_number, 1000, at(5))
        .await
        .unwrap();
    assert_eq!(
        code(
            s.enable_mfa_device(&a, "u", &d.serial_number, 1001, at(5))
                .await
        ),
        "EntityAlreadyExists"
    );
    let got = s.get_mfa_device(&a, &d.serial_number).await.unwrap();
    assert_eq!(
        (
            got.user_name.as_deref(),
            got.enable_date,
            got.last_used_step
        ),
        (Some("u"), Some(at(5)), Some(1000))
    );
    assert_eq!(got.seed_ciphertext.as_bytes(), b"sealed-seed");

    let mine = s.list_mfa_devices(&a, "u", None, 10).await.unwrap();
    assert_eq!(
        mine.items
            .iter()
            .map(|d| d.serial_number.clone())
            .collect::<Vec<_>>(),
        vec![d.serial_number.clone()]
    );
    let assigned = s
        .list_virtual_mfa_devices(&a, Some(true), None, 10)
        .await
        .unwrap();
    assert_eq!(assigned.items.len(), 1);
    let unassigned = s
        .list_virtual_mfa_devices(&a, Some(false), None, 10)
        .await
        .unwrap();
    assert_eq!(unassigned.items[0].serial_number, d2.serial_number);
    assert_eq!(
        all_pages(1, |m, n| s.list_virtual_mfa_devices(&a, None, m, n))
            .await
            .len(),
        2
    );

    // Replay protection: a step is accepted once, older steps never.
    assert!(
        !s.consume_mfa_step(&a, &d.serial_number, 1000)
            .await
            .unwrap(),
        "enable's step is used"
    );
    assert!(
        s.consume_mfa_step(&a, &d.serial_number, 1001)
            .await
            .unwrap()
    );
    assert!(
        !s.consume_mfa_step(&a, &d.serial_number, 1001)
            .await
            .unwrap()
    );
    assert!(!s.consume_mfa_step(&a, &d.serial_number, 999).await.unwrap());
    assert!(
        s.consume_mfa_step(&a, &d.serial_number, 1005)
            .await
            .unwrap()
    );
    assert_eq!(
        code(s.consume_mfa_step(&a, "arn:aws:iam::1:mfa/none", 1).await),
        "NoSuchEntity"
    );

    assert_eq!(
        message(s.delete_virtual_mfa_device(&a, &d.serial_number).await),
        "MFA device is still in use."
    );
    assert_eq!(
        code(s.deactivate_mfa_device(&a, "u", &d2.serial_number).await),
        "NoSuchEntity"
    );
    s.deactivate_mfa_device(&a, "u", &d.serial_number)
        .await
        .unwrap();
    assert_eq!(
        s.get_mfa_device(&a, &d.serial_number)
            .await
            .unwrap()
            .user_name,
        None
    );
    s.delete_virtual_mfa_device(&a, &d.serial_number)
        .await
        .unwrap();
    assert_eq!(
        code(s.get_mfa_device(&a, &d.serial_number).await),
        "NoSuchEntity"
    );
}

async fn instance_profiles(s: DynStore) {
    let a = new_account(&s).await;
    s.create_role(&a, &role("r1"), at(1)).await.unwrap();
    s.create_role(&a, &role("r2"), at(1)).await.unwrap();
    let np = NewInstanceProfile {
        name: "Web".into(),
        path: "/app/".into(),
        tags: vec![Tag::new("a", "b")],
    };
    let ip = s.create_instance_profile(&a, &np, at(1)).await.unwrap();
    assert!(IdKind::InstanceProfile.matches(&ip.id));
    assert_eq!(ip.arn, format!("arn:aws:iam::{a}:instance-profile/app/Web"));
    assert_eq!(ip.tags, vec![Tag::new("a", "b")]);
    let dup = NewInstanceProfile {
        name: "web".into(),
        path: "/".into(),
        tags: vec![],
    };
    assert_eq!(
        message(s.create_instance_profile(&a, &dup, at(1)).await),
        "Instance Profile web already exists."
    );

    s.add_role_to_instance_profile(&a, "web", "r1")
        .await
        .unwrap();
    let r = s.add_role_to_instance_profile(&a, "web", "r2").await;
    assert_eq!(
        message(r),
        "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"
    );
    assert_eq!(
        code(s.add_role_to_instance_profile(&a, "web", "r1").await),
        "LimitExceeded"
    );
    let got = s.get_instance_profile(&a, "WEB").await.unwrap();
    assert_eq!(
        got.roles
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["r1"]
    );
    let for_role = s
        .list_instance_profiles_for_role(&a, "r1", None, 10)
        .await
        .unwrap();
    assert_eq!(for_role.items.len(), 1);
    assert_eq!(for_role.items[0].roles.len(), 1);
    assert!(
        s.list_instance_profiles_for_role(&a, "r2", None, 10)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        s.list_instance_profiles(&a, Some("/app/"), None, 10)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert!(
        s.list_instance_profiles(&a, Some("/other/"), None, 10)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    assert_eq!(
        code(s.delete_instance_profile(&a, "web").await),
        "DeleteConflict"
    );
    assert_eq!(
        code(s.remove_role_from_instance_profile(&a, "web", "r2").await),
        "NoSuchEntity"
    );
    s.remove_role_from_instance_profile(&a, "web", "r1")
        .await
        .unwrap();
    s.delete_instance_profile(&a, "web").await.unwrap();
    assert_eq!(
        message(s.get_instance_profile(&a, "web").await),
        "Instance Profile web cannot be found."
    );
}

async fn oidc_and_saml_providers(s: DynStore) {
    let a = new_account(&s).await;
    let np = NewOidcProvider {
        url: "https://token.example.com/tenant".into(),
        client_ids: vec!["app".into(), "cli".into()],
        thumbprints: vec!["9e99a48a9960b14926bb7f3b02e22da2b0ab7280".into()],
        tags: vec![Tag::new("t", "1")],
    };
    let p = s.create_oidc_provider(&a, &np, at(1)).await.unwrap();
    assert_eq!(
        p.arn,
        format!("arn:aws:iam::{a}:oidc-provider/token.example.com/tenant")
    );
    assert_eq!(
        (p.url.as_str(), p.client_ids.clone(), p.tags.len()),
        (
            "token.example.com/tenant",
            vec!["app".to_owned(), "cli".to_owned()],
            1
        )
    );
    assert_eq!(
        code(s.create_oidc_provider(&a, &np, at(1)).await),
        "EntityAlreadyExists"
    );
    s.add_oidc_client_id(&a, &p.arn, "web").await.unwrap();
    s.add_oidc_client_id(&a, &p.arn, "app").await.unwrap(); // idempotent
    s.remove_oidc_client_id(&a, &p.arn, "cli").await.unwrap();
    s.remove_oidc_client_id(&a, &p.arn, "never").await.unwrap();
    let t: Vec<String> = (0..5).map(|i| format!("{i:040}")).collect();
    s.update_oidc_thumbprints(&a, &p.arn, &t).await.unwrap();
    let six: Vec<String> = (0..6).map(|i| format!("{i:040}")).collect();
    assert_eq!(
        code(s.update_oidc_thumbprints(&a, &p.arn, &six).await),
        "LimitExceeded"
    );
    let got = s.get_oidc_provider(&a, &p.arn).await.unwrap();
    assert_eq!(got.client_ids, ["app", "web"]);
    assert_eq!(got.thumbprints, t);
    assert_eq!(s.list_oidc_providers(&a).await.unwrap().len(), 1);
    let missing = format!("arn:aws:iam::{a}:oidc-provider/none");
    assert_eq!(
        message(s.get_oidc_provider(&a, &missing).await),
        format!("OpenIDConnect Provider not found for arn {missing}")
    );
    assert_eq!(
        code(s.add_oidc_client_id(&a, &missing, "x").await),
        "NoSuchEntity"
    );
    s.delete_oidc_provider(&a, &p.arn).await.unwrap();
    assert_eq!(
        code(s.delete_oidc_provider(&a, &p.arn).await),
        "NoSuchEntity"
    );
    // Re-created: no client ids left over.
    let again = s
        .create_oidc_provider(
            &a,
            &NewOidcProvider {
                client_ids: vec![],
                ..np.clone()
            },
            at(2),
        )
        .await
        .unwrap();
    assert!(again.client_ids.is_empty());

    let ns = NewSamlProvider {
        name: "Okta".into(),
        metadata_document: "<md/>".into(),
        valid_until: Some(at(1000)),
        tags: vec![],
    };
    let sp = s.create_saml_provider(&a, &ns, at(1)).await.unwrap();
    assert_eq!(sp.arn, format!("arn:aws:iam::{a}:saml-provider/Okta"));
    assert_eq!(
        code(s.create_saml_provider(&a, &ns, at(1)).await),
        "EntityAlreadyExists"
    );
    s.update_saml_provider(&a, &sp.arn, "<md2/>", None)
        .await
        .unwrap();
    let got = s.get_saml_provider(&a, &sp.arn).await.unwrap();
    assert_eq!(
        (got.metadata_document.as_str(), got.valid_until),
        ("<md2/>", None)
    );
    assert_eq!(s.list_saml_providers(&a).await.unwrap().len(), 1);
    s.delete_saml_provider(&a, &sp.arn).await.unwrap();
    assert_eq!(code(s.get_saml_provider(&a, &sp.arn).await), "NoSuchEntity");
    assert_eq!(
        code(s.update_saml_provider(&a, &sp.arn, "x", None).await),
        "NoSuchEntity"
    );
}

async fn tags_on_every_taggable_entity(s: DynStore) {
    let a = new_account(&s).await;
    s.create_user(&a, &user("u"), at(1)).await.unwrap();
    s.create_role(&a, &role("r"), at(1)).await.unwrap();
    let p = s
        .create_policy(&a, &policy("p", DOC1), at(1))
        .await
        .unwrap();
    s.create_instance_profile(
        &a,
        &NewInstanceProfile {
            name: "ip".into(),
            path: "/".into(),
            tags: vec![],
        },
        at(1),
    )
    .await
    .unwrap();
    let o = s
        .create_oidc_provider(
            &a,
            &NewOidcProvider {
                url: "https://o.example".into(),
                ..Default::default()
            },
            at(1),
        )
        .await
        .unwrap();
    let sp = s
        .create_saml_provider(
            &a,
            &NewSamlProvider {
                name: "s".into(),
                metadata_document: "m".into(),
                ..Default::default()
            },
            at(1),
        )
        .await
        .unwrap();
    let d = s
        .create_virtual_mfa_device(
            &a,
            &NewVirtualMfaDevice {
                name: "d".into(),
                path: "/".into(),
                seed_ciphertext: ciphertext(b"x"),
                tags: vec![],
            },
            at(1),
        )
        .await
        .unwrap();
    let targets = [
        TagTarget::User("U".into()),
        TagTarget::Role("R".into()),
        TagTarget::Policy(p.arn.clone()),
        TagTarget::InstanceProfile("IP".into()),
        TagTarget::OidcProvider(o.arn.clone()),
        TagTarget::SamlProvider(sp.arn.clone()),
        TagTarget::MfaDevice(d.serial_number.clone()),
    ];
    for t in &targets {
        s.tag_resource(&a, t, &[Tag::new("Team", "a"), Tag::new("env", "dev")])
            .await
            .unwrap();
        // Same key in another case replaces, spelling included.
        s.tag_resource(&a, t, &[Tag::new("team", "b")])
            .await
            .unwrap();
        let tags = all_pages(1, |m, n| s.list_tags(&a, t, m, n)).await;
        assert_eq!(
            tags,
            vec![Tag::new("env", "dev"), Tag::new("team", "b")],
            "{t:?}"
        );
        s.untag_resource(&a, t, &["TEAM".into(), "absent".into()])
            .await
            .unwrap();
        assert_eq!(
            s.list_tags(&a, t, None, 10).await.unwrap().items,
            vec![Tag::new("env", "dev")]
        );
    }
    assert_eq!(
        s.get_user(&a, "u").await.unwrap().tags,
        vec![Tag::new("env", "dev")]
    );
    assert_eq!(
        s.get_policy(&a, &p.arn).await.unwrap().tags,
        vec![Tag::new("env", "dev")]
    );
    assert_eq!(
        s.get_instance_profile(&a, "ip").await.unwrap().tags,
        vec![Tag::new("env", "dev")]
    );

    // 50 per resource.
    let many: Vec<Tag> = (0..49).map(|i| Tag::new(format!("k{i}"), "v")).collect();
    s.tag_resource(&a, &targets[0], &many).await.unwrap();
    assert_eq!(
        code(
            s.tag_resource(&a, &targets[0], &[Tag::new("one-more", "v")])
                .await
        ),
        "LimitExceeded"
    );
    assert_eq!(
        all_pages(7, |m, n| s.list_tags(&a, &targets[0], m, n))
            .await
            .len(),
        50
    );
    s.tag_resource(&a, &targets[0], &[Tag::new("K1", "replaced")])
        .await
        .unwrap();

    for t in [
        TagTarget::User("ghost".into()),
        TagTarget::Policy(format!("arn:aws:iam::{a}:policy/none")),
        TagTarget::MfaDevice("x".into()),
    ] {
        assert_eq!(
            code(s.tag_resource(&a, &t, &[Tag::new("k", "v")]).await),
            "NoSuchEntity"
        );
        assert_eq!(code(s.list_tags(&a, &t, None, 10).await), "NoSuchEntity");
    }
}

async fn authorization_set_collects_everything(s: DynStore) {
    let a = new_account(&s).await;
    let mut nu = user("alice");
    nu.tags = vec![Tag::new("dept", "eng")];
    let u = s.create_user(&a, &nu, at(1)).await.unwrap();
    let p = s
        .create_policy(&a, &policy("Cust", DOC1), at(1))
        .await
        .unwrap();
    let b = s
        .create_policy(&a, &policy("Boundary", DOC2), at(1))
        .await
        .unwrap();
    let alice = PolicyOwner::User("alice".into());
    s.put_inline_policy(&a, &alice, "own", DOC2).await.unwrap();
    s.attach_policy(&a, &alice, &p.arn).await.unwrap();
    s.attach_policy(&a, &alice, ADMIN).await.unwrap();
    for g in ["zeta", "alpha"] {
        s.create_group(
            &a,
            &NewGroup {
                name: g.into(),
                path: "/".into(),
            },
            at(1),
        )
        .await
        .unwrap();
        s.add_user_to_group(&a, g, "alice").await.unwrap();
        s.put_inline_policy(&a, &PolicyOwner::Group(g.into()), "gp", DOC1)
            .await
            .unwrap();
    }
    s.attach_policy(&a, &PolicyOwner::Group("alpha".into()), S3_RO)
        .await
        .unwrap();
    s.put_permissions_boundary(&a, &BoundaryOwner::User("alice".into()), &b.arn)
        .await
        .unwrap();

    let set = s
        .authorization_set(&a, &PrincipalRef::UserName("ALICE".into()))
        .await
        .unwrap();
    assert_eq!(set.generation, s.generation(&a).await.unwrap());
    assert_eq!(
        set.principal,
        PrincipalInfo {
            kind: PrincipalKind::User,
            id: u.id.clone(),
            name: "alice".into(),
            path: "/".into(),
            arn: u.arn.clone(),
            tags: vec![Tag::new("dept", "eng")],
        }
    );
    let alpha = s.get_group(&a, "alpha").await.unwrap();
    let zeta = s.get_group(&a, "zeta").await.unwrap();
    let from = |g: &Group| PolicyOrigin::Group {
        name: g.name.clone(),
        arn: g.arn.clone(),
    };
    let expected = vec![
        PolicySource {
            origin: PolicyOrigin::Principal,
            policy: PolicyDocument::Inline {
                name: "own".into(),
                document: DOC2.into(),
            },
        },
        // Attached policies by ARN: the account's digits sort before `aws`.
        PolicySource {
            origin: PolicyOrigin::Principal,
            policy: PolicyDocument::Customer {
                arn: p.arn.clone(),
                version_id: "v1".into(),
                document: DOC1.into(),
            },
        },
        PolicySource {
            origin: PolicyOrigin::Principal,
            policy: PolicyDocument::AwsManaged { arn: ADMIN.into() },
        },
        PolicySource {
            origin: from(&alpha),
            policy: PolicyDocument::Inline {
                name: "gp".into(),
                document: DOC1.into(),
            },
        },
        PolicySource {
            origin: from(&alpha),
            policy: PolicyDocument::AwsManaged { arn: S3_RO.into() },
        },
        PolicySource {
            origin: from(&zeta),
            policy: PolicyDocument::Inline {
                name: "gp".into(),
                document: DOC1.into(),
            },
        },
    ];
    assert_eq!(set.policies, expected);
    assert_eq!(
        set.boundary,
        Some(PolicyDocument::Customer {
            arn: b.arn.clone(),
            version_id: "v1".into(),
            document: DOC2.into()
        })
    );
    assert_eq!(
        s.authorization_set(&a, &PrincipalRef::UserId(u.id.clone()))
            .await
            .unwrap(),
        set
    );

    // The customer policy's default version is what counts.
    s.create_policy_version(&a, &p.arn, DOC2, true, at(2))
        .await
        .unwrap();
    let set2 = s
        .authorization_set(&a, &PrincipalRef::UserName("alice".into()))
        .await
        .unwrap();
    assert!(set2.generation > set.generation);
    assert!(set2.policies.contains(&PolicySource {
        origin: PolicyOrigin::Principal,
        policy: PolicyDocument::Customer {
            arn: p.arn.clone(),
            version_id: "v2".into(),
            document: DOC2.into()
        },
    }));

    // Roles: no groups; by name and by id.
    let mut nr = role("R");
    nr.permissions_boundary = Some(ADMIN.into());
    let r = s.create_role(&a, &nr, at(1)).await.unwrap();
    s.attach_policy(&a, &PolicyOwner::Role("r".into()), &p.arn)
        .await
        .unwrap();
    let rs = s
        .authorization_set(&a, &PrincipalRef::RoleId(r.id.clone()))
        .await
        .unwrap();
    assert_eq!(rs.principal.kind, PrincipalKind::Role);
    assert_eq!(rs.policies.len(), 1);
    assert_eq!(
        rs.boundary,
        Some(PolicyDocument::AwsManaged { arn: ADMIN.into() })
    );
    assert_eq!(
        s.authorization_set(&a, &PrincipalRef::RoleName("r".into()))
            .await
            .unwrap(),
        rs
    );
    assert_eq!(
        code(
            s.authorization_set(&a, &PrincipalRef::RoleName("alice".into()))
                .await
        ),
        "NoSuchEntity"
    );
    assert_eq!(
        code(
            s.authorization_set(&a, &PrincipalRef::UserId(r.id.clone()))
                .await
        ),
        "NoSuchEntity"
    );
}

async fn changes_bump_generation_and_notify(s: DynStore) {
    let a = new_account(&s).await;
    let mut rx = s.subscribe();
    let g0 = s.generation(&a).await.unwrap();
    s.create_user(&a, &user("u"), at(1)).await.unwrap();
    let g1 = s.generation(&a).await.unwrap();
    assert!(g1 > g0);
    // Other cases may run concurrently on the same store: skip their accounts' changes.
    let mut next = || {
        loop {
            let c = rx.try_recv().expect("a change was announced after commit");
            if c.account == a {
                return c;
            }
        }
    };
    let c = next();
    assert_eq!(
        (c.generation, c.kind, c.entity),
        (g1, ChangeKind::Created, EntityRef::User("u".into()))
    );

    // A refused change bumps nothing and announces nothing.
    assert_eq!(
        code(s.create_user(&a, &user("U"), at(1)).await),
        "EntityAlreadyExists"
    );
    assert_eq!(code(s.delete_user(&a, "ghost").await), "NoSuchEntity");
    assert_eq!(s.generation(&a).await.unwrap(), g1);

    // Each authorization-relevant change bumps.
    s.put_inline_policy(&a, &PolicyOwner::User("u".into()), "p", DOC1)
        .await
        .unwrap();
    let c = next();
    assert_eq!(
        (c.kind, c.entity),
        (ChangeKind::Updated, EntityRef::User("u".into()))
    );
    assert!(c.generation > g1);
    s.tag_resource(&a, &TagTarget::User("u".into()), &[Tag::new("k", "v")])
        .await
        .unwrap();
    let g2 = s.generation(&a).await.unwrap();
    assert_eq!(next().generation, g2);

    // Bookkeeping does not.
    let k = key_id(10);
    s.create_access_key(
        &a,
        &KeyOwner::User("u".into()),
        &k,
        &ciphertext(b"x"),
        at(1),
    )
    .await
    .unwrap();
    let g3 = s.generation(&a).await.unwrap();
    assert_eq!(next().entity, EntityRef::AccessKey(k.clone()));
    s.record_access_key_use(&k, at(2), "sts", "us-east-1")
        .await
        .unwrap();
    s.record_password_use(&a, "u", at(2)).await.unwrap();
    assert_eq!(s.generation(&a).await.unwrap(), g3);

    // Changes in another account leave this one's generation alone.
    let b = new_account(&s).await;
    s.create_user(&b, &user("u"), at(1)).await.unwrap();
    assert_eq!(s.generation(&a).await.unwrap(), g3);
    assert_eq!(code(s.generation("000000000000").await), "NoSuchEntity");
}

async fn service_bookkeeping(s: DynStore) {
    let a = new_account(&s).await;
    // Signing keys: generations per purpose.
    let purpose = format!("session-token-{a}");
    let nk = |kid: &str| NewSigningKey {
        purpose: purpose.clone(),
        key_id: kid.into(),
        algorithm: "AES-256-GCM".into(),
        material: ciphertext(b"k"),
    };
    let k1 = s
        .add_signing_key(&nk(&format!("{a}-1")), at(1))
        .await
        .unwrap();
    let k2 = s
        .add_signing_key(&nk(&format!("{a}-2")), at(2))
        .await
        .unwrap();
    assert_eq!((k1.generation, k2.generation), (1, 2));
    assert_eq!(
        code(s.add_signing_key(&nk(&format!("{a}-2")), at(3)).await),
        "ConcurrentModification"
    );
    s.retire_signing_key(&purpose, 1, at(5)).await.unwrap();
    let keys = s.list_signing_keys(&purpose).await.unwrap();
    assert_eq!(
        keys.iter()
            .map(|k| (k.generation, k.retire_date))
            .collect::<Vec<_>>(),
        [(2, None), (1, Some(at(5)))]
    );
    assert_eq!(
        code(s.retire_signing_key(&purpose, 9, at(5)).await),
        "NoSuchEntity"
    );

    // OIDC issuer clients.
    let client = NewOidcClient {
        client_id: format!("client-{a}"),
        name: "Directory".into(),
        redirect_uris: vec![
            "https://app.example/cb".into(),
            "http://127.0.0.1:8080/cb".into(),
        ],
        secret_hash: None,
    };
    let c = s.create_oidc_client(&a, &client, at(1)).await.unwrap();
    assert_eq!(s.get_oidc_client(&client.client_id).await.unwrap(), c);
    assert_eq!(c.redirect_uris, client.redirect_uris);
    assert_eq!(
        code(s.create_oidc_client(&a, &client, at(1)).await),
        "EntityAlreadyExists"
    );
    let bad = NewOidcClient {
        client_id: format!("bad-{a}"),
        redirect_uris: vec!["https://x\nInjected".into()],
        ..client.clone()
    };
    assert_eq!(
        code(s.create_oidc_client(&a, &bad, at(1)).await),
        "InvalidInput"
    );
    assert_eq!(s.list_oidc_clients(&a).await.unwrap().len(), 1);
    s.delete_oidc_client(&a, &client.client_id).await.unwrap();
    assert_eq!(
        code(s.get_oidc_client(&client.client_id).await),
        "NoSuchEntity"
    );

    // Lockout: 3 failures in 60 s lock for 300 s; older failures are forgotten.
    let lp = LockoutPolicy {
        max_failures: 3,
        window_seconds: 60,
        lock_seconds: 300,
    };
    assert_eq!(
        s.get_signin_lockout(&a, "u", &lp, at(0)).await.unwrap(),
        SigninLockout::default()
    );
    assert_eq!(
        s.record_signin_failure(&a, "u", &lp, at(0))
            .await
            .unwrap()
            .failures,
        1
    );
    assert_eq!(
        s.record_signin_failure(&a, "U", &lp, at(100))
            .await
            .unwrap()
            .failures,
        1,
        "window restarted"
    );
    assert_eq!(
        s.record_signin_failure(&a, "u", &lp, at(110))
            .await
            .unwrap()
            .failures,
        2
    );
    let locked = s
        .record_signin_failure(&a, "u", &lp, at(120))
        .await
        .unwrap();
    assert_eq!(locked.locked_until, Some(at(420)));
    assert!(
        s.get_signin_lockout(&a, "u", &lp, at(419))
            .await
            .unwrap()
            .is_locked(at(419))
    );
    assert!(
        !s.get_signin_lockout(&a, "u", &lp, at(421))
            .await
            .unwrap()
            .is_locked(at(421))
    );
    s.clear_signin_failures(&a, "u").await.unwrap();
    assert_eq!(
        s.get_signin_lockout(&a, "u", &lp, at(130)).await.unwrap(),
        SigninLockout::default()
    );

    // Single-use values.
    let kind = format!("code-{a}");
    s.put_once(&kind, "c1", "payload", at(100), at(0))
        .await
        .unwrap();
    assert_eq!(
        code(s.put_once(&kind, "c1", "other", at(100), at(50)).await),
        "EntityAlreadyExists"
    );
    assert_eq!(
        s.take_once(&kind, "c1", at(10)).await.unwrap().as_deref(),
        Some("payload")
    );
    assert_eq!(
        s.take_once(&kind, "c1", at(10)).await.unwrap(),
        None,
        "taken once"
    );
    s.put_once(&kind, "c2", "p", at(100), at(0)).await.unwrap();
    assert_eq!(
        s.take_once(&kind, "c2", at(100)).await.unwrap(),
        None,
        "expired"
    );
    s.put_once(&kind, "c3", "p", at(100), at(0)).await.unwrap();
    s.put_once(&kind, "c3", "again", at(300), at(200))
        .await
        .unwrap(); // expired leftover replaced
    s.put_once(&kind, "c4", "p", at(150), at(0)).await.unwrap();
    assert!(s.purge_expired_once(at(200)).await.unwrap() >= 1);
    assert_eq!(
        s.take_once(&kind, "c4", at(10)).await.unwrap(),
        None,
        "purged"
    );
    assert_eq!(
        s.take_once(&kind, "c3", at(250)).await.unwrap().as_deref(),
        Some("again")
    );
}

/// Every sealed value of a kind, walking pages of `limit`.
async fn all_sealed(s: &DynStore, kind: SealedKind, limit: u32) -> Vec<SealedValue> {
    let mut out: Vec<SealedValue> = Vec::new();
    loop {
        let page = s
            .list_sealed(kind, out.last().map(|v| &v.id), limit)
            .await
            .unwrap();
        assert!(page.len() <= limit as usize, "a page holds at most `limit`");
        if let (Some(last), Some(first)) = (out.last(), page.first()) {
            assert!(first.id > last.id, "pages continue after the cursor");
        }
        let done = page.len() < limit as usize;
        out.extend(page);
        if done {
            return out;
        }
    }
}

async fn sealed_values_listed_and_swapped(s: DynStore) {
    let a = new_account(&s).await;
    s.create_user(&a, &user("sealer"), at(1)).await.unwrap();
    let owner = KeyOwner::User("sealer".into());
    let (k1, k2) = (key_id(7), key_id(8));
    s.create_access_key(&a, &owner, &k1, &ciphertext(b"key-1-old"), at(2))
        .await
        .unwrap();
    s.create_access_key(&a, &KeyOwner::Root, &k2, &ciphertext(b"key-2-old"), at(2))
        .await
        .unwrap();
    let device = s
        .create_virtual_mfa_device(
            &a,
            &NewVirtualMfaDevice {
                name: "sealed-phone".into(),
                path: "/".into(),
                seed_ciphertext: ciphertext(b"seed-old"),
                tags: Vec::new(),
            },
            at(3),
        )
        .await
        .unwrap();
    let purpose = format!("sealed-{a}");
    for n in 1..=3u8 {
        s.add_signing_key(
            &NewSigningKey {
                purpose: purpose.clone(),
                key_id: format!("{purpose}-{n}"),
                algorithm: "AES-256-GCM".into(),
                material: ciphertext(&[b'm', n]),
            },
            at(4),
        )
        .await
        .unwrap();
    }
    s.retire_signing_key(&purpose, 1, at(5)).await.unwrap();

    // Listing: every page size sees the same records, each once, in record order.
    for kind in SealedKind::ALL {
        let whole = all_sealed(&s, kind, 10_000).await;
        assert_eq!(all_sealed(&s, kind, 2).await, whole, "{kind}");
        assert!(whole.iter().all(|v| v.id.kind() == kind), "{kind}");
        assert!(whole.windows(2).all(|w| w[0].id < w[1].id), "{kind}");
    }
    let keys: Vec<_> = all_sealed(&s, SealedKind::AccessKeySecret, 3)
        .await
        .into_iter()
        .filter(|v| v.account_id.as_deref() == Some(a.as_str()))
        .collect();
    let mut expected = vec![
        SealedValue {
            id: SealedId::AccessKey(k1.clone()),
            account_id: Some(a.clone()),
            ciphertext: ciphertext(b"key-1-old"),
            retired: false,
        },
        SealedValue {
            id: SealedId::AccessKey(k2.clone()),
            account_id: Some(a.clone()),
            ciphertext: ciphertext(b"key-2-old"),
            retired: false,
        },
    ];
    expected.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(keys, expected);
    let seeds: Vec<_> = all_sealed(&s, SealedKind::MfaSeed, 1)
        .await
        .into_iter()
        .filter(|v| v.account_id.as_deref() == Some(a.as_str()))
        .collect();
    assert_eq!(
        seeds,
        [SealedValue {
            id: SealedId::MfaDevice(device.serial_number.clone()),
            account_id: Some(a.clone()),
            ciphertext: ciphertext(b"seed-old"),
            retired: false,
        }]
    );
    let signing: Vec<_> = all_sealed(&s, SealedKind::SigningKey, 1)
        .await
        .into_iter()
        .filter(|v| matches!(&v.id, SealedId::SigningKey { purpose: p, .. } if *p == purpose))
        .map(|v| (v.id, v.account_id, v.ciphertext, v.retired))
        .collect();
    let gen_id = |generation| SealedId::SigningKey {
        purpose: purpose.clone(),
        generation,
    };
    assert_eq!(
        signing,
        [
            (gen_id(1), None, ciphertext(b"m\x01"), true),
            (gen_id(2), None, ciphertext(b"m\x02"), false),
            (gen_id(3), None, ciphertext(b"m\x03"), false),
        ]
    );

    // Compare-and-swap: a stale `old` changes nothing and bumps nothing.
    let k1_id = SealedId::AccessKey(k1.clone());
    let g0 = s.generation(&a).await.unwrap();
    assert!(
        !s.replace_sealed(&k1_id, &ciphertext(b"stale"), &ciphertext(b"key-1-new"))
            .await
            .unwrap()
    );
    assert_eq!(
        s.generation(&a).await.unwrap(),
        g0,
        "a lost swap bumps nothing"
    );
    let lookup = s.lookup_access_key(&k1).await.unwrap().unwrap();
    assert_eq!(lookup.secret_ciphertext, ciphertext(b"key-1-old"));
    // The right `old` swaps, once, and bumps the account generation like any write.
    let mut changes = s.subscribe();
    assert!(
        s.replace_sealed(&k1_id, &ciphertext(b"key-1-old"), &ciphertext(b"key-1-new"))
            .await
            .unwrap()
    );
    assert_eq!(s.generation(&a).await.unwrap(), g0 + 1);
    let change = changes.recv().await.unwrap();
    assert_eq!(
        (change.account.as_str(), change.generation, change.entity),
        (a.as_str(), g0 + 1, EntityRef::AccessKey(k1.clone()))
    );
    let lookup = s.lookup_access_key(&k1).await.unwrap().unwrap();
    assert_eq!(lookup.secret_ciphertext, ciphertext(b"key-1-new"));
    assert!(
        !s.replace_sealed(&k1_id, &ciphertext(b"key-1-old"), &ciphertext(b"again"))
            .await
            .unwrap(),
        "the old value is gone"
    );
    // The other key of the account is untouched.
    let other = s.lookup_access_key(&k2).await.unwrap().unwrap();
    assert_eq!(other.secret_ciphertext, ciphertext(b"key-2-old"));
    // A record that does not exist is not swapped.
    assert!(
        !s.replace_sealed(
            &SealedId::AccessKey(key_id(9)),
            &ciphertext(b"key-1-new"),
            &ciphertext(b"x")
        )
        .await
        .unwrap()
    );

    let serial = SealedId::MfaDevice(device.serial_number.clone());
    assert!(
        !s.replace_sealed(&serial, &ciphertext(b"stale"), &ciphertext(b"seed-new"))
            .await
            .unwrap()
    );
    let g1 = s.generation(&a).await.unwrap();
    assert!(
        s.replace_sealed(&serial, &ciphertext(b"seed-old"), &ciphertext(b"seed-new"))
            .await
            .unwrap()
    );
    assert_eq!(s.generation(&a).await.unwrap(), g1 + 1);
    let stored = s.get_mfa_device(&a, &device.serial_number).await.unwrap();
    assert_eq!(stored.seed_ciphertext, ciphertext(b"seed-new"));

    // Signing keys: swapped per generation, retired ones too; no account to bump.
    assert!(
        !s.replace_sealed(&gen_id(2), &ciphertext(b"m\x03"), &ciphertext(b"new-2"))
            .await
            .unwrap()
    );
    assert!(
        s.replace_sealed(&gen_id(2), &ciphertext(b"m\x02"), &ciphertext(b"new-2"))
            .await
            .unwrap()
    );
    assert!(
        s.replace_sealed(&gen_id(1), &ciphertext(b"m\x01"), &ciphertext(b"new-1"))
            .await
            .unwrap()
    );
    assert!(
        !s.replace_sealed(&gen_id(9), &ciphertext(b"m\x01"), &ciphertext(b"x"))
            .await
            .unwrap()
    );
    let stored: Vec<_> = s
        .list_signing_keys(&purpose)
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.generation, k.material, k.retire_date.is_some()))
        .collect();
    assert_eq!(
        stored,
        [
            (3, ciphertext(b"m\x03"), false),
            (2, ciphertext(b"new-2"), false),
            (1, ciphertext(b"new-1"), true),
        ]
    );
}

/// Runs `n` copies of `f` at once and returns their results.
async fn concurrently<T, F, Fut>(n: usize, f: F) -> Vec<Result<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut set = JoinSet::new();
    for i in 0..n {
        let fut = f(i);
        let barrier = barrier.clone();
        set.spawn(async move {
            barrier.wait().await;
            fut.await
        });
    }
    let mut out = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        out.push(r.expect("task panicked"));
    }
    out
}

fn tally<T>(results: &[Result<T>]) -> (usize, Vec<&'static str>) {
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let errs = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(StoreError::code))
        .collect();
    (ok, errs)
}

async fn race_create_user_same_name(s: DynStore) {
    let a = new_account(&s).await;
    let results = concurrently(50, |i| {
        let (s, a) = (s.clone(), a.clone());
        // Same name in varying case.
        let name = if i % 2 == 0 {
            "racer".to_owned()
        } else {
            "RACER".to_owned()
        };
        async move { s.create_user(&a, &user(&name), at(1)).await }
    })
    .await;
    let (ok, errs) = tally(&results);
    assert_eq!(ok, 1, "exactly one create wins: {errs:?}");
    assert!(errs.iter().all(|c| *c == "EntityAlreadyExists"), "{errs:?}");
    assert_eq!(
        s.list_users(&a, None, None, 100).await.unwrap().items.len(),
        1
    );
}

async fn race_third_access_key(s: DynStore) {
    let a = new_account(&s).await;
    s.create_user(&a, &user("u"), at(1)).await.unwrap();
    let results = concurrently(12, |i| {
        let (s, a) = (s.clone(), a.clone());
        async move {
            s.create_access_key(
                &a,
                &KeyOwner::User("u".into()),
                &key_id(i as u8),
                &ciphertext(b"x"),
                at(1),
            )
            .await
        }
    })
    .await;
    let (ok, errs) = tally(&results);
    assert_eq!(ok, 2, "exactly two keys: {errs:?}");
    assert!(errs.iter().all(|c| *c == "LimitExceeded"), "{errs:?}");
    assert_eq!(
        s.list_access_keys(&a, &KeyOwner::User("u".into()), None, 100)
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

async fn race_policy_versions(s: DynStore) {
    let a = new_account(&s).await;
    let p = s
        .create_policy(&a, &policy("P", DOC1), at(1))
        .await
        .unwrap();
    let results = concurrently(12, |_| {
        let (s, a, arn) = (s.clone(), a.clone(), p.arn.clone());
        async move { s.create_policy_version(&a, &arn, DOC2, false, at(2)).await }
    })
    .await;
    let (ok, errs) = tally(&results);
    assert_eq!(ok, 4, "v1 plus four more: {errs:?}");
    assert!(errs.iter().all(|c| *c == "LimitExceeded"), "{errs:?}");
    let mut ids: Vec<String> = results
        .into_iter()
        .filter_map(|r| r.ok().map(|v| v.version_id))
        .collect();
    ids.sort();
    assert_eq!(ids, ["v2", "v3", "v4", "v5"], "distinct version numbers");
}

async fn race_mfa_step(s: DynStore) {
    let a = new_account(&s).await;
    s.create_user(&a, &user("u"), at(1)).await.unwrap();
    let d = s
        .create_virtual_mfa_device(
            &a,
            &NewVirtualMfaDevice {
                name: "d".into(),
                path: "/".into(),
                seed_ciphertext: ciphertext(b"x"),
                tags: vec![],
            },
            at(1),
        )
        .await
        .unwrap();
    s.enable_mfa_device(&a, "u", &d.serial_number, 10, at(1))
        .await
        .unwrap();
    let results = concurrently(20, |_| {
        let (s, a, serial) = (s.clone(), a.clone(), d.serial_number.clone());
        async move { s.consume_mfa_step(&a, &serial, 11).await }
    })
    .await;
    let accepted = results
        .into_iter()
        .map(|r| r.unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(accepted, 1, "a code is accepted once");
}

async fn race_instance_profile_role(s: DynStore) {
    let a = new_account(&s).await;
    s.create_instance_profile(
        &a,
        &NewInstanceProfile {
            name: "ip".into(),
            path: "/".into(),
            tags: vec![],
        },
        at(1),
    )
    .await
    .unwrap();
    for i in 0..8 {
        s.create_role(&a, &role(&format!("r{i}")), at(1))
            .await
            .unwrap();
    }
    let results = concurrently(8, |i| {
        let (s, a) = (s.clone(), a.clone());
        async move {
            s.add_role_to_instance_profile(&a, "ip", &format!("r{i}"))
                .await
        }
    })
    .await;
    let (ok, errs) = tally(&results);
    assert_eq!(ok, 1, "{errs:?}");
    assert!(errs.iter().all(|c| *c == "LimitExceeded"), "{errs:?}");
    assert_eq!(
        s.get_instance_profile(&a, "ip").await.unwrap().roles.len(),
        1
    );
}
