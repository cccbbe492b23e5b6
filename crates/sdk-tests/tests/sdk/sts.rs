//! STS: who am I, and temporary credentials used through the SDK.

use crate::harness::{ACCOUNT_ID, allow, clients, code_of, make_user, root, unique};

#[tokio::test]
async fn get_caller_identity_of_root_and_of_a_user() {
    let root = root().await;
    let who = root
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(who.account(), Some(ACCOUNT_ID));
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:iam::{ACCOUNT_ID}:root").as_str())
    );
    assert_eq!(who.user_id(), Some(ACCOUNT_ID));

    let user = make_user(&root, "sdk-gci", None).await;
    let who = user
        .clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(who.arn(), Some(user.arn.as_str()));
    assert!(who.user_id().is_some_and(|id| id.starts_with("AIDA")));

    let info = root
        .sts
        .get_access_key_info()
        .access_key_id(&user.key_id)
        .send()
        .await
        .expect("GetAccessKeyInfo");
    assert_eq!(info.account(), Some(ACCOUNT_ID));
}

#[tokio::test]
async fn session_token_credentials_act_as_the_user() {
    let root = root().await;
    let user = make_user(&root, "sdk-session", Some(allow(&["iam:ListUsers"]))).await;
    let creds = user
        .clients
        .sts
        .get_session_token()
        .duration_seconds(900)
        .send()
        .await
        .expect("GetSessionToken")
        .credentials
        .expect("credentials");
    assert!(creds.access_key_id().starts_with("ASIA"));
    let session = clients(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token()),
    )
    .await;
    let who = session
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with the session");
    assert_eq!(who.arn(), Some(user.arn.as_str()));
    session
        .iam
        .list_users()
        .max_items(1)
        .send()
        .await
        .expect("the user's permissions");
    assert_error_code!(session.iam.list_groups().send().await, "AccessDenied");
    // Without its token, the temporary key is unknown.
    let tokenless = clients(creds.access_key_id(), creds.secret_access_key(), None).await;
    assert_error_code!(
        tokenless.sts.get_caller_identity().send().await,
        "InvalidClientTokenId"
    );
    assert_error_code!(
        user.clients
            .sts
            .get_session_token()
            .duration_seconds(129_601)
            .send()
            .await,
        "ValidationError"
    );
}

#[tokio::test]
async fn assume_role_where_roles_are_implemented() {
    let root = root().await;
    let user = make_user(&root, "sdk-assumer", None).await;
    let role_name = unique("sdk-role");
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": user.arn}, "Action": "sts:AssumeRole"}],
    });
    let created = root
        .iam
        .create_role()
        .role_name(&role_name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await;
    let role = match created {
        Ok(out) => out.role.expect("role"),
        Err(e) if code_of(&e).as_deref() == Some("NotImplemented") => {
            // Straight to stderr, past libtest's capture: a skip must be seen.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED sts::assume_role_where_roles_are_implemented: this build does not \
                 implement CreateRole yet"
            );
            return;
        }
        Err(e) => panic!("CreateRole: {e:?}"),
    };
    assert!(role.role_id().starts_with("AROA"), "{}", role.role_id());
    root.iam
        .put_role_policy()
        .role_name(&role_name)
        .policy_name("inline")
        .policy_document(allow(&["iam:ListRoles"]).to_string())
        .send()
        .await
        .expect("PutRolePolicy");

    let out = user
        .clients
        .sts
        .assume_role()
        .role_arn(role.arn())
        .role_session_name("sdk-session")
        .duration_seconds(900)
        .send()
        .await
        .expect("AssumeRole");
    let assumed = out.assumed_role_user().expect("assumed role user");
    assert_eq!(
        assumed.arn(),
        format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/sdk-session")
    );
    let creds = out.credentials().expect("credentials");
    let session = clients(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token()),
    )
    .await;
    let who = session
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity as the role");
    assert_eq!(who.arn(), Some(assumed.arn()));
    session
        .iam
        .list_roles()
        .max_items(1)
        .send()
        .await
        .expect("the role's permission");
    assert_error_code!(session.iam.list_users().send().await, "AccessDenied");

    // A user the trust policy does not name is refused.
    let stranger = make_user(&root, "sdk-stranger", Some(allow(&["sts:AssumeRole"]))).await;
    assert_error_code!(
        stranger
            .clients
            .sts
            .assume_role()
            .role_arn(role.arn())
            .role_session_name("nope")
            .send()
            .await,
        "AccessDenied"
    );
}
