"""The basic path with real clients: signed calls, root bypass, denial for a
user without policies, users and access keys."""

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, aws_cli, error_code, unique


def test_root_identity(sts):
    who = sts.get_caller_identity()
    assert who["Account"] == ACCOUNT_ID
    assert who["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:root"


def test_user_without_policies_is_denied_but_knows_who_it_is(make_user):
    user = make_user()
    who = user.sts.get_caller_identity()
    assert who["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{user.name}"
    assert who["UserId"].startswith("AIDA")
    with pytest.raises(ClientError) as e:
        user.iam.list_users()
    assert error_code(e) == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "because no identity-based policy allows the iam:ListUsers action" in str(e.value)


def test_cli_creates_and_reads_a_user(server):
    name = unique("cli")
    _, created = aws_cli(server, "iam", "create-user", "--user-name", name, "--tags", "Key=team,Value=blue")
    assert created["User"]["UserName"] == name
    assert created["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"
    _, got = aws_cli(server, "iam", "get-user", "--user-name", name)
    assert got["User"]["Tags"] == [{"Key": "team", "Value": "blue"}]
    rc, err = aws_cli(server, "iam", "get-user", "--user-name", name + "-missing", check=False)
    assert rc != 0 and "NoSuchEntity" in err


def test_wrong_secret_is_signature_does_not_match(server, make_user):
    from conftest import client

    user = make_user()
    bad = client(server.endpoint, "sts", user.key_id, "not-the-secret")
    with pytest.raises(ClientError) as e:
        bad.get_caller_identity()
    assert error_code(e) == "SignatureDoesNotMatch"
    unknown = client(server.endpoint, "sts", "AKIAUNKNOWNUNKNOWN00", "x")
    with pytest.raises(ClientError) as e:
        unknown.get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"
