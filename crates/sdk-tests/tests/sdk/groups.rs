//! Groups and membership.

use crate::harness::{ACCOUNT_ID, make_user, root, unique};

#[tokio::test]
async fn group_lifecycle_and_membership() {
    let root = root().await;
    let name = unique("sdk-group");
    let group = root
        .iam
        .create_group()
        .group_name(&name)
        .path("/teams/")
        .send()
        .await
        .expect("CreateGroup")
        .group
        .expect("group");
    assert!(group.group_id().starts_with("AGPA"), "{}", group.group_id());
    assert_eq!(
        group.arn(),
        format!("arn:aws:iam::{ACCOUNT_ID}:group/teams/{name}")
    );
    assert_service_error!(
        root.iam
            .create_group()
            .group_name(name.to_lowercase().replace("sdk", "SDK"))
            .send()
            .await,
        is_entity_already_exists_exception
    );

    let alice = make_user(&root, "sdk-member", None).await;
    let bob = make_user(&root, "sdk-member", None).await;
    for user in [&alice, &bob] {
        root.iam
            .add_user_to_group()
            .group_name(&name)
            .user_name(&user.name)
            .send()
            .await
            .expect("AddUserToGroup");
    }
    // Adding twice is not an error (AWS answers 200).
    root.iam
        .add_user_to_group()
        .group_name(&name)
        .user_name(&alice.name)
        .send()
        .await
        .expect("AddUserToGroup again");
    assert_service_error!(
        root.iam
            .add_user_to_group()
            .group_name(&name)
            .user_name(format!("{}-missing", alice.name))
            .send()
            .await,
        is_no_such_entity_exception
    );

    let got = root
        .iam
        .get_group()
        .group_name(&name)
        .send()
        .await
        .expect("GetGroup");
    assert_eq!(got.group().map(|g| g.group_id()), Some(group.group_id()));
    let mut members: Vec<_> = got.users().iter().map(|u| u.user_name()).collect();
    members.sort_by_key(|n| n.to_lowercase());
    let mut expected = vec![alice.name.as_str(), bob.name.as_str()];
    expected.sort_by_key(|n| n.to_lowercase());
    assert_eq!(members, expected);

    let of_alice = root
        .iam
        .list_groups_for_user()
        .user_name(&alice.name)
        .send()
        .await
        .expect("ListGroupsForUser");
    assert_eq!(
        of_alice
            .groups()
            .iter()
            .map(|g| g.group_name())
            .collect::<Vec<_>>(),
        [name.as_str()]
    );

    // A group with members cannot be deleted; nor can a member user.
    assert_service_error!(
        root.iam.delete_group().group_name(&name).send().await,
        is_delete_conflict_exception
    );
    for user in [&alice, &bob] {
        root.iam
            .remove_user_from_group()
            .group_name(&name)
            .user_name(&user.name)
            .send()
            .await
            .expect("RemoveUserFromGroup");
    }
    assert_service_error!(
        root.iam
            .remove_user_from_group()
            .group_name(&name)
            .user_name(&alice.name)
            .send()
            .await,
        is_no_such_entity_exception
    );
    let after = root
        .iam
        .list_groups_for_user()
        .user_name(&alice.name)
        .send()
        .await
        .expect("ListGroupsForUser");
    assert!(after.groups().is_empty());

    let renamed = format!("{name}-renamed");
    root.iam
        .update_group()
        .group_name(&name)
        .new_group_name(&renamed)
        .send()
        .await
        .expect("UpdateGroup");
    root.iam
        .delete_group()
        .group_name(&renamed)
        .send()
        .await
        .expect("DeleteGroup");
    assert_service_error!(
        root.iam.get_group().group_name(&renamed).send().await,
        is_no_such_entity_exception
    );
}

#[tokio::test]
async fn list_groups_paginates() {
    let root = root().await;
    let path = format!("/{}/", unique("groups"));
    let mut names: Vec<String> = (0..3).map(|_| unique("g")).collect();
    for name in &names {
        root.iam
            .create_group()
            .group_name(name)
            .path(&path)
            .send()
            .await
            .expect("CreateGroup");
    }
    names.sort_by_key(|n| n.to_lowercase());
    let pages = root
        .iam
        .list_groups()
        .path_prefix(&path)
        .max_items(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("ListGroups pages");
    assert_eq!(
        pages.iter().map(|p| p.groups().len()).collect::<Vec<_>>(),
        [2, 1]
    );
    let seen: Vec<_> = pages
        .iter()
        .flat_map(|p| p.groups())
        .map(|g| g.group_name().to_owned())
        .collect();
    assert_eq!(seen, names);
}
