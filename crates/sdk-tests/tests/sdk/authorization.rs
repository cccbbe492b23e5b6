//! Authorisation seen through the SDK: every call of a user is decided by
//! its policies, and a change is effective on the very next call.

use crate::harness::{Clients, User, allow, deny, make_user, root, unique};

/// A new group holding `user`, with an inline policy when given.
async fn group_of(root: &Clients, user: &User, policy: Option<serde_json::Value>) -> String {
    let group = unique("sdk-authz-group");
    root.iam
        .create_group()
        .group_name(&group)
        .send()
        .await
        .expect("CreateGroup");
    if let Some(policy) = policy {
        root.iam
            .put_group_policy()
            .group_name(&group)
            .policy_name("group-inline")
            .policy_document(policy.to_string())
            .send()
            .await
            .expect("PutGroupPolicy");
    }
    root.iam
        .add_user_to_group()
        .group_name(&group)
        .user_name(&user.name)
        .send()
        .await
        .expect("AddUserToGroup");
    group
}

#[tokio::test]
async fn denied_without_a_policy_then_allowed_through_a_group() {
    let root = root().await;
    let user = make_user(&root, "sdk-authz", None).await;
    let message = assert_error_code!(user.clients.iam.list_users().send().await, "AccessDenied");
    // The resource part follows the one authorisation table; the rest is AWS's wording.
    assert!(
        message.starts_with(&format!(
            "User: {} is not authorized to perform: iam:ListUsers on resource: ",
            user.arn
        )),
        "{message}"
    );
    assert!(
        message.ends_with("because no identity-based policy allows the iam:ListUsers action"),
        "{message}"
    );
    // GetCallerIdentity needs no permission.
    user.clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");

    group_of(&root, &user, Some(allow(&["iam:ListUsers"]))).await;
    user.clients
        .iam
        .list_users()
        .send()
        .await
        .expect("allowed through the group");
    // Only what the group allows.
    assert_error_code!(user.clients.iam.list_groups().send().await, "AccessDenied");
}

#[tokio::test]
async fn an_explicit_deny_wins() {
    let root = root().await;
    let user = make_user(&root, "sdk-deny", Some(deny(&["iam:GetUser"]))).await;
    group_of(&root, &user, Some(allow(&["iam:Get*", "iam:List*"]))).await;
    user.clients
        .iam
        .list_users()
        .send()
        .await
        .expect("allowed by the group");
    let message = assert_error_code!(
        user.clients
            .iam
            .get_user()
            .user_name(&user.name)
            .send()
            .await,
        "AccessDenied"
    );
    assert!(
        message.ends_with("with an explicit deny in an identity-based policy"),
        "{message}"
    );
}

#[tokio::test]
async fn a_permissions_boundary_limits_the_identity_policy() {
    let root = root().await;
    let user = make_user(&root, "sdk-boundary", Some(allow(&["iam:*"]))).await;
    let boundary = root
        .iam
        .create_policy()
        .policy_name(unique("sdk-boundary"))
        .policy_document(allow(&["iam:GetUser"]).to_string())
        .send()
        .await
        .expect("CreatePolicy")
        .policy
        .and_then(|p| p.arn)
        .expect("arn");
    user.clients
        .iam
        .list_users()
        .send()
        .await
        .expect("iam:* before the boundary");
    root.iam
        .put_user_permissions_boundary()
        .user_name(&user.name)
        .permissions_boundary(&boundary)
        .send()
        .await
        .expect("PutUserPermissionsBoundary");
    let message = assert_error_code!(user.clients.iam.list_users().send().await, "AccessDenied");
    assert!(
        message.ends_with("because no permissions boundary allows the iam:ListUsers action"),
        "{message}"
    );
    let me = user
        .clients
        .iam
        .get_user()
        .send()
        .await
        .expect("allowed by both")
        .user
        .expect("user");
    assert_eq!(
        me.permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some(boundary.as_str())
    );
    root.iam
        .delete_user_permissions_boundary()
        .user_name(&user.name)
        .send()
        .await
        .expect("DeleteUserPermissionsBoundary");
    user.clients
        .iam
        .list_users()
        .send()
        .await
        .expect("no boundary any more");
}

#[tokio::test]
async fn revocation_is_effective_on_the_next_call() {
    let root = root().await;
    let user = make_user(&root, "sdk-revoke", None).await;

    // Leaving the group.
    let group = group_of(&root, &user, Some(allow(&["iam:ListGroups"]))).await;
    user.clients
        .iam
        .list_groups()
        .send()
        .await
        .expect("allowed");
    root.iam
        .remove_user_from_group()
        .group_name(&group)
        .user_name(&user.name)
        .send()
        .await
        .expect("RemoveUserFromGroup");
    assert_error_code!(user.clients.iam.list_groups().send().await, "AccessDenied");

    // Deleting the inline policy.
    root.iam
        .put_user_policy()
        .user_name(&user.name)
        .policy_name("temp")
        .policy_document(allow(&["iam:ListUsers"]).to_string())
        .send()
        .await
        .expect("PutUserPolicy");
    user.clients
        .iam
        .list_users()
        .send()
        .await
        .expect("allowed at once");
    root.iam
        .delete_user_policy()
        .user_name(&user.name)
        .policy_name("temp")
        .send()
        .await
        .expect("DeleteUserPolicy");
    assert_error_code!(user.clients.iam.list_users().send().await, "AccessDenied");

    // Detaching a managed policy, and a new default version that narrows it.
    let arn = root
        .iam
        .create_policy()
        .policy_name(unique("sdk-revoke"))
        .policy_document(allow(&["iam:ListPolicies", "iam:ListRoles"]).to_string())
        .send()
        .await
        .expect("CreatePolicy")
        .policy
        .and_then(|p| p.arn)
        .expect("arn");
    root.iam
        .attach_user_policy()
        .user_name(&user.name)
        .policy_arn(&arn)
        .send()
        .await
        .expect("AttachUserPolicy");
    user.clients
        .iam
        .list_policies()
        .max_items(1)
        .send()
        .await
        .expect("allowed by the attached policy");
    root.iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(allow(&["iam:ListRoles"]).to_string())
        .set_as_default(true)
        .send()
        .await
        .expect("CreatePolicyVersion");
    assert_error_code!(
        user.clients.iam.list_policies().max_items(1).send().await,
        "AccessDenied"
    );
    root.iam
        .set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .expect("SetDefaultPolicyVersion");
    user.clients
        .iam
        .list_policies()
        .max_items(1)
        .send()
        .await
        .expect("allowed again by v1");
    root.iam
        .detach_user_policy()
        .user_name(&user.name)
        .policy_arn(&arn)
        .send()
        .await
        .expect("DetachUserPolicy");
    assert_error_code!(
        user.clients.iam.list_policies().max_items(1).send().await,
        "AccessDenied"
    );
}
