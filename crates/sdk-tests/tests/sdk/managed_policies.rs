//! Managed policies, their versions, and attachments.

use aws_sdk_iam::types::PolicyScopeType;

use crate::harness::{ACCOUNT_ID, allow, decode_document, make_user, root, unique};

#[tokio::test]
async fn policy_versions_default_and_limits() {
    let root = root().await;
    let name = unique("sdk-policy");
    let v1 = allow(&["s3:GetObject"]);
    let policy = root
        .iam
        .create_policy()
        .policy_name(&name)
        .path("/sdk/")
        .description("made by the SDK tests")
        .policy_document(v1.to_string())
        .send()
        .await
        .expect("CreatePolicy")
        .policy
        .expect("policy");
    let arn = policy.arn().expect("arn").to_owned();
    assert_eq!(arn, format!("arn:aws:iam::{ACCOUNT_ID}:policy/sdk/{name}"));
    assert!(policy.policy_id().is_some_and(|id| id.starts_with("ANPA")));
    assert_eq!(policy.default_version_id(), Some("v1"));
    assert_eq!(policy.attachment_count(), Some(0));
    assert_service_error!(
        root.iam
            .create_policy()
            .policy_name(&name)
            .path("/sdk/")
            .policy_document(v1.to_string())
            .send()
            .await,
        is_entity_already_exists_exception
    );

    // Documents come back URL-encoded, as AWS sends them.
    let got = root
        .iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .expect("GetPolicyVersion")
        .policy_version
        .expect("version");
    assert!(got.is_default_version());
    assert_eq!(decode_document(got.document().expect("document")), v1);

    let v2 = allow(&["s3:GetObject", "s3:PutObject"]);
    let created = root
        .iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(v2.to_string())
        .set_as_default(true)
        .send()
        .await
        .expect("CreatePolicyVersion")
        .policy_version
        .expect("version");
    assert_eq!(created.version_id(), Some("v2"));
    let now = root
        .iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("GetPolicy")
        .policy
        .expect("policy");
    assert_eq!(now.default_version_id(), Some("v2"));

    // The default version cannot be deleted.
    assert_service_error!(
        root.iam
            .delete_policy_version()
            .policy_arn(&arn)
            .version_id("v2")
            .send()
            .await,
        is_delete_conflict_exception
    );
    root.iam
        .set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .expect("SetDefaultPolicyVersion");

    // At most five versions.
    for _ in 3..=5 {
        root.iam
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(v2.to_string())
            .send()
            .await
            .expect("CreatePolicyVersion");
    }
    assert_service_error!(
        root.iam
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(v2.to_string())
            .send()
            .await,
        is_limit_exceeded_exception
    );
    let versions = root
        .iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .expect("ListPolicyVersions");
    let mut ids: Vec<_> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["v1", "v2", "v3", "v4", "v5"]);
    assert_eq!(
        versions
            .versions()
            .iter()
            .filter(|v| v.is_default_version())
            .filter_map(|v| v.version_id())
            .collect::<Vec<_>>(),
        ["v1"]
    );

    assert_service_error!(
        root.iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id("v9")
            .send()
            .await,
        is_no_such_entity_exception
    );
    // A policy with non-default versions cannot be deleted.
    assert_service_error!(
        root.iam.delete_policy().policy_arn(&arn).send().await,
        is_delete_conflict_exception
    );
    for v in ["v2", "v3", "v4", "v5"] {
        root.iam
            .delete_policy_version()
            .policy_arn(&arn)
            .version_id(v)
            .send()
            .await
            .expect("DeletePolicyVersion");
    }
    root.iam
        .delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("DeletePolicy");
    assert_service_error!(
        root.iam.get_policy().policy_arn(&arn).send().await,
        is_no_such_entity_exception
    );
}

#[tokio::test]
async fn malformed_documents_are_refused() {
    let root = root().await;
    for bad in [
        "{".to_owned(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"s3:*","Resource":"*"}]}"#
            .to_owned(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}"#.to_owned(),
    ] {
        assert_service_error!(
            root.iam
                .create_policy()
                .policy_name(unique("sdk-bad"))
                .policy_document(&bad)
                .send()
                .await,
            is_malformed_policy_document_exception
        );
    }
}

#[tokio::test]
async fn attachments_and_entities() {
    let root = root().await;
    let arn = root
        .iam
        .create_policy()
        .policy_name(unique("sdk-attach"))
        .policy_document(allow(&["sqs:*"]).to_string())
        .send()
        .await
        .expect("CreatePolicy")
        .policy
        .and_then(|p| p.arn)
        .expect("arn");
    let user = make_user(&root, "sdk-attached", None).await;
    let group = unique("sdk-attached-group");
    root.iam
        .create_group()
        .group_name(&group)
        .send()
        .await
        .expect("CreateGroup");
    root.iam
        .attach_user_policy()
        .user_name(&user.name)
        .policy_arn(&arn)
        .send()
        .await
        .expect("AttachUserPolicy");
    root.iam
        .attach_group_policy()
        .group_name(&group)
        .policy_arn(&arn)
        .send()
        .await
        .expect("AttachGroupPolicy");

    let attached = root
        .iam
        .list_attached_user_policies()
        .user_name(&user.name)
        .send()
        .await
        .expect("ListAttachedUserPolicies");
    assert_eq!(
        attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
            .collect::<Vec<_>>(),
        [arn.as_str()]
    );
    let attached = root
        .iam
        .list_attached_group_policies()
        .group_name(&group)
        .send()
        .await
        .expect("ListAttachedGroupPolicies");
    assert_eq!(attached.attached_policies().len(), 1);

    let entities = root
        .iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("ListEntitiesForPolicy");
    assert_eq!(
        entities
            .policy_users()
            .iter()
            .filter_map(|u| u.user_name())
            .collect::<Vec<_>>(),
        [user.name.as_str()]
    );
    assert_eq!(
        entities
            .policy_groups()
            .iter()
            .filter_map(|g| g.group_name())
            .collect::<Vec<_>>(),
        [group.as_str()]
    );
    let count = root
        .iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("GetPolicy")
        .policy
        .and_then(|p| p.attachment_count);
    assert_eq!(count, Some(2));

    // Attached: neither the policy nor the user can go.
    assert_service_error!(
        root.iam.delete_policy().policy_arn(&arn).send().await,
        is_delete_conflict_exception
    );
    assert_service_error!(
        root.iam
            .attach_user_policy()
            .user_name(&user.name)
            .policy_arn(format!("{arn}-missing"))
            .send()
            .await,
        is_no_such_entity_exception
    );
    root.iam
        .detach_user_policy()
        .user_name(&user.name)
        .policy_arn(&arn)
        .send()
        .await
        .expect("DetachUserPolicy");
    assert_service_error!(
        root.iam
            .detach_user_policy()
            .user_name(&user.name)
            .policy_arn(&arn)
            .send()
            .await,
        is_no_such_entity_exception
    );
    root.iam
        .detach_group_policy()
        .group_name(&group)
        .policy_arn(&arn)
        .send()
        .await
        .expect("DetachGroupPolicy");
    root.iam
        .delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("DeletePolicy once detached");
}

#[tokio::test]
async fn aws_managed_policies_exist_and_list_with_scope_aws() {
    let root = root().await;
    let read_only = root
        .iam
        .get_policy()
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .expect("GetPolicy ReadOnlyAccess")
        .policy
        .expect("policy");
    assert_eq!(read_only.policy_name(), Some("ReadOnlyAccess"));
    let page = root
        .iam
        .list_policies()
        .scope(PolicyScopeType::Aws)
        .max_items(100)
        .send()
        .await
        .expect("ListPolicies --scope AWS");
    assert_eq!(page.policies().len(), 100);
    assert!(page.is_truncated());
    assert!(page.policies().iter().all(|p| {
        p.arn()
            .is_some_and(|a| a.starts_with("arn:aws:iam::aws:policy/"))
    }));
    // Readable, not writable, even by root.
    assert_error_code!(
        root.iam
            .delete_policy()
            .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
            .send()
            .await,
        "AccessDenied"
    );
    root.iam
        .get_policy()
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .expect("still there");
}
