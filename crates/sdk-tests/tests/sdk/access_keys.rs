//! Access keys: create, sign with the new key, deactivate, delete, quota.

use std::time::Duration;

use aws_sdk_iam::types::StatusType;

use crate::harness::{allow, clients, make_user, root};

#[tokio::test]
async fn a_new_key_signs_until_it_is_deactivated_or_deleted() {
    let root = root().await;
    let user = make_user(&root, "sdk-key", Some(allow(&["iam:GetUser"]))).await;
    assert!(
        user.key_id.starts_with("AKIA") && user.key_id.len() == 20,
        "{}",
        user.key_id
    );
    assert_eq!(user.secret.len(), 40);

    // The new key works at once, for STS and for IAM.
    let who = user
        .clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(who.arn(), Some(user.arn.as_str()));
    let me = user
        .clients
        .iam
        .get_user()
        .send()
        .await
        .expect("GetUser of oneself")
        .user
        .expect("user");
    assert_eq!(me.user_name(), user.name);

    let listed = root
        .iam
        .list_access_keys()
        .user_name(&user.name)
        .send()
        .await
        .expect("ListAccessKeys");
    let keys = listed.access_key_metadata();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].access_key_id(), Some(user.key_id.as_str()));
    assert_eq!(keys[0].status(), Some(&StatusType::Active));

    // Inactive: refused on the very next call, as an unknown token.
    root.iam
        .update_access_key()
        .user_name(&user.name)
        .access_key_id(&user.key_id)
        .status(StatusType::Inactive)
        .send()
        .await
        .expect("UpdateAccessKey Inactive");
    assert_error_code!(
        user.clients.sts.get_caller_identity().send().await,
        "InvalidClientTokenId"
    );
    assert_error_code!(
        user.clients.iam.get_user().send().await,
        "InvalidClientTokenId"
    );
    // Active again: it signs again.
    root.iam
        .update_access_key()
        .user_name(&user.name)
        .access_key_id(&user.key_id)
        .status(StatusType::Active)
        .send()
        .await
        .expect("UpdateAccessKey Active");
    user.clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("reactivated key");

    root.iam
        .delete_access_key()
        .user_name(&user.name)
        .access_key_id(&user.key_id)
        .send()
        .await
        .expect("DeleteAccessKey");
    let message = assert_error_code!(
        user.clients.sts.get_caller_identity().send().await,
        "InvalidClientTokenId"
    );
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );
    let left = root
        .iam
        .list_access_keys()
        .user_name(&user.name)
        .send()
        .await
        .expect("ListAccessKeys");
    assert!(left.access_key_metadata().is_empty());
    assert_service_error!(
        root.iam
            .delete_access_key()
            .user_name(&user.name)
            .access_key_id(&user.key_id)
            .send()
            .await,
        is_no_such_entity_exception
    );
}

#[tokio::test]
async fn at_most_two_keys_per_user() {
    let root = root().await;
    let user = make_user(&root, "sdk-two-keys", None).await;
    let second = root
        .iam
        .create_access_key()
        .user_name(&user.name)
        .send()
        .await
        .expect("a second key")
        .access_key
        .expect("key");
    assert_ne!(second.access_key_id(), user.key_id);
    assert_service_error!(
        root.iam
            .create_access_key()
            .user_name(&user.name)
            .send()
            .await,
        is_limit_exceeded_exception
    );
    // Both keys sign.
    let other = clients(second.access_key_id(), second.secret_access_key(), None).await;
    let who = other
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("second key signs");
    assert_eq!(who.arn(), Some(user.arn.as_str()));
    assert_service_error!(
        root.iam
            .create_access_key()
            .user_name(format!("{}-missing", user.name))
            .send()
            .await,
        is_no_such_entity_exception
    );
}

#[tokio::test]
async fn last_used_is_recorded() {
    let root = root().await;
    let user = make_user(&root, "sdk-last-used", None).await;
    let before = root
        .iam
        .get_access_key_last_used()
        .access_key_id(&user.key_id)
        .send()
        .await
        .expect("GetAccessKeyLastUsed");
    assert_eq!(before.user_name(), Some(user.name.as_str()));
    assert!(
        before
            .access_key_last_used()
            .is_none_or(|u| u.last_used_date().is_none()),
        "{before:?}"
    );
    user.clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("use the key");
    // The use is written in the background: give it a moment.
    let mut last = None;
    for _ in 0..50 {
        let got = root
            .iam
            .get_access_key_last_used()
            .access_key_id(&user.key_id)
            .send()
            .await
            .expect("GetAccessKeyLastUsed");
        if let Some(used) = got.access_key_last_used()
            && used.last_used_date().is_some()
        {
            last = Some(used.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last = last.expect("LastUsedDate within 5 s");
    assert_eq!(last.service_name(), "sts");
    assert_eq!(last.region(), "us-east-1");
}
