"""Enforcement end to end: signed calls by IAM users, decided by the policies
root gives them through groups, attachments, inline policies and
permissions boundaries; every change visible on the very next call."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, error_code, unique

IAM_READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(*actions, resource="*", **extra):
    return {"Effect": "Allow", "Action": list(actions), "Resource": resource, **extra}


def deny(*actions, resource="*"):
    return {"Effect": "Deny", "Action": list(actions), "Resource": resource}


def denied(fn, *args, **kwargs):
    """Asserts AccessDenied (403) and returns AWS's message."""
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    assert error_code(e) == "AccessDenied", e.value
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return e.value.response["Error"]["Message"]


def user_arn(name):
    return f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"


@pytest.fixture
def group_of(iam):
    """group_of(user, *statements) -> group name: a new group with the user
    in it and, when given, an inline policy of those statements."""

    def make(user, *statements):
        name = unique("authz")
        iam.create_group(GroupName=name)
        if statements:
            iam.put_group_policy(GroupName=name, PolicyName="grant", PolicyDocument=doc(*statements))
        iam.add_user_to_group(GroupName=name, UserName=user.name)
        return name

    return make


def test_allowed_through_a_group_policy(make_user, group_of):
    member, outsider = make_user(), make_user()
    group_of(member, allow("iam:ListUsers", "iam:GetGroup"))
    names = [u["UserName"] for u in member.iam.list_users()["Users"]]
    assert member.name in names
    message = denied(outsider.iam.list_users)
    assert message == (
        f"User: {user_arn(outsider.name)} is not authorized to perform: iam:ListUsers on resource: * "
        "because no identity-based policy allows the iam:ListUsers action"
    )


def test_denied_without_a_policy_for_that_action(make_user):
    user = make_user(json.loads(doc(allow("iam:ListUsers"))))
    user.iam.list_users()
    message = denied(user.iam.list_groups)
    assert "because no identity-based policy allows the iam:ListGroups action" in message
    message = denied(user.iam.get_user, UserName="someone-else")
    assert f"on resource: {user_arn('someone-else')}" in message


def test_explicit_deny_wins_over_allow(make_user, group_of):
    user = make_user(json.loads(doc(allow("iam:*"))))
    user.iam.list_groups()
    group_of(user, deny("iam:ListGroups"))
    message = denied(user.iam.list_groups)
    assert message.endswith("with an explicit deny in an identity-based policy")
    # Everything else the inline policy allows is still allowed.
    user.iam.list_users()


def test_a_permissions_boundary_limits_an_identity_policy(iam, make_user):
    boundary = iam.create_policy(
        PolicyName=unique("boundary"), PolicyDocument=doc(allow("iam:ListUsers", "iam:GetUser"))
    )["Policy"]["Arn"]
    user = make_user(json.loads(doc(allow("iam:*"))))
    user.iam.list_groups()
    iam.put_user_permissions_boundary(UserName=user.name, PermissionsBoundary=boundary)
    user.iam.list_users()
    denied(user.iam.list_groups)
    # The boundary grants nothing by itself: without the identity policy, nothing.
    iam.delete_user_policy(UserName=user.name, PolicyName="inline")
    denied(user.iam.list_users)
    # Removing the boundary restores what the identity policy allows.
    iam.put_user_policy(UserName=user.name, PolicyName="inline", PolicyDocument=doc(allow("iam:*")))
    iam.delete_user_permissions_boundary(UserName=user.name)
    user.iam.list_groups()


def test_a_boundary_denial_names_the_boundary(iam, make_user):
    boundary = iam.create_policy(PolicyName=unique("boundary"), PolicyDocument=doc(allow("iam:ListUsers")))["Policy"]["Arn"]
    user = make_user(json.loads(doc(allow("iam:*"))), PermissionsBoundary=boundary)
    message = denied(user.iam.list_groups)
    assert message.endswith("because no permissions boundary allows the iam:ListGroups action")


def test_an_aws_managed_boundary(iam, make_user):
    user = make_user(json.loads(doc(allow("iam:*"))), PermissionsBoundary=IAM_READ_ONLY)
    user.iam.list_users()
    denied(user.iam.create_group, GroupName=unique("nope"))


def test_revocation_by_detach_is_effective_on_the_next_call(iam, make_user, group_of):
    policy = iam.create_policy(PolicyName=unique("grant"), PolicyDocument=doc(allow("iam:ListGroups")))["Policy"]["Arn"]
    user = make_user()
    group = group_of(user)
    iam.attach_group_policy(GroupName=group, PolicyArn=policy)
    user.iam.list_groups()
    iam.detach_group_policy(GroupName=group, PolicyArn=policy)
    denied(user.iam.list_groups)
    iam.attach_user_policy(UserName=user.name, PolicyArn=policy)
    user.iam.list_groups()
    iam.detach_user_policy(UserName=user.name, PolicyArn=policy)
    denied(user.iam.list_groups)


def test_revocation_by_policy_version_is_effective_on_the_next_call(iam, make_user):
    arn = iam.create_policy(PolicyName=unique("versioned"), PolicyDocument=doc(allow("iam:ListUsers")))["Policy"]["Arn"]
    user = make_user()
    iam.attach_user_policy(UserName=user.name, PolicyArn=arn)
    denied(user.iam.list_groups)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("iam:ListUsers", "iam:ListGroups")), SetAsDefault=True)
    user.iam.list_groups()
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    denied(user.iam.list_groups)
    user.iam.list_users()
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    user.iam.list_groups()
    # Deleting the granting version (after making v1 the default again)
    # takes the grant away at once.
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    denied(user.iam.list_groups)


def test_revocation_by_leaving_the_group_is_effective_on_the_next_call(iam, make_user, group_of):
    user = make_user()
    group = group_of(user, allow("iam:ListUsers"))
    user.iam.list_users()
    iam.remove_user_from_group(GroupName=group, UserName=user.name)
    denied(user.iam.list_users)
    iam.add_user_to_group(GroupName=group, UserName=user.name)
    user.iam.list_users()
    iam.delete_group_policy(GroupName=group, PolicyName="grant")
    denied(user.iam.list_users)


def test_an_attached_aws_managed_policy_grants_what_it_says(iam, make_user):
    user = make_user()
    denied(user.iam.list_users)
    iam.attach_user_policy(UserName=user.name, PolicyArn=IAM_READ_ONLY)
    user.iam.list_users()
    user.iam.get_user(UserName=user.name)
    user.iam.list_policies(Scope="Local", MaxItems=1)
    assert user.iam.get_policy(PolicyArn=ADMIN)["Policy"]["PolicyName"] == "AdministratorAccess"
    message = denied(user.iam.create_group, GroupName=unique("nope"))
    assert "because no identity-based policy allows the iam:CreateGroup action" in message
    denied(user.iam.attach_user_policy, UserName=user.name, PolicyArn=ADMIN)


def test_policy_variables_scope_a_user_to_its_own_resources(iam, make_user):
    own = allow(
        "iam:GetUser", "iam:ListAccessKeys", "iam:ListUserPolicies", "iam:ListGroupsForUser",
        resource=f"arn:aws:iam::{ACCOUNT_ID}:user/${{aws:username}}",
    )
    user, other = make_user(json.loads(doc(own))), make_user()
    assert user.iam.get_user(UserName=user.name)["User"]["UserName"] == user.name
    assert user.iam.get_user()["User"]["UserName"] == user.name
    keys = user.iam.list_access_keys()["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [user.key_id]
    assert user.iam.list_user_policies(UserName=user.name)["PolicyNames"] == ["inline"]
    user.iam.list_groups_for_user(UserName=user.name)
    message = denied(user.iam.get_user, UserName=other.name)
    assert f"on resource: {user_arn(other.name)}" in message
    denied(user.iam.list_access_keys, UserName=other.name)
    denied(user.iam.list_user_policies, UserName=other.name)


def test_time_conditions_see_the_current_time_on_every_call(iam, make_user):
    """aws:CurrentTime and aws:EpochTime are the time of each call (the
    service reads them once a second per worker and shares them between
    the calls of that second)."""
    import time

    now = int(time.time())
    hour_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600))
    in_an_hour = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))
    user = make_user(json.loads(doc(
        allow("iam:ListUsers", Condition={"DateGreaterThan": {"aws:CurrentTime": hour_ago},
                                          "DateLessThan": {"aws:CurrentTime": in_an_hour}}),
        allow("iam:ListGroups", Condition={"NumericGreaterThan": {"aws:EpochTime": str(now - 3600)},
                                           "DateLessThan": {"aws:EpochTime": str(now + 3600)}}),
        allow("iam:ListRoles", Condition={"DateLessThan": {"aws:CurrentTime": hour_ago}}),
        allow("iam:ListPolicies", Condition={"NumericGreaterThan": {"aws:EpochTime": str(now + 3600)}}),
    )))
    for _ in range(3):  # the same second's shared values, then possibly the next's
        user.iam.list_users()
        user.iam.list_groups()
        denied(user.iam.list_roles)
        denied(user.iam.list_policies, Scope="Local")
        time.sleep(0.6)


def test_request_keys_are_each_calls_own(server, iam, make_user):
    """aws:userid, aws:SourceIp, aws:SecureTransport and aws:RequestedRegion
    are the calling request's, even when one worker serves several callers
    in turn (it keeps the value it read last for each key)."""
    import boto3
    from botocore.config import Config

    def user_with(*statements):
        return make_user(json.loads(doc(*statements)))

    local = {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}, "Bool": {"aws:SecureTransport": "false"}}
    first = user_with(allow("iam:ListUsers", Condition=local),
                      allow("iam:ListGroups", Condition={"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}),
                      allow("iam:ListRoles", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))
    second = user_with(allow("iam:ListUsers", "iam:ListGroups"))
    first_id = iam.get_user(UserName=first.name)["User"]["UserId"]
    second_id = iam.get_user(UserName=second.name)["User"]["UserId"]
    by_id = lambda user_id: {"StringEquals": {"aws:userid": user_id}}  # noqa: E731
    iam.put_user_policy(UserName=first.name, PolicyName="own-id", PolicyDocument=doc(
        allow("iam:ListPolicies", Condition=by_id(first_id)),
        allow("iam:ListInstanceProfiles", Condition=by_id(second_id))))
    iam.put_user_policy(UserName=second.name, PolicyName="own-id", PolicyDocument=doc(
        allow("iam:ListPolicies", Condition=by_id(first_id)),
        allow("iam:ListInstanceProfiles", Condition=by_id(second_id))))
    in_ireland = boto3.client("iam", endpoint_url=server.endpoint, region_name="eu-west-1",
                              aws_access_key_id=first.key_id, aws_secret_access_key=first.secret,
                              config=Config(retries={"max_attempts": 1}))
    for _ in range(2):  # alternating callers and regions on the same workers
        first.iam.list_users()
        denied(first.iam.list_groups)
        denied(first.iam.list_roles)
        in_ireland.list_roles()
        denied(first.iam.list_roles)
        first.iam.list_policies(Scope="Local")
        denied(first.iam.list_instance_profiles)
        second.iam.list_instance_profiles()
        denied(second.iam.list_policies, Scope="Local")
        first.iam.list_policies(Scope="Local")


def test_request_tag_conditions_on_create_user(make_user, iam):
    statement = allow(
        "iam:CreateUser", "iam:TagUser",
        Condition={
            "StringEquals": {"aws:RequestTag/team": "blue"},
            "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]},
        },
    )
    user = make_user(json.loads(doc(statement)))
    ok = unique("tagged")
    created = user.iam.create_user(UserName=ok, Tags=[{"Key": "team", "Value": "blue"}])["User"]
    assert created["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert iam.get_user(UserName=ok)["User"]["UserName"] == ok
    denied(user.iam.create_user, UserName=unique("red"), Tags=[{"Key": "team", "Value": "red"}])
    denied(user.iam.create_user, UserName=unique("extra"),
           Tags=[{"Key": "team", "Value": "blue"}, {"Key": "cost", "Value": "1"}])
    denied(user.iam.create_user, UserName=unique("untagged"))


def test_policy_arn_condition_on_attach_user_policy(iam, make_user):
    statement = allow(
        "iam:AttachUserPolicy", "iam:DetachUserPolicy",
        Condition={"ArnEquals": {"iam:PolicyARN": IAM_READ_ONLY}},
    )
    admin = make_user(json.loads(doc(statement)))
    target = make_user()
    admin.iam.attach_user_policy(UserName=target.name, PolicyArn=IAM_READ_ONLY)
    target.iam.list_users()
    message = denied(admin.iam.attach_user_policy, UserName=target.name, PolicyArn=ADMIN)
    assert f"iam:AttachUserPolicy on resource: {user_arn(target.name)}" in message
    assert [a["PolicyArn"] for a in iam.list_attached_user_policies(UserName=target.name)["AttachedPolicies"]] == [IAM_READ_ONLY]
    admin.iam.detach_user_policy(UserName=target.name, PolicyArn=IAM_READ_ONLY)
    denied(target.iam.list_users)


def test_group_management_is_authorised_on_the_group(iam, make_user):
    path = f"/{unique('team')}/"
    statement = allow(
        "iam:CreateGroup", "iam:GetGroup", "iam:AddUserToGroup", "iam:PutGroupPolicy",
        resource=f"arn:aws:iam::{ACCOUNT_ID}:group{path}*",
    )
    manager, member = make_user(json.loads(doc(statement))), make_user()
    group = unique("team")
    manager.iam.create_group(GroupName=group, Path=path)
    manager.iam.add_user_to_group(GroupName=group, UserName=member.name)
    manager.iam.put_group_policy(GroupName=group, PolicyName="grant", PolicyDocument=doc(allow("iam:ListGroups")))
    member.iam.list_groups()
    assert [u["UserName"] for u in manager.iam.get_group(GroupName=group)["Users"]] == [member.name]
    denied(manager.iam.create_group, GroupName=unique("elsewhere"))
    denied(manager.iam.delete_group, GroupName=group)
