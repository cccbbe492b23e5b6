//! Login profiles under the account password policy, the account's alias
//! and summary, and the policy simulator.
//!
//! The password policy and the alias are account-wide: one test owns each.

use aws_sdk_iam::types::PolicyEvaluationDecisionType as Decision;

use crate::harness::{allow, make_user, root, unique};

#[tokio::test]
async fn login_profiles_obey_the_password_policy() {
    let root = root().await;
    root.iam
        .update_account_password_policy()
        .minimum_password_length(14)
        .require_numbers(true)
        .require_symbols(true)
        .send()
        .await
        .expect("UpdateAccountPasswordPolicy");
    let user = make_user(&root, "sdk-login", None).await;
    let e = assert_service_error!(
        root.iam
            .create_login_profile()
            .user_name(&user.name)
            .password("short1!")
            .send()
            .await,
        is_password_policy_violation_exception
    );
    assert!(
        crate::harness::message_of(&e).contains("14"),
        "the message names the rule: {e:?}"
    );
    assert_service_error!(
        root.iam
            .create_login_profile()
            .user_name(&user.name)
            .password("longenoughbutnodigits!")
            .send()
            .await,
        is_password_policy_violation_exception
    );
    root.iam
        .create_login_profile()
        .user_name(&user.name)
        .password("Long-enough-1-password!")
        .password_reset_required(true)
        .send()
        .await
        .expect("CreateLoginProfile");
    let profile = root
        .iam
        .get_login_profile()
        .user_name(&user.name)
        .send()
        .await
        .expect("GetLoginProfile")
        .login_profile
        .expect("profile");
    assert_eq!(profile.user_name(), user.name);
    assert!(profile.password_reset_required());
    assert_service_error!(
        root.iam
            .create_login_profile()
            .user_name(&user.name)
            .password("Long-enough-1-password!")
            .send()
            .await,
        is_entity_already_exists_exception
    );
    let policy = root
        .iam
        .get_account_password_policy()
        .send()
        .await
        .expect("GetAccountPasswordPolicy")
        .password_policy
        .expect("policy");
    assert_eq!(policy.minimum_password_length(), Some(14));
    root.iam
        .delete_login_profile()
        .user_name(&user.name)
        .send()
        .await
        .expect("DeleteLoginProfile");
    assert_service_error!(
        root.iam
            .get_login_profile()
            .user_name(&user.name)
            .send()
            .await,
        is_no_such_entity_exception
    );
    root.iam
        .delete_account_password_policy()
        .send()
        .await
        .expect("DeleteAccountPasswordPolicy");
    assert_service_error!(
        root.iam.get_account_password_policy().send().await,
        is_no_such_entity_exception
    );
}

#[tokio::test]
async fn account_alias_and_summary() {
    let root = root().await;
    let alias = unique("sdk-alias").to_lowercase();
    root.iam
        .create_account_alias()
        .account_alias(&alias)
        .send()
        .await
        .expect("CreateAccountAlias");
    let aliases = root
        .iam
        .list_account_aliases()
        .send()
        .await
        .expect("ListAccountAliases");
    assert_eq!(aliases.account_aliases(), [alias.as_str()]);
    assert_error_code!(
        root.iam
            .create_account_alias()
            .account_alias("Not_A_Valid_Alias")
            .send()
            .await,
        "ValidationError"
    );
    root.iam
        .delete_account_alias()
        .account_alias(&alias)
        .send()
        .await
        .expect("DeleteAccountAlias");

    let _user = make_user(&root, "sdk-summary", None).await;
    let summary = root
        .iam
        .get_account_summary()
        .send()
        .await
        .expect("GetAccountSummary");
    let map = summary.summary_map().expect("SummaryMap");
    assert!(map.get(&aws_sdk_iam::types::SummaryKeyType::Users) >= Some(&1));
    assert_eq!(
        map.get(&aws_sdk_iam::types::SummaryKeyType::AccessKeysPerUserQuota),
        Some(&2)
    );
}

#[tokio::test]
async fn the_simulator_agrees_with_enforcement() {
    let root = root().await;
    let document = allow(&["iam:ListUsers"]);
    let out = root
        .iam
        .simulate_custom_policy()
        .policy_input_list(document.to_string())
        .action_names("iam:ListUsers")
        .action_names("iam:ListGroups")
        .send()
        .await
        .expect("SimulateCustomPolicy");
    let decisions: Vec<_> = out
        .evaluation_results()
        .iter()
        .map(|r| (r.eval_action_name(), r.eval_decision().clone()))
        .collect();
    assert_eq!(
        decisions,
        [
            ("iam:ListUsers", Decision::Allowed),
            ("iam:ListGroups", Decision::ImplicitDeny)
        ]
    );
    // The same document enforced on a real user decides the same way.
    let user = make_user(&root, "sdk-simulated", Some(document)).await;
    user.clients
        .iam
        .list_users()
        .max_items(1)
        .send()
        .await
        .expect("allowed, as simulated");
    assert_error_code!(user.clients.iam.list_groups().send().await, "AccessDenied");
    let principal = root
        .iam
        .simulate_principal_policy()
        .policy_source_arn(&user.arn)
        .action_names("iam:ListUsers")
        .action_names("iam:ListGroups")
        .send()
        .await
        .expect("SimulatePrincipalPolicy");
    let decisions: Vec<_> = principal
        .evaluation_results()
        .iter()
        .map(|r| r.eval_decision().clone())
        .collect();
    assert_eq!(decisions, [Decision::Allowed, Decision::ImplicitDeny]);

    assert_service_error!(
        root.iam
            .simulate_custom_policy()
            .policy_input_list(r#"{"Version": "2012-10-17""#)
            .action_names("iam:ListUsers")
            .send()
            .await,
        is_invalid_input_exception
    );
}
