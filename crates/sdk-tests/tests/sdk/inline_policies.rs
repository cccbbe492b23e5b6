//! Inline policies of users and groups.

use crate::harness::{allow, decode_document, make_user, root, unique};

#[tokio::test]
async fn user_inline_policies() {
    let root = root().await;
    let user = make_user(&root, "sdk-inline", None).await;
    let document = allow(&["dynamodb:GetItem"]);
    root.iam
        .put_user_policy()
        .user_name(&user.name)
        .policy_name("reader")
        .policy_document(document.to_string())
        .send()
        .await
        .expect("PutUserPolicy");
    let got = root
        .iam
        .get_user_policy()
        .user_name(&user.name)
        .policy_name("reader")
        .send()
        .await
        .expect("GetUserPolicy");
    assert_eq!(got.user_name(), user.name);
    assert_eq!(got.policy_name(), "reader");
    assert_eq!(decode_document(got.policy_document()), document);

    // Putting again replaces the document.
    let replaced = allow(&["dynamodb:Query"]);
    root.iam
        .put_user_policy()
        .user_name(&user.name)
        .policy_name("reader")
        .policy_document(replaced.to_string())
        .send()
        .await
        .expect("PutUserPolicy again");
    let got = root
        .iam
        .get_user_policy()
        .user_name(&user.name)
        .policy_name("reader")
        .send()
        .await
        .expect("GetUserPolicy");
    assert_eq!(decode_document(got.policy_document()), replaced);
    let names = root
        .iam
        .list_user_policies()
        .user_name(&user.name)
        .send()
        .await
        .expect("ListUserPolicies");
    assert_eq!(names.policy_names(), ["reader"]);

    assert_service_error!(
        root.iam
            .put_user_policy()
            .user_name(&user.name)
            .policy_name("broken")
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}"#)
            .send()
            .await,
        is_malformed_policy_document_exception
    );
    assert_service_error!(
        root.iam
            .put_user_policy()
            .user_name(format!("{}-missing", user.name))
            .policy_name("reader")
            .policy_document(document.to_string())
            .send()
            .await,
        is_no_such_entity_exception
    );
    // A user with an inline policy cannot be deleted.
    root.iam
        .delete_access_key()
        .user_name(&user.name)
        .access_key_id(&user.key_id)
        .send()
        .await
        .expect("DeleteAccessKey");
    assert_service_error!(
        root.iam.delete_user().user_name(&user.name).send().await,
        is_delete_conflict_exception
    );
    root.iam
        .delete_user_policy()
        .user_name(&user.name)
        .policy_name("reader")
        .send()
        .await
        .expect("DeleteUserPolicy");
    assert_service_error!(
        root.iam
            .get_user_policy()
            .user_name(&user.name)
            .policy_name("reader")
            .send()
            .await,
        is_no_such_entity_exception
    );
    assert_service_error!(
        root.iam
            .delete_user_policy()
            .user_name(&user.name)
            .policy_name("reader")
            .send()
            .await,
        is_no_such_entity_exception
    );
    root.iam
        .delete_user()
        .user_name(&user.name)
        .send()
        .await
        .expect("DeleteUser");
}

#[tokio::test]
async fn group_inline_policies() {
    let root = root().await;
    let group = unique("sdk-inline-group");
    root.iam
        .create_group()
        .group_name(&group)
        .send()
        .await
        .expect("CreateGroup");
    let document = allow(&["sns:Publish"]);
    root.iam
        .put_group_policy()
        .group_name(&group)
        .policy_name("publish")
        .policy_document(document.to_string())
        .send()
        .await
        .expect("PutGroupPolicy");
    let got = root
        .iam
        .get_group_policy()
        .group_name(&group)
        .policy_name("publish")
        .send()
        .await
        .expect("GetGroupPolicy");
    assert_eq!(decode_document(got.policy_document()), document);
    let names = root
        .iam
        .list_group_policies()
        .group_name(&group)
        .send()
        .await
        .expect("ListGroupPolicies");
    assert_eq!(names.policy_names(), ["publish"]);
    assert_service_error!(
        root.iam.delete_group().group_name(&group).send().await,
        is_delete_conflict_exception
    );
    root.iam
        .delete_group_policy()
        .group_name(&group)
        .policy_name("publish")
        .send()
        .await
        .expect("DeleteGroupPolicy");
    root.iam
        .delete_group()
        .group_name(&group)
        .send()
        .await
        .expect("DeleteGroup");
}

#[tokio::test]
async fn inline_documents_have_a_size_quota() {
    let root = root().await;
    let user = make_user(&root, "sdk-quota", None).await;
    // 2,048 characters per user (whitespace excluded); this is far past it.
    let actions: Vec<String> = (0..300).map(|i| format!("s3:GetObjectNumber{i}")).collect();
    let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
    assert_service_error!(
        root.iam
            .put_user_policy()
            .user_name(&user.name)
            .policy_name("huge")
            .policy_document(allow(&actions).to_string())
            .send()
            .await,
        is_limit_exceeded_exception
    );
}
