"""Login profiles, the account password policy, account aliases, the account
summary and GetAccountAuthorizationDetails, through boto3 and the AWS CLI.

The password policy and the alias are account-wide: tests that set them undo
it when they finish (the `password_policy` fixture), so that the rest of the
session sees an account without either.
"""

import json
import urllib.parse

import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID, aws_cli, error_code, unique

STRONG = "Str0ng!Passw0rd"
VIOLATION = "Password does not conform to the account password policy."


@pytest.fixture
def password_policy(iam):
    """set(**params) applies an account password policy; removed afterwards."""

    def set_policy(**params):
        iam.update_account_password_policy(**params)

    yield set_policy
    try:
        iam.delete_account_password_policy()
    except botocore.exceptions.ClientError as e:
        assert error_code_of(e) == "NoSuchEntity"


def error_code_of(e):
    return e.response["Error"]["Code"]


def fails(code, call, *args, **kwargs):
    """Runs call, which must fail with `code`; returns the error message."""
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call(*args, **kwargs)
    assert error_code(exc) == code, exc.value.response["Error"]
    return exc.value.response["Error"]["Message"]


def new_user(iam, prefix="acct", **kwargs):
    name = unique(prefix)
    iam.create_user(UserName=name, **kwargs)
    return name


# ---------------------------------------------------------------------------
# Login profiles


def test_login_profile_lifecycle(iam):
    name = new_user(iam)
    created = iam.create_login_profile(UserName=name, Password=STRONG, PasswordResetRequired=True)["LoginProfile"]
    assert created["UserName"] == name
    assert created["PasswordResetRequired"] is True
    assert created["CreateDate"].tzinfo is not None

    got = iam.get_login_profile(UserName=name)["LoginProfile"]
    assert got["UserName"] == name
    assert got["CreateDate"] == created["CreateDate"]
    assert got["PasswordResetRequired"] is True

    iam.update_login_profile(UserName=name, Password="An0ther!Passw0rd", PasswordResetRequired=False)
    got = iam.get_login_profile(UserName=name)["LoginProfile"]
    # AWS leaves PasswordResetRequired out unless it is set.
    assert "PasswordResetRequired" not in got
    assert got["CreateDate"] == created["CreateDate"]

    # A user with a password cannot be deleted.
    fails("DeleteConflict", iam.delete_user, UserName=name)
    iam.delete_login_profile(UserName=name)
    fails("NoSuchEntity", iam.get_login_profile, UserName=name)
    iam.delete_user(UserName=name)


def test_login_profile_errors(iam):
    missing = unique("ghost")
    assert f"{missing}" in fails("NoSuchEntity", iam.create_login_profile, UserName=missing, Password=STRONG)
    name = new_user(iam)
    assert fails("NoSuchEntity", iam.get_login_profile, UserName=name) == f"Login Profile for User {name} cannot be found."
    fails("NoSuchEntity", iam.update_login_profile, UserName=name, Password=STRONG)
    fails("NoSuchEntity", iam.update_login_profile, UserName=name, PasswordResetRequired=True)
    fails("NoSuchEntity", iam.delete_login_profile, UserName=name)
    # The model lets SDKs omit Password (for AssumeRoot sessions only).
    msg = fails("ValidationError", iam.create_login_profile, UserName=name)
    assert "'password'" in msg
    iam.create_login_profile(UserName=name, Password=STRONG)
    fails("EntityAlreadyExists", iam.create_login_profile, UserName=name, Password=STRONG)
    # Names are case-insensitive.
    assert iam.get_login_profile(UserName=name.upper())["LoginProfile"]["UserName"] == name
    iam.delete_login_profile(UserName=name)


def test_the_default_policy_applies_without_an_account_policy(iam):
    fails("NoSuchEntity", iam.get_account_password_policy)
    name = new_user(iam)
    for weak in ["Sh0rt!", "alllowercase", "lowercase1234"]:
        msg = fails("PasswordPolicyViolation", iam.create_login_profile, UserName=name, Password=weak)
        assert msg.startswith(VIOLATION), msg
    # Three classes of four and eight characters pass.
    iam.create_login_profile(UserName=name, Password="abcDEF12")
    iam.delete_login_profile(UserName=name)


def test_custom_policy_is_enforced_rule_by_rule(iam, password_policy):
    password_policy(
        MinimumPasswordLength=12,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
    )
    name = new_user(iam)
    cases = {
        "Ab1!abcdefg": "12 characters",
        "ab1!abcdefgh": "uppercase",
        "AB1!ABCDEFGH": "lowercase",
        "Ab!!abcdefgh": "number",
        "Ab12abcdefgh": "non-alphanumeric",
    }
    for password, rule in cases.items():
        msg = fails("PasswordPolicyViolation", iam.create_login_profile, UserName=name, Password=password)
        assert msg.startswith(VIOLATION) and rule in msg, msg
    iam.create_login_profile(UserName=name, Password="Ab1!abcdefgh")
    # Resets by an administrator obey the policy too.
    fails("PasswordPolicyViolation", iam.update_login_profile, UserName=name, Password="short")
    iam.update_login_profile(UserName=name, Password="Zz9]zzzzzzzz")
    iam.delete_login_profile(UserName=name)


# ---------------------------------------------------------------------------
# Account password policy


def test_password_policy_get_update_delete(iam, password_policy):
    fails("NoSuchEntity", iam.get_account_password_policy)
    password_policy(MinimumPasswordLength=8, RequireNumbers=True)
    p = iam.get_account_password_policy()["PasswordPolicy"]
    assert p["MinimumPasswordLength"] == 8
    assert p["RequireNumbers"] is True
    for flag in ["RequireSymbols", "RequireUppercaseCharacters", "RequireLowercaseCharacters",
                 "AllowUsersToChangePassword", "ExpirePasswords", "HardExpiry"]:
        assert p[flag] is False, flag
    assert "MaxPasswordAge" not in p and "PasswordReusePrevention" not in p

    password_policy(MaxPasswordAge=90, PasswordReusePrevention=5, HardExpiry=True, AllowUsersToChangePassword=True)
    p = iam.get_account_password_policy()["PasswordPolicy"]
    assert p["MaxPasswordAge"] == 90 and p["ExpirePasswords"] is True
    assert p["PasswordReusePrevention"] == 5
    assert p["HardExpiry"] is True and p["AllowUsersToChangePassword"] is True
    # No partial updates: what is left out returns to its default.
    assert p["MinimumPasswordLength"] == 6 and p["RequireNumbers"] is False

    # Out of the model's ranges (boto3 checks only minimums itself).
    assert "minimumPasswordLength" in fails("ValidationError", iam.update_account_password_policy,
                                            MinimumPasswordLength=129)
    fails("ValidationError", iam.update_account_password_policy, PasswordReusePrevention=25)

    iam.delete_account_password_policy()
    msg = fails("NoSuchEntity", iam.get_account_password_policy)
    assert msg == f"The Password Policy with domain name {ACCOUNT_ID} cannot be found."
    fails("NoSuchEntity", iam.delete_account_password_policy)


def test_password_policy_with_the_aws_cli(server, password_policy):
    password_policy()  # registers the clean-up
    aws_cli(server, "iam", "update-account-password-policy", "--minimum-password-length", "10",
            "--require-symbols", "--max-password-age", "30")
    _, out = aws_cli(server, "iam", "get-account-password-policy")
    p = out["PasswordPolicy"]
    assert p["MinimumPasswordLength"] == 10 and p["RequireSymbols"] is True and p["MaxPasswordAge"] == 30


# ---------------------------------------------------------------------------
# ChangePassword


def user_with_password(iam, make_user, policy=None, password=STRONG, reset=False):
    user = make_user(policy)
    iam.create_login_profile(UserName=user.name, Password=password, PasswordResetRequired=reset)
    return user


def test_change_password_when_the_account_allows_it(iam, make_user, password_policy):
    password_policy(AllowUsersToChangePassword=True, MinimumPasswordLength=10, PasswordReusePrevention=1)
    user = user_with_password(iam, make_user, reset=True)
    # The account setting is the only grant this user has.
    assert iam.list_user_policies(UserName=user.name)["PolicyNames"] == []
    assert user.iam.get_account_password_policy()["PasswordPolicy"]["AllowUsersToChangePassword"] is True

    assert fails("InvalidUserType", user.iam.change_password, OldPassword="Wr0ng!Password",
                 NewPassword="N3w!Password") == "The old password is incorrect."
    msg = fails("PasswordPolicyViolation", user.iam.change_password, OldPassword=STRONG, NewPassword="Sh0rt!")
    assert msg.startswith(VIOLATION)
    msg = fails("PasswordPolicyViolation", user.iam.change_password, OldPassword=STRONG, NewPassword=STRONG)
    assert "reus" in msg

    user.iam.change_password(OldPassword=STRONG, NewPassword="N3w!Password")
    # Choosing a new password clears the reset requirement.
    assert "PasswordResetRequired" not in iam.get_login_profile(UserName=user.name)["LoginProfile"]
    # The old one no longer verifies; the new one does.
    fails("InvalidUserType", user.iam.change_password, OldPassword=STRONG, NewPassword="Th1rd!Password")
    user.iam.change_password(OldPassword="N3w!Password", NewPassword="Th1rd!Password")

    # The grant covers the user's own password only.
    fails("AccessDenied", user.iam.update_login_profile, UserName=user.name, Password="F0urth!Password")


def test_change_password_needs_a_grant(iam, make_user, password_policy):
    password_policy(AllowUsersToChangePassword=False)
    plain = user_with_password(iam, make_user)
    msg = fails("AccessDenied", plain.iam.change_password, OldPassword=STRONG, NewPassword="N3w!Password")
    assert "iam:ChangePassword" in msg
    fails("AccessDenied", plain.iam.get_account_password_policy)

    allowed = user_with_password(iam, make_user, {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:ChangePassword",
                       "Resource": "arn:aws:iam::*:user/${aws:username}"}],
    })
    allowed.iam.change_password(OldPassword=STRONG, NewPassword="N3w!Password")

    # An explicit deny beats the account's grant.
    password_policy(AllowUsersToChangePassword=True)
    denied = user_with_password(iam, make_user, {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:ChangePassword", "Resource": "*"}],
    })
    assert "explicit deny" in fails("AccessDenied", denied.iam.change_password, OldPassword=STRONG,
                                    NewPassword="N3w!Password")


def test_change_password_errors(iam, make_user, password_policy):
    password_policy(AllowUsersToChangePassword=True)
    no_profile = make_user()
    fails("NoSuchEntity", no_profile.iam.change_password, OldPassword=STRONG, NewPassword="N3w!Password")
    # The root user has no IAM password to change.
    fails("InvalidUserType", iam.change_password, OldPassword=STRONG, NewPassword="N3w!Password")


def test_login_profiles_with_the_aws_cli(server, iam):
    name = new_user(iam)
    _, out = aws_cli(server, "iam", "create-login-profile", "--user-name", name, "--password", STRONG,
                     "--password-reset-required")
    assert out["LoginProfile"]["UserName"] == name and out["LoginProfile"]["PasswordResetRequired"] is True
    code, err = aws_cli(server, "iam", "update-login-profile", "--user-name", name, "--password", "weak",
                        check=False)
    assert code != 0 and "PasswordPolicyViolation" in err
    iam.delete_login_profile(UserName=name)


# ---------------------------------------------------------------------------
# Aliases


def test_account_alias_lifecycle(iam, server):
    assert iam.list_account_aliases()["AccountAliases"] == []
    alias = unique("portcullis").lower()
    iam.create_account_alias(AccountAlias=alias)
    listed = iam.list_account_aliases()
    assert listed["AccountAliases"] == [alias] and listed["IsTruncated"] is False
    # An account has one alias: a new one replaces it.
    other = unique("portcullis").lower()
    iam.create_account_alias(AccountAlias=other)
    assert iam.list_account_aliases()["AccountAliases"] == [other]
    _, out = aws_cli(server, "iam", "list-account-aliases")
    assert out["AccountAliases"] == [other]

    fails("NoSuchEntity", iam.delete_account_alias, AccountAlias=alias)
    iam.delete_account_alias(AccountAlias=other)
    assert iam.list_account_aliases()["AccountAliases"] == []


def test_account_alias_validation(iam):
    for bad in ["Upper-Case", "two--hyphens", "-leading", "trailing-", "a" * 64]:
        msg = fails("ValidationError", iam.create_account_alias, AccountAlias=bad)
        assert "accountAlias" in msg, msg
    assert iam.list_account_aliases()["AccountAliases"] == []


# ---------------------------------------------------------------------------
# Summary


def test_account_summary_counts_and_quotas(iam, server):
    keys = {
        "Users", "UsersQuota", "Groups", "GroupsQuota", "ServerCertificates", "ServerCertificatesQuota",
        "UserPolicySizeQuota", "GroupPolicySizeQuota", "GroupsPerUserQuota", "SigningCertificatesPerUserQuota",
        "AccessKeysPerUserQuota", "MFADevices", "MFADevicesInUse", "AccountMFAEnabled", "AccountAccessKeysPresent",
        "AccountPasswordPresent", "AccountSigningCertificatesPresent", "AttachedPoliciesPerGroupQuota",
        "AttachedPoliciesPerRoleQuota", "AttachedPoliciesPerUserQuota", "Policies", "PoliciesQuota",
        "PolicySizeQuota", "PolicyVersionsInUse", "PolicyVersionsInUseQuota", "VersionsPerPolicyQuota",
        "GlobalEndpointTokenVersion", "AssumeRolePolicySizeQuota", "InstanceProfiles", "InstanceProfilesQuota",
        "Providers", "RolePolicySizeQuota", "Roles", "RolesQuota",
    }
    before = iam.get_account_summary()["SummaryMap"]
    assert set(before) == keys
    assert before["AccessKeysPerUserQuota"] == 2
    assert before["VersionsPerPolicyQuota"] == 5
    assert before["PolicySizeQuota"] == 6144
    assert before["UserPolicySizeQuota"] == 2048
    # The root user's keys come from the environment.
    assert before["AccountAccessKeysPresent"] == 1

    user = new_user(iam)
    group = unique("grp")
    iam.create_group(GroupName=group)
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                                                              "Resource": "*"}]})
    arn = iam.create_policy(PolicyName=unique("pol"), PolicyDocument=doc)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    after = iam.get_account_summary()["SummaryMap"]
    assert after["Users"] == before["Users"] + 1
    assert after["Groups"] == before["Groups"] + 1
    assert after["Policies"] == before["Policies"] + 1
    assert after["PolicyVersionsInUse"] == before["PolicyVersionsInUse"] + 2

    _, out = aws_cli(server, "iam", "get-account-summary")
    assert out["SummaryMap"]["Users"] == after["Users"]

    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.delete_user(UserName=user)
    iam.delete_group(GroupName=group)
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    iam.delete_policy(PolicyArn=arn)
    final = iam.get_account_summary()["SummaryMap"]
    for key in ["Users", "Groups", "Policies", "PolicyVersionsInUse"]:
        assert final[key] == before[key], key


# ---------------------------------------------------------------------------
# Authorization details


def raw_bodies(client, operation):
    """Collects the raw XML bodies of `operation`'s responses."""
    bodies = []

    def keep(http_response, **_):
        bodies.append(http_response.content.decode())

    client.meta.events.register(f"after-call.iam.{operation}", keep)
    return bodies


def everything(iam, **kwargs):
    """Every page of GetAccountAuthorizationDetails, merged."""
    merged = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    pages = 0
    for page in iam.get_paginator("get_account_authorization_details").paginate(**kwargs):
        pages += 1
        for k in merged:
            merged[k].extend(page.get(k, []))
    return merged, pages


def test_authorization_details_describe_users_groups_and_policies(iam):
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                   "Resource": "arn:aws:s3:::bucket/*"}]}
    user = new_user(iam, Tags=[{"Key": "team", "Value": "blue"}])
    group = unique("grp")
    iam.create_group(GroupName=group, Path="/eng/")
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="own", PolicyDocument=json.dumps(doc))
    iam.put_group_policy(GroupName=group, PolicyName="shared", PolicyDocument=json.dumps(doc))
    policy_name = unique("pol")
    arn = iam.create_policy(PolicyName=policy_name, PolicyDocument=json.dumps(doc),
                            Description="details test")["Policy"]["Arn"]
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")

    details, _ = everything(iam)
    [u] = [d for d in details["UserDetailList"] if d["UserName"] == user]
    assert u["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{user}"
    assert u["GroupList"] == [group]
    assert u["UserPolicyList"] == [{"PolicyName": "own", "PolicyDocument": doc}]
    assert u["AttachedManagedPolicies"] == [{"PolicyName": policy_name, "PolicyArn": arn}]
    assert u["Tags"] == [{"Key": "team", "Value": "blue"}]
    [g] = [d for d in details["GroupDetailList"] if d["GroupName"] == group]
    assert g["Path"] == "/eng/"
    assert g["GroupPolicyList"] == [{"PolicyName": "shared", "PolicyDocument": doc}]
    assert g["AttachedManagedPolicies"] == [{"PolicyName": "ReadOnlyAccess",
                                             "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    [p] = [d for d in details["Policies"] if d["Arn"] == arn]
    assert p["AttachmentCount"] == 1 and p["IsAttachable"] is True and p["Description"] == "details test"
    [v1] = p["PolicyVersionList"]
    assert v1["Document"] == doc and v1["VersionId"] == "v1" and v1["IsDefaultVersion"] is True
    # Only the AWS managed policies in use are listed.
    aws_listed = [d["PolicyName"] for d in details["Policies"] if d["Arn"].startswith("arn:aws:iam::aws:")]
    assert "ReadOnlyAccess" in aws_listed and "AdministratorAccess" not in aws_listed

    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.detach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.delete_group_policy(GroupName=group, PolicyName="shared")
    iam.delete_user_policy(UserName=user, PolicyName="own")
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)
    iam.delete_policy(PolicyArn=arn)


def test_authorization_details_documents_are_url_encoded_on_the_wire(iam):
    user = new_user(iam)
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    bodies = raw_bodies(iam, "GetAccountAuthorizationDetails")
    iam.get_account_authorization_details(Filter=["User"], MaxItems=1000)
    body = bodies[-1]
    assert '{"Version"' not in body
    assert urllib.parse.quote('{"Version": "2012-10-17"', safe="") in body
    iam.delete_user_policy(UserName=user, PolicyName="p")
    iam.delete_user(UserName=user)


def test_authorization_details_filter_and_pagination(iam):
    users = [new_user(iam, "page") for _ in range(3)]
    whole = iam.get_account_authorization_details(MaxItems=1000)
    assert whole["IsTruncated"] is False
    only_users = iam.get_account_authorization_details(Filter=["User"], MaxItems=1000)
    assert "GroupDetailList" not in only_users and "Policies" not in only_users
    assert [u["UserName"] for u in only_users["UserDetailList"]] == \
        [u["UserName"] for u in whole["UserDetailList"]]
    for name in users:
        assert name in [u["UserName"] for u in only_users["UserDetailList"]]

    # Pages of two across every section add up to the whole.
    merged, pages = everything(iam, PaginationConfig={"PageSize": 2})
    total = sum(len(whole.get(k, [])) for k in merged)
    assert pages >= (total + 1) // 2
    for k in merged:
        assert [json.dumps(x, sort_keys=True, default=str) for x in merged[k]] == \
            [json.dumps(x, sort_keys=True, default=str) for x in whole.get(k, [])], k

    first = iam.get_account_authorization_details(Filter=["User"], MaxItems=1)
    assert first["IsTruncated"] is True and len(first["UserDetailList"]) == 1
    second = iam.get_account_authorization_details(Filter=["User"], MaxItems=1, Marker=first["Marker"])
    assert second["UserDetailList"][0]["UserName"] != first["UserDetailList"][0]["UserName"]

    fails("InvalidInput", iam.get_account_authorization_details, Marker="not-a-marker")
    fails("ValidationError", iam.get_account_authorization_details, Filter=["Users"])
    for name in users:
        iam.delete_user(UserName=name)


def test_authorization_details_need_permission(make_user):
    user = make_user()
    msg = fails("AccessDenied", user.iam.get_account_authorization_details)
    assert "iam:GetAccountAuthorizationDetails" in msg
    allowed = make_user({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:GetAccountAuthorizationDetails", "iam:GetAccountSummary"],
         "Resource": "*"}]})
    assert allowed.name in [u["UserName"] for u in
                            allowed.iam.get_account_authorization_details(Filter=["User"],
                                                                          MaxItems=1000)["UserDetailList"]]
    assert allowed.iam.get_account_summary()["SummaryMap"]["Users"] >= 2
