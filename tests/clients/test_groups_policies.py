"""Groups, managed policies and their versions, attachments, inline policies
and permissions boundaries, driven with unmodified boto3 and the AWS CLI:
success, the AWS errors each operation can return, and pagination."""

import json
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, aws_cli, error_code, unique

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
IAM_READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
AWS_MANAGED_COUNT = 1452


def doc(*actions, effect="Allow", resource="*"):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": list(actions), "Resource": resource}],
    }


def padded_doc(significant, whitespace=0):
    """A valid document of exactly `significant` non-whitespace characters,
    followed by `whitespace` spaces (which IAM does not count)."""
    head = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/'
    tail = '"}]}'
    name = "a" * (significant - len(head) - len(tail))
    assert len(name) > 0
    return head + name + tail + " " * whitespace


def raises(code, fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    assert error_code(e) == code, e.value
    return e.value


def paginate(iam, operation, key, **kwargs):
    """All items of a list through boto3's paginator, and how many pages."""
    pages = list(iam.get_paginator(operation).paginate(**kwargs))
    return [item for page in pages for item in page.get(key, [])], len(pages)


def new_policy(iam, document=None, **kwargs):
    return iam.create_policy(
        PolicyName=unique("pol"), PolicyDocument=json.dumps(document or doc("iam:GetUser")), **kwargs
    )["Policy"]


def new_user(iam, **kwargs):
    name = unique("u")
    iam.create_user(UserName=name, **kwargs)
    return name


def new_group(iam, **kwargs):
    name = unique("g")
    iam.create_group(GroupName=name, **kwargs)
    return name


def raw_body(iam, operation, call):
    """The raw XML of one response, as the server sent it."""
    seen = {}

    def grab(http_response, **_):
        seen["body"] = http_response.content.decode()

    event = f"after-call.iam.{operation}"
    iam.meta.events.register(event, grab)
    try:
        call()
    finally:
        iam.meta.events.unregister(event, grab)
    return seen["body"]


# --------------------------------------------------------------------- groups


def test_group_lifecycle(iam):
    name = unique("grp")
    group = iam.create_group(GroupName=name)["Group"]
    assert group["GroupName"] == name
    assert group["GroupId"].startswith("AGPA") and len(group["GroupId"]) == 21
    assert group["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:group/{name}"
    assert group["Path"] == "/"
    raises("EntityAlreadyExists", iam.create_group, GroupName=name.upper())

    got = iam.get_group(GroupName=name.upper())
    assert got["Group"]["GroupId"] == group["GroupId"]
    assert got["Users"] == [] and got["IsTruncated"] is False

    renamed = name + "-new"
    iam.update_group(GroupName=name, NewGroupName=renamed, NewPath="/eng/")
    raises("NoSuchEntity", iam.get_group, GroupName=name)
    moved = iam.get_group(GroupName=renamed)["Group"]
    assert moved["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:group/eng/{renamed}"
    assert moved["GroupId"] == group["GroupId"]

    iam.delete_group(GroupName=renamed)
    raises("NoSuchEntity", iam.get_group, GroupName=renamed)
    raises("NoSuchEntity", iam.delete_group, GroupName=renamed)
    raises("NoSuchEntity", iam.update_group, GroupName=renamed, NewPath="/x/")


def test_group_errors(iam):
    raises("ValidationError", iam.create_group, GroupName="bad name!")
    raises("ValidationError", iam.create_group, GroupName=unique("g"), Path="no-slashes")
    a, b = new_group(iam), new_group(iam)
    raises("EntityAlreadyExists", iam.update_group, GroupName=a, NewGroupName=b.upper())


def test_list_groups_by_path_with_pagination(iam):
    path = f"/{unique('p')}/"
    names = sorted(new_group(iam, Path=path) for _ in range(5))
    first = iam.list_groups(PathPrefix=path, MaxItems=2)
    assert [g["GroupName"] for g in first["Groups"]] == names[:2]
    assert first["IsTruncated"] is True and first["Marker"]
    second = iam.list_groups(PathPrefix=path, MaxItems=2, Marker=first["Marker"])
    assert [g["GroupName"] for g in second["Groups"]] == names[2:4]
    groups, pages = paginate(iam, "list_groups", "Groups", PathPrefix=path, PaginationConfig={"PageSize": 2})
    assert [g["GroupName"] for g in groups] == names and pages == 3
    assert iam.list_groups(PathPrefix=f"/{unique('none')}/")["Groups"] == []
    raises("InvalidInput", iam.list_groups, Marker="not-a-marker")


def test_membership(iam):
    group, user = new_group(iam), new_user(iam)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)  # idempotent, as in AWS
    members = iam.get_group(GroupName=group)["Users"]
    assert [u["UserName"] for u in members] == [user]
    assert members[0]["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{user}"
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]

    raises("NoSuchEntity", iam.add_user_to_group, GroupName=group + "-x", UserName=user)
    raises("NoSuchEntity", iam.add_user_to_group, GroupName=group, UserName=user + "-x")
    raises("NoSuchEntity", iam.list_groups_for_user, UserName=user + "-x")
    raises("DeleteConflict", iam.delete_group, GroupName=group)

    iam.remove_user_from_group(GroupName=group, UserName=user)
    assert iam.get_group(GroupName=group)["Users"] == []
    assert iam.list_groups_for_user(UserName=user)["Groups"] == []
    raises("NoSuchEntity", iam.remove_user_from_group, GroupName=group, UserName=user)
    iam.delete_group(GroupName=group)


def test_membership_pagination_and_quota(iam):
    group = new_group(iam)
    users = sorted(new_user(iam) for _ in range(3))
    for u in users:
        iam.add_user_to_group(GroupName=group, UserName=u)
    page = iam.get_group(GroupName=group, MaxItems=2)
    assert [u["UserName"] for u in page["Users"]] == users[:2] and page["IsTruncated"]
    rest = iam.get_group(GroupName=group, MaxItems=2, Marker=page["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == users[2:] and not rest["IsTruncated"]

    user = users[0]
    groups = sorted([group] + [new_group(iam) for _ in range(9)])
    for g in groups:
        iam.add_user_to_group(GroupName=g, UserName=user)
    raises("LimitExceeded", iam.add_user_to_group, GroupName=new_group(iam), UserName=user)
    listed, pages = paginate(iam, "list_groups_for_user", "Groups", UserName=user, PaginationConfig={"PageSize": 4})
    assert [g["GroupName"] for g in listed] == groups and pages == 3


def test_delete_group_conflicts_with_its_policies(iam):
    group = new_group(iam)
    iam.put_group_policy(GroupName=group, PolicyName="p", PolicyDocument=json.dumps(doc("iam:GetUser")))
    raises("DeleteConflict", iam.delete_group, GroupName=group)
    iam.delete_group_policy(GroupName=group, PolicyName="p")
    iam.attach_group_policy(GroupName=group, PolicyArn=IAM_READ_ONLY)
    raises("DeleteConflict", iam.delete_group, GroupName=group)
    iam.detach_group_policy(GroupName=group, PolicyArn=IAM_READ_ONLY)
    iam.delete_group(GroupName=group)


def test_groups_with_the_cli(server, iam):
    group, user = unique("cligrp"), new_user(iam)
    _, created = aws_cli(server, "iam", "create-group", "--group-name", group, "--path", "/cli/")
    assert created["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:group/cli/{group}"
    aws_cli(server, "iam", "add-user-to-group", "--group-name", group, "--user-name", user)
    _, got = aws_cli(server, "iam", "get-group", "--group-name", group)
    assert [u["UserName"] for u in got["Users"]] == [user]


# ----------------------------------------------------------- managed policies


def test_create_and_get_policy(iam):
    name = unique("pol")
    created = iam.create_policy(
        PolicyName=name,
        Path="/team/",
        Description="reads users",
        PolicyDocument=json.dumps(doc("iam:GetUser")),
        Tags=[{"Key": "team", "Value": "blue"}],
    )["Policy"]
    arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/team/{name}"
    assert created["Arn"] == arn
    assert created["PolicyId"].startswith("ANPA") and len(created["PolicyId"]) == 21
    assert created["DefaultVersionId"] == "v1"
    assert created["AttachmentCount"] == 0 and created["PermissionsBoundaryUsageCount"] == 0
    assert created["IsAttachable"] is True
    assert created["Tags"] == [{"Key": "team", "Value": "blue"}]

    got = iam.get_policy(PolicyArn=arn)["Policy"]
    assert got["Description"] == "reads users"
    assert got["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert got["CreateDate"] == created["CreateDate"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == doc("iam:GetUser")
    assert version["IsDefaultVersion"] is True

    raises("EntityAlreadyExists", iam.create_policy, PolicyName=name.upper(), PolicyDocument=json.dumps(doc("iam:GetUser")))
    raises("NoSuchEntity", iam.get_policy, PolicyArn=arn + "x")
    raises("NoSuchEntity", iam.get_policy, PolicyArn=f"arn:aws:iam::999999999999:policy/{name}")
    raises("InvalidInput", iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/arn:aws:iam::aws:policy/X")
    raises("InvalidInput", iam.get_policy, PolicyArn=f"arn:aws:iam::{ACCOUNT_ID}:user/{name}")


def test_policy_documents_are_validated(iam):
    err = raises("MalformedPolicyDocument", iam.create_policy, PolicyName=unique("bad"), PolicyDocument="{not json")
    assert "line 1" in str(err)
    # An identity policy names no principal.
    with_principal = doc("iam:GetUser")
    with_principal["Statement"][0]["Principal"] = {"AWS": "*"}
    raises("MalformedPolicyDocument", iam.create_policy, PolicyName=unique("bad"), PolicyDocument=json.dumps(with_principal))
    raises("MalformedPolicyDocument", iam.create_policy, PolicyName=unique("bad"),
           PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}))
    # 6,144 characters, whitespace not counted.
    iam.create_policy(PolicyName=unique("big"), PolicyDocument=padded_doc(6144, whitespace=3000))
    raises("LimitExceeded", iam.create_policy, PolicyName=unique("big"), PolicyDocument=padded_doc(6145))
    raises("ValidationError", iam.create_policy, PolicyName="bad name!", PolicyDocument=json.dumps(doc("iam:GetUser")))


def test_policy_versions(iam):
    arn = new_policy(iam)["Arn"]
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc("iam:ListUsers")))["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"] is False
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    v3 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc("iam:ListGroups")), SetAsDefault=True)
    assert v3["PolicyVersion"]["IsDefaultVersion"] is True
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"

    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [("v3", True), ("v2", False), ("v1", False)]
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]["Document"] == doc("iam:ListUsers")

    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    raises("DeleteConflict", iam.delete_policy_version, PolicyArn=arn, VersionId="v1")
    raises("NoSuchEntity", iam.get_policy_version, PolicyArn=arn, VersionId="v9")
    raises("NoSuchEntity", iam.set_default_policy_version, PolicyArn=arn, VersionId="v9")
    raises("NoSuchEntity", iam.delete_policy_version, PolicyArn=arn, VersionId="v9")
    raises("ValidationError", iam.get_policy_version, PolicyArn=arn, VersionId="version-2")
    raises("MalformedPolicyDocument", iam.create_policy_version, PolicyArn=arn, PolicyDocument="[]")
    raises("NoSuchEntity", iam.create_policy_version, PolicyArn=arn + "x", PolicyDocument=json.dumps(doc("iam:GetUser")))

    # At most five versions; numbers are not reused.
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc("iam:GetGroup")))
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc("iam:GetRole")))
    raises("LimitExceeded", iam.create_policy_version, PolicyArn=arn, PolicyDocument=json.dumps(doc("iam:GetPolicy")))
    versions, pages = paginate(iam, "list_policy_versions", "Versions", PolicyArn=arn, PaginationConfig={"PageSize": 2})
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"] and pages == 3
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    v6 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc("iam:GetPolicy")))["PolicyVersion"]
    assert v6["VersionId"] == "v6"

    raises("DeleteConflict", iam.delete_policy, PolicyArn=arn)
    for v in ["v3", "v4", "v5", "v6"]:
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)
    raises("NoSuchEntity", iam.get_policy, PolicyArn=arn)
    raises("NoSuchEntity", iam.delete_policy, PolicyArn=arn)


def test_policy_tags(iam):
    arn = new_policy(iam)["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}, {"Key": "c", "Value": ""}])
    page = iam.list_policy_tags(PolicyArn=arn, MaxItems=2)
    assert page["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}] and page["IsTruncated"]
    rest = iam.list_policy_tags(PolicyArn=arn, Marker=page["Marker"])
    assert rest["Tags"] == [{"Key": "c", "Value": ""}] and not rest["IsTruncated"]
    iam.untag_policy(PolicyArn=arn, TagKeys=["a", "c", "absent"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "b", "Value": "2"}]
    raises("InvalidInput", iam.tag_policy, PolicyArn=arn, Tags=[{"Key": "aws:x", "Value": "1"}])
    raises("InvalidInput", iam.tag_policy, PolicyArn=arn, Tags=[{"Key": "k", "Value": "1"}, {"Key": "K", "Value": "2"}])
    raises("NoSuchEntity", iam.tag_policy, PolicyArn=arn + "x", Tags=[{"Key": "k", "Value": "1"}])
    raises("NoSuchEntity", iam.list_policy_tags, PolicyArn=arn + "x")
    assert iam.list_policy_tags(PolicyArn=ADMIN)["Tags"] == []


def test_list_local_policies_with_filters_and_pagination(iam):
    path = f"/{unique('lp')}/"
    names = sorted(iam.create_policy(PolicyName=unique("lp"), Path=path, PolicyDocument=json.dumps(doc("iam:GetUser")))["Policy"]["PolicyName"] for _ in range(5))
    listed, pages = paginate(iam, "list_policies", "Policies", Scope="Local", PathPrefix=path, PaginationConfig={"PageSize": 2})
    assert [p["PolicyName"] for p in listed] == names and pages == 3
    assert all("Description" not in p and "Tags" not in p for p in listed)

    attached_arn = f"arn:aws:iam::{ACCOUNT_ID}:policy{path}{names[1]}"
    boundary_arn = f"arn:aws:iam::{ACCOUNT_ID}:policy{path}{names[3]}"
    user = new_user(iam)
    iam.attach_user_policy(UserName=user, PolicyArn=attached_arn)
    new_user(iam, PermissionsBoundary=boundary_arn)
    only = iam.list_policies(Scope="Local", PathPrefix=path, OnlyAttached=True)["Policies"]
    assert [(p["PolicyName"], p["AttachmentCount"]) for p in only] == [(names[1], 1)]
    bounds = iam.list_policies(Scope="Local", PathPrefix=path, PolicyUsageFilter="PermissionsBoundary")["Policies"]
    assert [(p["PolicyName"], p["PermissionsBoundaryUsageCount"]) for p in bounds] == [(names[3], 1)]
    raises("ValidationError", iam.list_policies, Scope="Mine")
    raises("InvalidInput", iam.list_policies, Scope="Local", Marker="garbage")


def test_aws_managed_policies_are_listed_with_scope_aws(iam):
    user = new_user(iam)
    iam.attach_user_policy(UserName=user, PolicyArn=IAM_READ_ONLY)
    listed, pages = paginate(iam, "list_policies", "Policies", Scope="AWS", PaginationConfig={"PageSize": 1000})
    assert len(listed) == AWS_MANAGED_COUNT and pages == 2
    assert len({p["Arn"] for p in listed}) == AWS_MANAGED_COUNT
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in listed)
    by_arn = {p["Arn"]: p for p in listed}
    assert by_arn[ADMIN]["PolicyName"] == "AdministratorAccess"
    assert by_arn[IAM_READ_ONLY]["AttachmentCount"] >= 1
    roles = iam.list_policies(Scope="AWS", PathPrefix="/service-role/")["Policies"]
    assert roles and all(p["Path"] == "/service-role/" for p in roles)
    attached = iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
    assert IAM_READ_ONLY in [p["Arn"] for p in attached]
    assert all(p["AttachmentCount"] > 0 for p in attached)


def test_scope_all_lists_customer_then_aws_policies(iam):
    new_policy(iam)
    local, _ = paginate(iam, "list_policies", "Policies", Scope="Local", PaginationConfig={"PageSize": 1000})
    everything, _ = paginate(iam, "list_policies", "Policies", PaginationConfig={"PageSize": 300})
    arns = [p["Arn"] for p in everything]
    assert len(arns) == len(set(arns)) == len(local) + AWS_MANAGED_COUNT
    assert arns[: len(local)] == [p["Arn"] for p in local]
    assert ADMIN in arns[len(local):]


def test_scope_all_pages_from_customer_into_aws_policies(iam):
    # /job-function/ holds 8 AWS managed policies; two customer ones join them.
    local = sorted(
        iam.create_policy(PolicyName=unique("jf"), Path="/job-function/", PolicyDocument=json.dumps(doc("iam:GetUser")))["Policy"]["Arn"]
        for _ in range(2)
    )
    first = iam.list_policies(PathPrefix="/job-function/", MaxItems=2)
    assert sorted(p["Arn"] for p in first["Policies"]) == local
    assert first["IsTruncated"] is True
    listed, pages = paginate(iam, "list_policies", "Policies", PathPrefix="/job-function/", PaginationConfig={"PageSize": 2})
    arns = [p["Arn"] for p in listed]
    assert pages == 5 and len(arns) == len(set(arns)) == 10
    assert sorted(arns[:2]) == local and all(a.startswith("arn:aws:iam::aws:policy/job-function/") for a in arns[2:])
    only_local = iam.list_policies(Scope="Local", PathPrefix="/job-function/", MaxItems=2)
    assert len(only_local["Policies"]) == 2 and only_local["IsTruncated"] is False
    for arn in local:
        iam.delete_policy(PolicyArn=arn)


def test_aws_managed_policies_are_readable_not_writable(iam):
    got = iam.get_policy(PolicyArn=ADMIN)["Policy"]
    assert got["PolicyName"] == "AdministratorAccess" and got["Path"] == "/"
    assert got["PolicyId"].startswith("ANPA") and got["IsAttachable"] is True
    version = iam.get_policy_version(PolicyArn=ADMIN, VersionId=got["DefaultVersionId"])["PolicyVersion"]
    assert version["Document"]["Statement"][0]["Action"] == "*"
    assert version["IsDefaultVersion"] is True
    listed = iam.list_policy_versions(PolicyArn=ADMIN)["Versions"]
    assert [v["VersionId"] for v in listed] == [got["DefaultVersionId"]]
    raises("NoSuchEntity", iam.get_policy_version, PolicyArn=ADMIN, VersionId="v99")
    raises("NoSuchEntity", iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAtAll")

    for call in [
        lambda: iam.delete_policy(PolicyArn=ADMIN),
        lambda: iam.create_policy_version(PolicyArn=ADMIN, PolicyDocument=json.dumps(doc("iam:GetUser"))),
        lambda: iam.delete_policy_version(PolicyArn=ADMIN, VersionId="v1"),
        lambda: iam.set_default_policy_version(PolicyArn=ADMIN, VersionId="v1"),
        lambda: iam.tag_policy(PolicyArn=ADMIN, Tags=[{"Key": "k", "Value": "v"}]),
        lambda: iam.untag_policy(PolicyArn=ADMIN, TagKeys=["k"]),
    ]:
        err = raises("AccessDenied", call)
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert iam.get_policy(PolicyArn=ADMIN)["Policy"]["DefaultVersionId"] == got["DefaultVersionId"]


def test_entities_for_policy(iam):
    policy = new_policy(iam)
    arn = policy["Arn"]
    path = f"/{unique('ep')}/"
    users = sorted(new_user(iam, Path=path) for _ in range(3))
    groups = sorted(new_group(iam) for _ in range(2))
    for u in users:
        iam.attach_user_policy(UserName=u, PolicyArn=arn)
    for g in groups:
        iam.attach_group_policy(GroupName=g, PolicyArn=arn)
    bounded = new_user(iam, Path=path, PermissionsBoundary=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 5

    every = iam.list_entities_for_policy(PolicyArn=arn)
    assert [g["GroupName"] for g in every["PolicyGroups"]] == groups
    assert [u["UserName"] for u in every["PolicyUsers"]] == users
    assert every["PolicyRoles"] == []
    assert all(u["UserId"].startswith("AIDA") for u in every["PolicyUsers"])
    only_users = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="User")
    assert only_users["PolicyGroups"] == [] and len(only_users["PolicyUsers"]) == 3

    pages = list(iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    assert [g["GroupName"] for p in pages for g in p["PolicyGroups"]] == groups
    assert [u["UserName"] for p in pages for u in p["PolicyUsers"]] == users

    under_path = iam.list_entities_for_policy(PolicyArn=arn, PathPrefix=path)
    assert under_path["PolicyGroups"] == [] and [u["UserName"] for u in under_path["PolicyUsers"]] == users
    paged, n = paginate(iam, "list_entities_for_policy", "PolicyUsers", PolicyArn=arn, PathPrefix=path, PaginationConfig={"PageSize": 2})
    assert [u["UserName"] for u in paged] == users and n == 2

    boundary = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsBoundary")
    assert [u["UserName"] for u in boundary["PolicyUsers"]] == [bounded]
    assert boundary["PolicyGroups"] == []

    raises("NoSuchEntity", iam.list_entities_for_policy, PolicyArn=arn + "x")
    raises("NoSuchEntity", iam.list_entities_for_policy, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAtAll")
    raises("ValidationError", iam.list_entities_for_policy, PolicyArn=arn, EntityFilter="Bucket")


def test_entities_for_an_aws_managed_policy(iam):
    user = new_user(iam)
    iam.attach_user_policy(UserName=user, PolicyArn=READ_ONLY)
    users, _ = paginate(iam, "list_entities_for_policy", "PolicyUsers", PolicyArn=READ_ONLY, EntityFilter="User")
    assert user in [u["UserName"] for u in users]
    assert iam.get_policy(PolicyArn=READ_ONLY)["Policy"]["AttachmentCount"] >= 1


def test_policies_with_the_cli(server):
    name = unique("clipol")
    _, created = aws_cli(server, "iam", "create-policy", "--policy-name", name,
                         "--policy-document", json.dumps(doc("iam:GetUser")))
    assert created["Policy"]["PolicyName"] == name
    _, aws = aws_cli(server, "iam", "list-policies", "--scope", "AWS", "--max-items", "5")
    assert len(aws["Policies"]) == 5 and aws["NextToken"]
    _, admin = aws_cli(server, "iam", "get-policy-version", "--policy-arn", ADMIN, "--version-id", "v1")
    assert admin["PolicyVersion"]["Document"]["Statement"][0]["Action"] == "*"
    rc, err = aws_cli(server, "iam", "delete-policy", "--policy-arn", ADMIN, check=False)
    assert rc != 0 and "AccessDenied" in err


# ---------------------------------------------------------------- attachments


@pytest.mark.parametrize("kind", ["user", "group"])
def test_attachments(iam, kind):
    if kind == "user":
        owner = {"UserName": new_user(iam)}
        attach, detach, listed = iam.attach_user_policy, iam.detach_user_policy, iam.list_attached_user_policies
        op = "list_attached_user_policies"
    else:
        owner = {"GroupName": new_group(iam)}
        attach, detach, listed = iam.attach_group_policy, iam.detach_group_policy, iam.list_attached_group_policies
        op = "list_attached_group_policies"
    custom = new_policy(iam, Path="/mine/")
    attach(PolicyArn=IAM_READ_ONLY, **owner)
    attach(PolicyArn=IAM_READ_ONLY, **owner)  # idempotent
    attach(PolicyArn=custom["Arn"], **owner)
    got = listed(**owner)["AttachedPolicies"]
    assert {(a["PolicyName"], a["PolicyArn"]) for a in got} == {
        ("IAMReadOnlyAccess", IAM_READ_ONLY),
        (custom["PolicyName"], custom["Arn"]),
    }
    assert [a["PolicyArn"] for a in listed(PathPrefix="/mine/", **owner)["AttachedPolicies"]] == [custom["Arn"]]
    assert iam.get_policy(PolicyArn=custom["Arn"])["Policy"]["AttachmentCount"] == 1
    raises("DeleteConflict", iam.delete_policy, PolicyArn=custom["Arn"])

    raises("NoSuchEntity", attach, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAtAll", **owner)
    raises("NoSuchEntity", attach, PolicyArn=custom["Arn"] + "x", **owner)
    raises("InvalidInput", attach, PolicyArn="arn:aws:iam::aws:policy/a:b/c", **owner)
    missing = {k: v + "-missing" for k, v in owner.items()}
    raises("NoSuchEntity", attach, PolicyArn=IAM_READ_ONLY, **missing)
    raises("NoSuchEntity", listed, **missing)

    # At most 10 managed policies per identity.
    more = [new_policy(iam)["Arn"] for _ in range(8)]
    for arn in more:
        attach(PolicyArn=arn, **owner)
    raises("LimitExceeded", attach, PolicyArn=new_policy(iam)["Arn"], **owner)
    all_attached, pages = paginate(iam, op, "AttachedPolicies", PaginationConfig={"PageSize": 4}, **owner)
    assert len(all_attached) == 10 and pages == 3
    assert [a["PolicyArn"] for a in all_attached] == sorted(a["PolicyArn"] for a in all_attached)

    detach(PolicyArn=custom["Arn"], **owner)
    raises("NoSuchEntity", detach, PolicyArn=custom["Arn"], **owner)
    assert iam.get_policy(PolicyArn=custom["Arn"])["Policy"]["AttachmentCount"] == 0


def test_delete_user_conflicts_with_attachments(iam):
    user = new_user(iam)
    iam.attach_user_policy(UserName=user, PolicyArn=IAM_READ_ONLY)
    raises("DeleteConflict", iam.delete_user, UserName=user)
    iam.detach_user_policy(UserName=user, PolicyArn=IAM_READ_ONLY)
    iam.delete_user(UserName=user)


# ------------------------------------------------------------ inline policies


@pytest.mark.parametrize("kind", ["user", "group"])
def test_inline_policies(iam, kind):
    if kind == "user":
        owner = {"UserName": new_user(iam)}
        put, get, delete, names = iam.put_user_policy, iam.get_user_policy, iam.delete_user_policy, iam.list_user_policies
        operation, op = "GetUserPolicy", "list_user_policies"
    else:
        owner = {"GroupName": new_group(iam)}
        put, get, delete, names = iam.put_group_policy, iam.get_group_policy, iam.delete_group_policy, iam.list_group_policies
        operation, op = "GetGroupPolicy", "list_group_policies"
    text = json.dumps(doc("iam:GetUser"), indent=2)
    put(PolicyName="first", PolicyDocument=text, **owner)
    got = get(PolicyName="first", **owner)
    assert got["PolicyName"] == "first" and got["PolicyDocument"] == doc("iam:GetUser")
    assert list(owner.values())[0] in got.values()
    # The document goes out URL-encoded, exactly as it was given.
    body = raw_body(iam, operation, lambda: get(PolicyName="first", **owner))
    assert f"<PolicyDocument>{urllib.parse.quote(text)}</PolicyDocument>" in body

    put(PolicyName="first", PolicyDocument=json.dumps(doc("iam:ListUsers")), **owner)  # replaces
    assert get(PolicyName="first", **owner)["PolicyDocument"] == doc("iam:ListUsers")
    for n in ["b", "a", "c"]:
        put(PolicyName=n, PolicyDocument=json.dumps(doc("iam:GetGroup")), **owner)
    listed, pages = paginate(iam, op, "PolicyNames", PaginationConfig={"PageSize": 2}, **owner)
    assert listed == ["a", "b", "c", "first"] and pages == 2

    delete(PolicyName="a", **owner)
    raises("NoSuchEntity", get, PolicyName="a", **owner)
    raises("NoSuchEntity", delete, PolicyName="a", **owner)
    assert names(**owner)["PolicyNames"] == ["b", "c", "first"]
    raises("MalformedPolicyDocument", put, PolicyName="bad", PolicyDocument='{"Version":"2012-10-17"}', **owner)
    raises("ValidationError", put, PolicyName="bad name", PolicyDocument=json.dumps(doc("iam:GetUser")), **owner)
    missing = {k: v + "-missing" for k, v in owner.items()}
    raises("NoSuchEntity", put, PolicyName="p", PolicyDocument=json.dumps(doc("iam:GetUser")), **missing)
    raises("NoSuchEntity", names, **missing)


@pytest.mark.parametrize("kind,quota", [("user", 2048), ("group", 5120)])
def test_inline_size_quotas_are_per_identity(iam, kind, quota):
    if kind == "user":
        owner, put = {"UserName": new_user(iam)}, iam.put_user_policy
    else:
        owner, put = {"GroupName": new_group(iam)}, iam.put_group_policy
    name = list(owner.values())[0]
    err = raises("LimitExceeded", put, PolicyName="one", PolicyDocument=padded_doc(quota + 1), **owner)
    assert err.response["Error"]["Message"] == f"Maximum policy size of {quota} bytes exceeded for {kind} {name}"
    # Whitespace is not counted.
    put(PolicyName="one", PolicyDocument=padded_doc(quota - 300, whitespace=2000), **owner)
    # The quota covers all inline policies of the identity together...
    err = raises("LimitExceeded", put, PolicyName="two", PolicyDocument=padded_doc(301), **owner)
    assert err.response["Error"]["Message"] == f"Maximum policy size of {quota} bytes exceeded for {kind} {name}"
    put(PolicyName="two", PolicyDocument=padded_doc(300), **owner)
    # ...and a replaced policy no longer counts.
    put(PolicyName="one", PolicyDocument=padded_doc(quota - 300), **owner)


def test_inline_policies_with_the_cli(server, iam):
    user = new_user(iam)
    aws_cli(server, "iam", "put-user-policy", "--user-name", user, "--policy-name", "cli",
            "--policy-document", json.dumps(doc("iam:GetUser")))
    _, got = aws_cli(server, "iam", "get-user-policy", "--user-name", user, "--policy-name", "cli")
    assert got["PolicyDocument"] == doc("iam:GetUser")
    aws_cli(server, "iam", "attach-user-policy", "--user-name", user, "--policy-arn", IAM_READ_ONLY)
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == [
        {"PolicyName": "IAMReadOnlyAccess", "PolicyArn": IAM_READ_ONLY}
    ]


# ------------------------------------------------------ permissions boundaries


def test_user_permissions_boundaries(iam):
    user = new_user(iam)
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=IAM_READ_ONLY)
    assert iam.get_user(UserName=user)["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": IAM_READ_ONLY,
    }
    boundaries = iam.list_policies(Scope="AWS", PolicyUsageFilter="PermissionsBoundary")["Policies"]
    assert IAM_READ_ONLY in [p["Arn"] for p in boundaries]
    assert all(p["PermissionsBoundaryUsageCount"] > 0 for p in boundaries)

    custom = new_policy(iam)["Arn"]
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=custom)
    assert iam.get_user(UserName=user)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == custom
    assert iam.get_policy(PolicyArn=custom)["Policy"]["PermissionsBoundaryUsageCount"] == 1
    raises("DeleteConflict", iam.delete_policy, PolicyArn=custom)

    raises("NoSuchEntity", iam.put_user_permissions_boundary, UserName=user, PermissionsBoundary=custom + "x")
    raises("NoSuchEntity", iam.put_user_permissions_boundary, UserName=user,
           PermissionsBoundary="arn:aws:iam::aws:policy/NoSuchPolicyAtAll")
    raises("NoSuchEntity", iam.put_user_permissions_boundary, UserName=user + "-x", PermissionsBoundary=IAM_READ_ONLY)
    raises("NoSuchEntity", iam.create_user, UserName=unique("u"), PermissionsBoundary=custom + "x")

    iam.delete_user_permissions_boundary(UserName=user)
    assert "PermissionsBoundary" not in iam.get_user(UserName=user)["User"]
    assert iam.get_policy(PolicyArn=custom)["Policy"]["PermissionsBoundaryUsageCount"] == 0
    raises("NoSuchEntity", iam.delete_user_permissions_boundary, UserName=user + "-x")
    iam.delete_policy(PolicyArn=custom)
