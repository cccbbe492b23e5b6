//! ARNs of IAM entities.
//!
//! The store computes every entity's ARN once, at creation, and keeps it: an ARN is what
//! policies, attachments and tools refer to, so it must be exactly AWS's text
//! (`arn:aws:iam::123456789012:user/division/alice`). The path always starts and ends with `/`
//! (the server validates that); the root path `/` adds nothing between the kind and the name.

/// The partition every Portcullis ARN lives in. Tools (the CLI, Terraform) parse ARNs and expect
/// `aws`; a self-hosted deployment has no reason to differ.
pub const PARTITION: &str = "aws";

/// Prefix of AWS managed policy ARNs (`arn:aws:iam::aws:policy/…`). Attachments of such ARNs
/// are stored; their documents live in the server.
pub const AWS_MANAGED_POLICY_PREFIX: &str = "arn:aws:iam::aws:policy/";

/// `arn:aws:iam::ACCOUNT:KIND/PATH/NAME` for a kind that has a path (user, group, role, policy,
/// instance-profile, mfa).
pub fn iam_arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:{PARTITION}:iam::{account}:{kind}{path}{name}")
}

/// ARN of an IAM user.
pub fn user_arn(account: &str, path: &str, name: &str) -> String {
    iam_arn(account, "user", path, name)
}

/// ARN of an IAM group.
pub fn group_arn(account: &str, path: &str, name: &str) -> String {
    iam_arn(account, "group", path, name)
}

/// ARN of an IAM role.
pub fn role_arn(account: &str, path: &str, name: &str) -> String {
    iam_arn(account, "role", path, name)
}

/// ARN of a customer managed policy.
pub fn policy_arn(account: &str, path: &str, name: &str) -> String {
    iam_arn(account, "policy", path, name)
}

/// ARN of an instance profile.
pub fn instance_profile_arn(account: &str, path: &str, name: &str) -> String {
    iam_arn(account, "instance-profile", path, name)
}

/// Serial number (an ARN) of a virtual MFA device.
pub fn mfa_arn(account: &str, path: &str, name: &str) -> String {
    iam_arn(account, "mfa", path, name)
}

/// ARN of the account's root identity.
pub fn root_arn(account: &str) -> String {
    format!("arn:{PARTITION}:iam::{account}:root")
}

/// ARN of an OIDC provider; `url` is the issuer URL without its `https://` scheme, as AWS keeps
/// it.
pub fn oidc_provider_arn(account: &str, url: &str) -> String {
    let host_path = url.strip_prefix("https://").unwrap_or(url);
    format!("arn:{PARTITION}:iam::{account}:oidc-provider/{host_path}")
}

/// ARN of a SAML provider.
pub fn saml_provider_arn(account: &str, name: &str) -> String {
    format!("arn:{PARTITION}:iam::{account}:saml-provider/{name}")
}

/// Whether a policy ARN names an AWS managed policy (stored as an attachment only).
pub fn is_aws_managed_policy(arn: &str) -> bool {
    arn.starts_with(AWS_MANAGED_POLICY_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_follow_aws_format() {
        assert_eq!(
            user_arn("123456789012", "/", "alice"),
            "arn:aws:iam::123456789012:user/alice"
        );
        assert_eq!(
            user_arn("123456789012", "/division_abc/engineering/", "bob"),
            "arn:aws:iam::123456789012:user/division_abc/engineering/bob"
        );
        assert_eq!(
            role_arn("123456789012", "/service-role/", "R"),
            "arn:aws:iam::123456789012:role/service-role/R"
        );
        assert_eq!(
            instance_profile_arn("123456789012", "/", "web"),
            "arn:aws:iam::123456789012:instance-profile/web"
        );
        assert_eq!(root_arn("123456789012"), "arn:aws:iam::123456789012:root");
        assert_eq!(
            oidc_provider_arn("123456789012", "https://token.example.com/x"),
            "arn:aws:iam::123456789012:oidc-provider/token.example.com/x"
        );
        assert_eq!(
            saml_provider_arn("123456789012", "Okta"),
            "arn:aws:iam::123456789012:saml-provider/Okta"
        );
        assert!(is_aws_managed_policy(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
        assert!(!is_aws_managed_policy(
            "arn:aws:iam::123456789012:policy/Mine"
        ));
    }
}
