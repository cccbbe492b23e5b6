"""Instance profiles with real clients: one role at most, the role's
profiles, tags, delete conflicts, pagination and the AWS CLI."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, aws_cli, error_code, unique

EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def message(exc_info):
    return exc_info.value.response["Error"]["Message"]


def make_role(iam):
    name = unique("ec2-role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    return name


def test_create_get_and_names_unique_case_insensitively(iam):
    name = unique("ip")
    created = iam.create_instance_profile(
        InstanceProfileName=name, Path="/web/", Tags=[{"Key": "tier", "Value": "web"}]
    )["InstanceProfile"]
    assert created["InstanceProfileName"] == name
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/web/{name}"
    assert created["InstanceProfileId"].startswith("AIPA") and len(created["InstanceProfileId"]) == 21
    assert created["Path"] == "/web/"
    assert created["Roles"] == []
    assert created["Tags"] == [{"Key": "tier", "Value": "web"}]

    got = iam.get_instance_profile(InstanceProfileName=name.upper())["InstanceProfile"]
    assert got["InstanceProfileId"] == created["InstanceProfileId"]
    assert got["Tags"] == [{"Key": "tier", "Value": "web"}]

    with pytest.raises(ClientError) as e:
        iam.create_instance_profile(InstanceProfileName=name.upper())
    assert error_code(e) == "EntityAlreadyExists"
    missing = unique("missing")
    with pytest.raises(ClientError) as e:
        iam.get_instance_profile(InstanceProfileName=missing)
    assert error_code(e) == "NoSuchEntity"
    assert message(e) == f"Instance Profile {missing} cannot be found."
    with pytest.raises(ClientError) as e:
        iam.delete_instance_profile(InstanceProfileName=missing)
    assert error_code(e) == "NoSuchEntity"


def test_a_profile_holds_at_most_one_role(iam):
    profile = unique("ip")
    iam.create_instance_profile(InstanceProfileName=profile)
    role, other = make_role(iam), make_role(iam)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    roles = iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"]
    assert [r["RoleName"] for r in roles] == [role]
    assert roles[0]["AssumeRolePolicyDocument"] == EC2_TRUST
    assert roles[0]["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"

    with pytest.raises(ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=other)
    assert error_code(e) == "LimitExceeded"
    assert message(e) == "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"

    with pytest.raises(ClientError) as e:
        iam.delete_instance_profile(InstanceProfileName=profile)
    assert error_code(e) == "DeleteConflict"
    assert message(e) == "Cannot delete entity, must remove roles from instance profile first."

    with pytest.raises(ClientError) as e:
        iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=other)
    assert error_code(e) == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=unique("missing"))
    assert error_code(e) == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName=unique("missing"), RoleName=role)
    assert error_code(e) == "NoSuchEntity"

    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=role)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=other)
    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=other)
    iam.delete_instance_profile(InstanceProfileName=profile)
    with pytest.raises(ClientError) as e:
        iam.get_instance_profile(InstanceProfileName=profile)
    assert error_code(e) == "NoSuchEntity"


def test_profiles_of_a_role_are_listed_and_paged(iam):
    role = make_role(iam)
    profiles = sorted(unique("ip") for _ in range(3))
    for p in profiles:
        iam.create_instance_profile(InstanceProfileName=p)
        iam.add_role_to_instance_profile(InstanceProfileName=p, RoleName=role)
    first = iam.list_instance_profiles_for_role(RoleName=role, MaxItems=2)
    assert first["IsTruncated"] is True
    assert [p["InstanceProfileName"] for p in first["InstanceProfiles"]] == profiles[:2]
    assert first["InstanceProfiles"][0]["Roles"][0]["RoleName"] == role
    rest = iam.list_instance_profiles_for_role(RoleName=role, Marker=first["Marker"])
    assert rest["IsTruncated"] is False
    assert [p["InstanceProfileName"] for p in rest["InstanceProfiles"]] == profiles[2:]
    with pytest.raises(ClientError) as e:
        iam.list_instance_profiles_for_role(RoleName=unique("missing"))
    assert error_code(e) == "NoSuchEntity"
    assert iam.list_instance_profiles_for_role(RoleName=make_role(iam))["InstanceProfiles"] == []


def test_list_instance_profiles_by_path(iam):
    path = f"/{unique('p')}/"
    names = sorted(unique("ip") for _ in range(3))
    for n in names:
        iam.create_instance_profile(InstanceProfileName=n, Path=path, Tags=[{"Key": "k", "Value": "v"}])
    first = iam.list_instance_profiles(PathPrefix=path, MaxItems=1)
    assert first["IsTruncated"] is True
    assert [p["InstanceProfileName"] for p in first["InstanceProfiles"]] == names[:1]
    assert "Tags" not in first["InstanceProfiles"][0]
    pages = iam.get_paginator("list_instance_profiles").paginate(
        PathPrefix=path, PaginationConfig={"PageSize": 2}
    )
    assert [p["InstanceProfileName"] for page in pages for p in page["InstanceProfiles"]] == names


def test_tags(iam):
    name = unique("ip")
    iam.create_instance_profile(InstanceProfileName=name)
    iam.tag_instance_profile(
        InstanceProfileName=name, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]
    )
    first = iam.list_instance_profile_tags(InstanceProfileName=name, MaxItems=1)
    assert first["Tags"] == [{"Key": "a", "Value": "1"}] and first["IsTruncated"] is True
    rest = iam.list_instance_profile_tags(InstanceProfileName=name, Marker=first["Marker"])
    assert rest["Tags"] == [{"Key": "b", "Value": "2"}] and rest["IsTruncated"] is False
    iam.untag_instance_profile(InstanceProfileName=name, TagKeys=["A"])
    assert iam.list_instance_profile_tags(InstanceProfileName=name)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as e:
        iam.tag_instance_profile(InstanceProfileName=name, Tags=[{"Key": "aws:reserved", "Value": "x"}])
    assert error_code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:
        iam.tag_instance_profile(InstanceProfileName=unique("missing"), Tags=[{"Key": "a", "Value": "1"}])
    assert error_code(e) == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.list_instance_profile_tags(InstanceProfileName=unique("missing"))
    assert error_code(e) == "NoSuchEntity"


def test_a_user_may_only_touch_the_profiles_its_policy_names(iam, make_user):
    mine, theirs = unique("mine"), unique("theirs")
    for n in (mine, theirs):
        iam.create_instance_profile(InstanceProfileName=n)
    user = make_user(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iam:GetInstanceProfile",
                    "Resource": f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{mine}",
                }
            ],
        }
    )
    assert user.iam.get_instance_profile(InstanceProfileName=mine)["InstanceProfile"]["InstanceProfileName"] == mine
    with pytest.raises(ClientError) as e:
        user.iam.get_instance_profile(InstanceProfileName=theirs)
    assert error_code(e) == "AccessDenied"


def test_cli(server, iam):
    role = make_role(iam)
    name = unique("cli-ip")
    _, created = aws_cli(server, "iam", "create-instance-profile", "--instance-profile-name", name)
    assert created["InstanceProfile"]["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{name}"
    aws_cli(server, "iam", "add-role-to-instance-profile", "--instance-profile-name", name, "--role-name", role)
    _, listed = aws_cli(server, "iam", "list-instance-profiles-for-role", "--role-name", role)
    assert [p["InstanceProfileName"] for p in listed["InstanceProfiles"]] == [name]
    assert listed["InstanceProfiles"][0]["Roles"][0]["RoleName"] == role
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=name)
