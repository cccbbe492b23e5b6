//! Users: CRUD, tags, pagination through the SDK paginator.

use aws_sdk_iam::types::Tag;

use crate::harness::{ACCOUNT_ID, code_of, root, unique};

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().expect("tag")
}

#[tokio::test]
async fn create_get_update_delete() {
    let root = root().await;
    let name = unique("sdk-user");
    let created = root
        .iam
        .create_user()
        .user_name(&name)
        .path("/sdk/")
        .tags(tag("team", "blue"))
        .send()
        .await
        .expect("CreateUser")
        .user
        .expect("user");
    assert_eq!(created.user_name(), name);
    assert_eq!(created.path(), "/sdk/");
    assert_eq!(
        created.arn(),
        format!("arn:aws:iam::{ACCOUNT_ID}:user/sdk/{name}")
    );
    assert!(
        created.user_id().starts_with("AIDA"),
        "{}",
        created.user_id()
    );

    let got = root
        .iam
        .get_user()
        .user_name(&name)
        .send()
        .await
        .expect("GetUser")
        .user
        .expect("user");
    assert_eq!(got.user_id(), created.user_id());
    assert_eq!(got.create_date(), created.create_date());
    assert_eq!(got.tags(), [tag("team", "blue")]);

    // Names are unique case-insensitively.
    let e = root
        .iam
        .create_user()
        .user_name(name.to_uppercase())
        .send()
        .await
        .expect_err("a duplicate name");
    assert!(
        e.as_service_error()
            .is_some_and(|e| e.is_entity_already_exists_exception()),
        "{e:?}"
    );

    // Rename and move: same user, new name and path.
    let renamed = format!("{name}-renamed");
    root.iam
        .update_user()
        .user_name(&name)
        .new_user_name(&renamed)
        .new_path("/moved/")
        .send()
        .await
        .expect("UpdateUser");
    let e = root
        .iam
        .get_user()
        .user_name(&name)
        .send()
        .await
        .expect_err("the old name is gone");
    assert!(
        e.as_service_error()
            .is_some_and(|e| e.is_no_such_entity_exception())
    );
    let moved = root
        .iam
        .get_user()
        .user_name(&renamed)
        .send()
        .await
        .expect("GetUser renamed")
        .user
        .expect("user");
    assert_eq!(moved.user_id(), created.user_id());
    assert_eq!(moved.path(), "/moved/");

    root.iam
        .delete_user()
        .user_name(&renamed)
        .send()
        .await
        .expect("DeleteUser");
    let e = root
        .iam
        .get_user()
        .user_name(&renamed)
        .send()
        .await
        .expect_err("deleted");
    assert!(
        e.as_service_error()
            .is_some_and(|e| e.is_no_such_entity_exception())
    );
    let e = root
        .iam
        .delete_user()
        .user_name(&renamed)
        .send()
        .await
        .expect_err("deleted twice");
    assert!(
        e.as_service_error()
            .is_some_and(|e| e.is_no_such_entity_exception())
    );
}

#[tokio::test]
async fn invalid_names_are_validation_errors() {
    let root = root().await;
    let e = root
        .iam
        .create_user()
        .user_name("not a valid name!")
        .send()
        .await
        .expect_err("pattern");
    assert_eq!(code_of(&e).as_deref(), Some("ValidationError"), "{e:?}");
    let e = root
        .iam
        .create_user()
        .user_name("x".repeat(65))
        .send()
        .await
        .expect_err("length");
    assert_eq!(code_of(&e).as_deref(), Some("ValidationError"), "{e:?}");
}

#[tokio::test]
async fn tags() {
    let root = root().await;
    let name = unique("sdk-tags");
    root.iam
        .create_user()
        .user_name(&name)
        .send()
        .await
        .expect("CreateUser");
    root.iam
        .tag_user()
        .user_name(&name)
        .tags(tag("b", "2"))
        .tags(tag("a", "1"))
        .send()
        .await
        .expect("TagUser");
    // A tag key is unique: tagging it again replaces its value.
    root.iam
        .tag_user()
        .user_name(&name)
        .tags(tag("b", "3"))
        .send()
        .await
        .expect("TagUser again");
    let mut listed: Vec<(String, String)> = root
        .iam
        .list_user_tags()
        .user_name(&name)
        .send()
        .await
        .expect("ListUserTags")
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    listed.sort();
    assert_eq!(listed, [("a".into(), "1".into()), ("b".into(), "3".into())]);
    root.iam
        .untag_user()
        .user_name(&name)
        .tag_keys("a")
        .send()
        .await
        .expect("UntagUser");
    let after = root
        .iam
        .list_user_tags()
        .user_name(&name)
        .send()
        .await
        .expect("ListUserTags");
    assert_eq!(after.tags(), [tag("b", "3")]);

    // At most 50 tags per user.
    let mut too_many = root.iam.tag_user().user_name(&name);
    for i in 0..50 {
        too_many = too_many.tags(tag(&format!("k{i}"), "v"));
    }
    let e = too_many.send().await.expect_err("51 tags");
    assert!(
        e.as_service_error()
            .is_some_and(|e| e.is_limit_exceeded_exception()),
        "{e:?}"
    );
    let e = root
        .iam
        .tag_user()
        .user_name(format!("{name}-missing"))
        .tags(tag("a", "1"))
        .send()
        .await
        .expect_err("no such user");
    assert!(
        e.as_service_error()
            .is_some_and(|e| e.is_no_such_entity_exception())
    );
}

#[tokio::test]
async fn list_users_paginates_with_max_items_and_marker() {
    let root = root().await;
    let path = format!("/{}/", unique("page"));
    let mut names: Vec<String> = (0..5).map(|i| format!("{}-{i}", unique("p"))).collect();
    for name in &names {
        root.iam
            .create_user()
            .user_name(name)
            .path(&path)
            .send()
            .await
            .expect("CreateUser");
    }
    names.sort_by_key(|n| n.to_lowercase());

    // The SDK paginator follows Marker/IsTruncated.
    let mut pages = root
        .iam
        .list_users()
        .path_prefix(&path)
        .max_items(2)
        .into_paginator()
        .send();
    let mut sizes = Vec::new();
    let mut truncated = Vec::new();
    let mut seen = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.expect("ListUsers page");
        sizes.push(page.users().len());
        truncated.push(page.is_truncated());
        assert_eq!(page.marker().is_some(), page.is_truncated());
        seen.extend(page.users().iter().map(|u| u.user_name().to_owned()));
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(truncated, [true, true, false]);
    assert_eq!(seen, names);

    // The item paginator sees the same users.
    let items = root
        .iam
        .list_users()
        .path_prefix(&path)
        .max_items(3)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("items");
    let items: Vec<_> = items.iter().map(|u| u.user_name().to_owned()).collect();
    assert_eq!(items, names);

    // A marker by hand resumes where the first page stopped.
    let first = root
        .iam
        .list_users()
        .path_prefix(&path)
        .max_items(4)
        .send()
        .await
        .expect("first page");
    let rest = root
        .iam
        .list_users()
        .path_prefix(&path)
        .marker(first.marker().expect("a marker"))
        .send()
        .await
        .expect("second page");
    assert!(!rest.is_truncated());
    assert_eq!(
        rest.users()
            .iter()
            .map(|u| u.user_name())
            .collect::<Vec<_>>(),
        [names[4].as_str()]
    );
}

#[tokio::test]
async fn a_user_with_an_access_key_cannot_be_deleted() {
    let root = root().await;
    let name = unique("sdk-conflict");
    root.iam
        .create_user()
        .user_name(&name)
        .send()
        .await
        .expect("CreateUser");
    let key = root
        .iam
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .expect("CreateAccessKey")
        .access_key
        .expect("key");
    let e = root
        .iam
        .delete_user()
        .user_name(&name)
        .send()
        .await
        .expect_err("conflict");
    assert!(
        e.as_service_error()
            .is_some_and(|e| e.is_delete_conflict_exception()),
        "{e:?}"
    );
    root.iam
        .delete_access_key()
        .user_name(&name)
        .access_key_id(key.access_key_id())
        .send()
        .await
        .expect("DeleteAccessKey");
    root.iam
        .delete_user()
        .user_name(&name)
        .send()
        .await
        .expect("DeleteUser once the key is gone");
}
