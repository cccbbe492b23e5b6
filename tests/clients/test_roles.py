"""Roles with real clients: trust policies (service principals kept, AWS's
validation errors), MaxSessionDuration, tags, inline and attached policies,
permissions boundaries, delete conflicts, pagination and the AWS CLI."""

import json
import time

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, REGION, ROOT_KEY_ID, ROOT_SECRET, aws_cli, error_code, unique

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "secret-ext"}},
        },
    ],
}

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def allow(action, resource="*"):
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}


def message(exc_info):
    return exc_info.value.response["Error"]["Message"]


@pytest.fixture
def role(iam):
    name = unique("role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    return name


def test_create_and_get_keep_the_trust_policy_with_service_principals(iam):
    name = unique("svc")
    created = iam.create_role(
        RoleName=name,
        Path="/service/",
        AssumeRolePolicyDocument=json.dumps(TRUST, indent=2),
        Description="for EC2 and Lambda",
    )["Role"]
    assert created["RoleName"] == name
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/service/{name}"
    assert created["RoleId"].startswith("AROA") and len(created["RoleId"]) == 21
    assert created["AssumeRolePolicyDocument"] == TRUST
    assert "RoleLastUsed" not in created

    got = iam.get_role(RoleName=name.upper())["Role"]
    assert got["RoleName"] == name
    assert got["RoleId"] == created["RoleId"]
    assert got["Path"] == "/service/"
    assert got["Description"] == "for EC2 and Lambda"
    assert got["MaxSessionDuration"] == 3600
    assert got["AssumeRolePolicyDocument"] == TRUST
    assert got["RoleLastUsed"] == {}
    assert got["CreateDate"].tzinfo is not None
    assert "PermissionsBoundary" not in got and "Tags" not in got


def test_names_are_unique_case_insensitively(iam, role):
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName=role.upper(), AssumeRolePolicyDocument=json.dumps(TRUST))
    assert error_code(e) == "EntityAlreadyExists"
    assert message(e) == f"Role with name {role.upper()} already exists."
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_a_missing_role_is_no_such_entity(iam):
    name = unique("missing")
    for call in (
        lambda: iam.get_role(RoleName=name),
        lambda: iam.delete_role(RoleName=name),
        lambda: iam.update_role(RoleName=name, Description="x"),
        lambda: iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(TRUST)),
        lambda: iam.list_role_tags(RoleName=name),
        lambda: iam.list_role_policies(RoleName=name),
        lambda: iam.list_attached_role_policies(RoleName=name),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "NoSuchEntity"
        assert message(e) == f"The role with name {name} cannot be found."
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize(
    "document, code, text",
    [
        (
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]},
            "MalformedPolicyDocument",
            "Missing required field Principal",
        ),
        (
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole", "Resource": "*"}
                ],
            },
            "MalformedPolicyDocument",
            "Has prohibited field Resource",
        ),
        (
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT_ID}:user/u{i:04d}" for i in range(60)]},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "LimitExceeded",
            "Cannot exceed quota for ACLSizePerRole: 2048",
        ),
        ("{not json", "MalformedPolicyDocument", "Syntax errors in policy."),
    ],
    ids=["no-principal", "resource", "too-large", "not-json"],
)
def test_trust_policies_are_validated_as_aws_does(iam, role, document, code, text):
    text_doc = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName=unique("bad"), AssumeRolePolicyDocument=text_doc)
    assert error_code(e) == code
    assert message(e).startswith(text)
    with pytest.raises(ClientError) as e:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=text_doc)
    assert error_code(e) == code
    # The role keeps its policy.
    assert iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"] == TRUST


def test_update_assume_role_policy_replaces_the_document(iam, role):
    new = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(new))
    assert iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"] == new


def unvalidated_iam(server):
    """Root IAM without botocore's own parameter checks, to reach the server's."""
    return boto3.client(
        "iam", endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=ROOT_KEY_ID, aws_secret_access_key=ROOT_SECRET,
        config=botocore.config.Config(retries={"max_attempts": 1}, parameter_validation=False),
    )


def test_max_session_duration_bounds_and_updates(server, iam, role):
    raw = unvalidated_iam(server)
    name = unique("long")
    created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), MaxSessionDuration=43200)
    assert created["Role"]["MaxSessionDuration"] == 43200
    for bad in (3599, 43201):
        with pytest.raises(ClientError) as e:
            raw.create_role(RoleName=unique("bad"), AssumeRolePolicyDocument=json.dumps(TRUST), MaxSessionDuration=bad)
        assert error_code(e) == "ValidationError"
        assert "maxSessionDuration" in message(e)
        with pytest.raises(ClientError) as e:
            raw.update_role(RoleName=role, MaxSessionDuration=bad)
        assert error_code(e) == "ValidationError"

    iam.update_role(RoleName=role, MaxSessionDuration=7200, Description="two hours")
    got = iam.get_role(RoleName=role)["Role"]
    assert (got["MaxSessionDuration"], got["Description"]) == (7200, "two hours")
    # UpdateRole changes only what it is given.
    iam.update_role(RoleName=role, Description="still two hours")
    assert iam.get_role(RoleName=role)["Role"]["MaxSessionDuration"] == 7200
    described = iam.update_role_description(RoleName=role, Description="described")["Role"]
    assert described["Description"] == "described"
    assert described["MaxSessionDuration"] == 7200
    with pytest.raises(ClientError) as e:
        iam.update_role_description(RoleName=unique("missing"), Description="x")
    assert error_code(e) == "NoSuchEntity"


def test_list_roles_pages_by_path_and_leaves_out_details(iam):
    path = f"/{unique('list')}/"
    names = sorted(unique("r") for _ in range(3))
    for n in names:
        iam.create_role(
            RoleName=n,
            Path=path,
            AssumeRolePolicyDocument=json.dumps(TRUST),
            Tags=[{"Key": "k", "Value": "v"}],
            PermissionsBoundary=READ_ONLY,
        )
    first = iam.list_roles(PathPrefix=path, MaxItems=2)
    assert first["IsTruncated"] is True
    assert [r["RoleName"] for r in first["Roles"]] == names[:2]
    second = iam.list_roles(PathPrefix=path, MaxItems=2, Marker=first["Marker"])
    assert second["IsTruncated"] is False and "Marker" not in second
    assert [r["RoleName"] for r in second["Roles"]] == names[2:]
    listed = first["Roles"][0]
    assert listed["AssumeRolePolicyDocument"] == TRUST
    assert listed["MaxSessionDuration"] == 3600
    for absent in ("Tags", "PermissionsBoundary", "RoleLastUsed"):
        assert absent not in listed
    # The paginator follows the markers.
    pages = iam.get_paginator("list_roles").paginate(PathPrefix=path, PaginationConfig={"PageSize": 1})
    assert [r["RoleName"] for p in pages for r in p["Roles"]] == names
    with pytest.raises(ClientError) as e:
        iam.list_roles(Marker="not-a-marker")
    assert error_code(e) == "InvalidInput"


def test_tags(iam):
    name = unique("tagged")
    created = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), Tags=[{"Key": "team", "Value": "blue"}]
    )["Role"]
    assert created["Tags"] == [{"Key": "team", "Value": "blue"}]
    iam.tag_role(RoleName=name, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "TEAM", "Value": "red"}])
    assert iam.get_role(RoleName=name)["Role"]["Tags"] == [
        {"Key": "env", "Value": "dev"},
        {"Key": "TEAM", "Value": "red"},
    ]
    first = iam.list_role_tags(RoleName=name, MaxItems=1)
    assert first["IsTruncated"] is True and first["Tags"] == [{"Key": "env", "Value": "dev"}]
    rest = iam.list_role_tags(RoleName=name, Marker=first["Marker"])
    assert rest["IsTruncated"] is False and rest["Tags"] == [{"Key": "TEAM", "Value": "red"}]
    iam.untag_role(RoleName=name, TagKeys=["team", "absent"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "env", "Value": "dev"}]

    with pytest.raises(ClientError) as e:
        iam.tag_role(RoleName=name, Tags=[{"Key": "aws:x", "Value": "y"}])
    assert error_code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:
        iam.tag_role(RoleName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    assert error_code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:
        iam.tag_role(RoleName=name, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_code(e) == "LimitExceeded"
    with pytest.raises(ClientError) as e:
        iam.tag_role(RoleName=unique("missing"), Tags=[{"Key": "a", "Value": "1"}])
    assert error_code(e) == "NoSuchEntity"


def padded_policy(chars):
    """An identity policy of about `chars` characters that count (no whitespace)."""
    base = allow("s3:GetObject", [])
    filler = chars - len(json.dumps(base, separators=(",", ":")))
    resources = []
    while filler > 40:
        r = f"arn:aws:s3:::bucket-{len(resources):05d}/*"
        resources.append(r)
        filler -= len(r) + 3
    base["Statement"][0]["Resource"] = resources
    return json.dumps(base, indent=4)


def test_inline_policies_and_their_shared_quota(iam, role):
    doc = allow("s3:ListAllMyBuckets")
    iam.put_role_policy(RoleName=role, PolicyName="b-list", PolicyDocument=json.dumps(doc))
    iam.put_role_policy(RoleName=role, PolicyName="a-read", PolicyDocument=json.dumps(allow("s3:GetObject")))
    got = iam.get_role_policy(RoleName=role, PolicyName="b-list")
    assert (got["RoleName"], got["PolicyName"], got["PolicyDocument"]) == (role, "b-list", doc)
    first = iam.list_role_policies(RoleName=role, MaxItems=1)
    assert first["PolicyNames"] == ["a-read"] and first["IsTruncated"] is True
    assert iam.list_role_policies(RoleName=role, Marker=first["Marker"])["PolicyNames"] == ["b-list"]

    # 10,240 characters for all of a role's inline policies together,
    # whitespace not counted; replacing a policy does not count it twice.
    big = padded_policy(6000)
    iam.put_role_policy(RoleName=role, PolicyName="big", PolicyDocument=big)
    iam.put_role_policy(RoleName=role, PolicyName="big", PolicyDocument=big)
    with pytest.raises(ClientError) as e:
        iam.put_role_policy(RoleName=role, PolicyName="big2", PolicyDocument=padded_policy(5000))
    assert error_code(e) == "LimitExceeded"
    assert message(e) == f"Maximum policy size of 10240 bytes exceeded for role {role}"
    assert "big2" not in iam.list_role_policies(RoleName=role)["PolicyNames"]
    with pytest.raises(ClientError) as e:
        iam.put_role_policy(RoleName=role, PolicyName="huge", PolicyDocument=padded_policy(11000))
    assert error_code(e) == "LimitExceeded"
    assert message(e) == f"Maximum policy size of 10240 bytes exceeded for role {role}"

    with pytest.raises(ClientError) as e:
        iam.put_role_policy(RoleName=role, PolicyName="bad", PolicyDocument='{"Version": "2012-10-17"}')
    assert error_code(e) == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as e:
        iam.get_role_policy(RoleName=role, PolicyName="absent")
    assert error_code(e) == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.delete_role_policy(RoleName=role, PolicyName="absent")
    assert error_code(e) == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.put_role_policy(RoleName=unique("missing"), PolicyName="p", PolicyDocument=json.dumps(doc))
    assert error_code(e) == "NoSuchEntity"

    for name in ("a-read", "b-list", "big"):
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == []


def test_attached_managed_policies(iam, role):
    iam.attach_role_policy(RoleName=role, PolicyArn=READ_ONLY)
    iam.attach_role_policy(RoleName=role, PolicyArn=READ_ONLY)  # idempotent, as in AWS
    lambda_role = "arn:aws:iam::aws:policy/service-role/AWSLambdaRole"
    iam.attach_role_policy(RoleName=role, PolicyArn=lambda_role)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert sorted((a["PolicyName"], a["PolicyArn"]) for a in attached) == [
        ("AWSLambdaRole", lambda_role),
        ("ReadOnlyAccess", READ_ONLY),
    ]
    only_service = iam.list_attached_role_policies(RoleName=role, PathPrefix="/service-role/")
    assert [a["PolicyName"] for a in only_service["AttachedPolicies"]] == ["AWSLambdaRole"]
    first = iam.list_attached_role_policies(RoleName=role, MaxItems=1)
    assert first["IsTruncated"] is True and len(first["AttachedPolicies"]) == 1
    rest = iam.list_attached_role_policies(RoleName=role, Marker=first["Marker"])
    assert rest["IsTruncated"] is False and len(rest["AttachedPolicies"]) == 1

    with pytest.raises(ClientError) as e:
        iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
    assert error_code(e) == "NoSuchEntity"
    assert message(e) == "Policy arn:aws:iam::aws:policy/NoSuchPolicyAnywhere does not exist or is not attachable."
    with pytest.raises(ClientError) as e:
        iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::{ACCOUNT_ID}:policy/{unique('absent')}")
    assert error_code(e) == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:s3:::policy/ReadOnlyAccess")
    assert error_code(e) == "InvalidInput"
    with pytest.raises(ClientError) as e:
        iam.attach_role_policy(RoleName=unique("missing"), PolicyArn=READ_ONLY)
    assert error_code(e) == "NoSuchEntity"

    iam.detach_role_policy(RoleName=role, PolicyArn=READ_ONLY)
    with pytest.raises(ClientError) as e:
        iam.detach_role_policy(RoleName=role, PolicyArn=READ_ONLY)
    assert error_code(e) == "NoSuchEntity"
    iam.detach_role_policy(RoleName=role, PolicyArn=lambda_role)
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_at_most_ten_managed_policies_per_role(iam, role):
    names = [
        "ReadOnlyAccess", "IAMReadOnlyAccess", "AmazonS3ReadOnlyAccess", "AmazonEC2ReadOnlyAccess",
        "AmazonSQSReadOnlyAccess", "AmazonSNSReadOnlyAccess", "AmazonDynamoDBReadOnlyAccess",
        "AmazonRDSReadOnlyAccess", "CloudWatchReadOnlyAccess", "AWSLambda_ReadOnlyAccess", "IAMFullAccess",
    ]
    for n in names[:10]:
        iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::aws:policy/{n}")
    with pytest.raises(ClientError) as e:
        iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::aws:policy/{names[10]}")
    assert error_code(e) == "LimitExceeded"
    for n in names[:10]:
        iam.detach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::aws:policy/{n}")


def test_permissions_boundary(iam, role):
    iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=READ_ONLY)
    assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"] == {
        "PermissionsBoundaryArn": READ_ONLY,
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
    }
    iam.delete_role_permissions_boundary(RoleName=role)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=role)["Role"]

    missing = f"arn:aws:iam::{ACCOUNT_ID}:policy/{unique('absent')}"
    with pytest.raises(ClientError) as e:
        iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=missing)
    assert error_code(e) == "NoSuchEntity"
    assert message(e) == f"Scope ARN: {missing} does not exist or is not attachable."
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName=unique("b"), AssumeRolePolicyDocument=json.dumps(TRUST), PermissionsBoundary=missing)
    assert error_code(e) == "NoSuchEntity"
    with pytest.raises(ClientError) as e:
        iam.put_role_permissions_boundary(RoleName=unique("missing"), PermissionsBoundary=READ_ONLY)
    assert error_code(e) == "NoSuchEntity"

    bounded = unique("bounded")
    created = iam.create_role(
        RoleName=bounded, AssumeRolePolicyDocument=json.dumps(TRUST), PermissionsBoundary=READ_ONLY
    )["Role"]
    assert created["PermissionsBoundary"]["PermissionsBoundaryArn"] == READ_ONLY


def test_delete_conflicts_until_the_role_is_bare(iam, role):
    iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=json.dumps(allow("s3:*")))
    iam.attach_role_policy(RoleName=role, PolicyArn=READ_ONLY)
    profile = unique("ip")
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)

    def conflict():
        with pytest.raises(ClientError) as e:
            iam.delete_role(RoleName=role)
        assert error_code(e) == "DeleteConflict"
        return message(e)

    assert conflict() == "Cannot delete entity, must remove roles from instance profile first."
    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=role)
    assert conflict() == "Cannot delete entity, must delete policies first."
    iam.delete_role_policy(RoleName=role, PolicyName="p")
    assert conflict() == "Cannot delete entity, must detach all policies first."
    iam.detach_role_policy(RoleName=role, PolicyArn=READ_ONLY)
    iam.delete_role(RoleName=role)
    with pytest.raises(ClientError) as e:
        iam.get_role(RoleName=role)
    assert error_code(e) == "NoSuchEntity"
    iam.delete_instance_profile(InstanceProfileName=profile)


def test_role_operations_are_authorised_on_the_role_arn(iam, make_user, role):
    other = unique("other")
    iam.create_role(RoleName=other, AssumeRolePolicyDocument=json.dumps(TRUST))
    user = make_user(allow(["iam:GetRole", "iam:TagRole"], f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"))
    assert user.iam.get_role(RoleName=role)["Role"]["RoleName"] == role
    with pytest.raises(ClientError) as e:
        user.iam.get_role(RoleName=other)
    assert error_code(e) == "AccessDenied"
    assert f"arn:aws:iam::{ACCOUNT_ID}:role/{other}" in message(e)
    with pytest.raises(ClientError) as e:
        user.iam.create_role(RoleName=unique("nope"), AssumeRolePolicyDocument=json.dumps(TRUST))
    assert error_code(e) == "AccessDenied"
    # Tagging with a tag condition on the request.
    tagger = make_user(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iam:TagRole",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}},
                }
            ],
        }
    )
    tagger.iam.tag_role(RoleName=role, Tags=[{"Key": "team", "Value": "blue"}])
    with pytest.raises(ClientError) as e:
        tagger.iam.tag_role(RoleName=role, Tags=[{"Key": "team", "Value": "red"}])
    assert error_code(e) == "AccessDenied"


def test_cli_round_trip(server, iam):
    name = unique("cli-role")
    _, created = aws_cli(
        server, "iam", "create-role", "--role-name", name,
        "--assume-role-policy-document", json.dumps(TRUST),
        "--max-session-duration", "7200", "--tags", "Key=team,Value=blue",
    )
    assert created["Role"]["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
    assert created["Role"]["AssumeRolePolicyDocument"] == TRUST
    aws_cli(server, "iam", "put-role-policy", "--role-name", name, "--policy-name", "p",
            "--policy-document", json.dumps(allow("s3:GetObject")))
    _, got = aws_cli(server, "iam", "get-role", "--role-name", name)
    assert got["Role"]["MaxSessionDuration"] == 7200
    assert got["Role"]["Tags"] == [{"Key": "team", "Value": "blue"}]
    rc, err = aws_cli(server, "iam", "delete-role", "--role-name", name, check=False)
    assert rc != 0 and "DeleteConflict" in err
    iam.delete_role_policy(RoleName=name, PolicyName="p")
    iam.delete_role(RoleName=name)


def test_role_last_used_records_assumptions(iam, make_user):
    user = make_user(allow("sts:AssumeRole"))
    name = unique("used")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:user/{user.name}"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    assert iam.get_role(RoleName=name)["Role"]["RoleLastUsed"] == {}
    user.sts.assume_role(RoleArn=arn, RoleSessionName="s1")
    last = iam.get_role(RoleName=name)["Role"]["RoleLastUsed"]
    assert last["Region"] == "us-east-1"
    assert abs(last["LastUsedDate"].timestamp() - time.time()) < 120
    assert "RoleLastUsed" not in iam.list_roles(PathPrefix="/")["Roles"][0]


def test_trust_policies_must_name_users_and_roles_that_exist(iam, make_user):
    user = make_user()
    nobody = f"arn:aws:iam::{ACCOUNT_ID}:user/{unique('nobody')}"

    def trust(*principals):
        return json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole"}],
        })

    for bad in (nobody, f"arn:aws:iam::{ACCOUNT_ID}:role/{unique('norole')}",
                f"arn:aws:iam::{ACCOUNT_ID}:user/wrong-path/{user.name}"):
        with pytest.raises(ClientError) as e:
            iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCOUNT_ID}:root", bad))
        assert error_code(e) == "MalformedPolicyDocument"
        assert message(e) == f'Invalid principal in policy: "AWS":"{bad}"'
    # Existing users and roles, account roots, bare account ids, sessions
    # and accounts this service does not hold are accepted as written.
    name = unique("r")
    ok = trust(
        f"arn:aws:iam::{ACCOUNT_ID}:user/{user.name}",
        f"arn:aws:iam::{ACCOUNT_ID}:root",
        "111122223333",
        "arn:aws:iam::111122223333:user/someone-elsewhere",
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/some-role/some-session",
    )
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=ok)
    role_arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust(role_arn))
    with pytest.raises(ClientError) as e:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust(nobody))
    assert error_code(e) == "MalformedPolicyDocument"


def test_a_trust_policy_naming_one_session_admits_that_session_only(server, iam):
    """Sessions of one role share its cached policies; the principal a trust
    policy sees must still be the session that asks, whichever came first."""
    source, target = unique("chain-src"), unique("chain-dst")
    iam.create_role(RoleName=source, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                       "Action": "sts:AssumeRole"}],
    }))
    iam.put_role_policy(RoleName=source, PolicyName="chain", PolicyDocument=json.dumps(allow("sts:AssumeRole")))
    iam.create_role(RoleName=target, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow",
                       "Principal": {"AWS": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{source}/alice"},
                       "Action": "sts:AssumeRole"}],
    }))
    root_sts = boto3.client("sts", endpoint_url=server.endpoint, region_name=REGION,
                            aws_access_key_id=ROOT_KEY_ID, aws_secret_access_key=ROOT_SECRET)

    def session_sts(name):
        creds = root_sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{source}",
                                     RoleSessionName=name)["Credentials"]
        return boto3.client("sts", endpoint_url=server.endpoint, region_name=REGION,
                            aws_access_key_id=creds["AccessKeyId"],
                            aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"],
                            config=botocore.config.Config(retries={"max_attempts": 1}))

    alice, bob = session_sts("alice"), session_sts("bob")
    target_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{target}"
    # Alice first (her session fills the role's cache entry), then Bob, then Alice again.
    assert alice.assume_role(RoleArn=target_arn, RoleSessionName="a1")["Credentials"]["AccessKeyId"]
    with pytest.raises(ClientError) as e:
        bob.assume_role(RoleArn=target_arn, RoleSessionName="b1")
    assert error_code(e) == "AccessDenied"
    assert f"assumed-role/{source}/bob is not authorized" in message(e)
    assert alice.assume_role(RoleArn=target_arn, RoleSessionName="a2")["Credentials"]["AccessKeyId"]
