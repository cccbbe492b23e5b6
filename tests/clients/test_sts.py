"""STS with real clients: AssumeRole under trust policies, session policies,
role chaining, session tags, GetSessionToken, GetFederationToken, and
refusal of tampered or foreign tokens. Cross-account cases run on a second
server holding two accounts."""

import base64
import json

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, Server, client, error_code, unique

ALLOW_ALL_IAM_READ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:ListUsers", "iam:ListGroups", "iam:ListRoles"], "Resource": "*"}],
}


def trust(principal, condition=None, action="sts:AssumeRole"):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def user_arn(name, account=ACCOUNT_ID):
    return f"arn:aws:iam::{account}:user/{name}"


def make_role(iam, trust_policy, inline=None, prefix="role", **kwargs):
    name = unique(prefix)
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy, **kwargs)["Role"]
    if inline is not None:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(inline))
    return role


def session_clients(server, creds):
    return (
        client(server.endpoint, "iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
        client(server.endpoint, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
    )


def test_same_account_trust_naming_the_user_needs_no_identity_policy(server, iam, make_user):
    user = make_user()
    role = make_role(iam, trust(user_arn(user.name)), inline=ALLOW_ALL_IAM_READ)
    out = user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role['RoleName']}/s1"
    assert out["AssumedRoleUser"]["AssumedRoleId"] == f"{role['RoleId']}:s1"
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    s_iam, s_sts = session_clients(server, out["Credentials"])
    who = s_sts.get_caller_identity()
    assert who["Arn"] == out["AssumedRoleUser"]["Arn"]
    assert who["UserId"] == f"{role['RoleId']}:s1"
    s_iam.list_users()  # the role's policy allows it
    with pytest.raises(ClientError) as e:
        s_iam.list_policies()
    assert error_code(e) == "AccessDenied"
    assert f"assumed-role/{role['RoleName']}/s1 is not authorized to perform: iam:ListPolicies" in str(e.value)


def test_a_trust_policy_that_does_not_name_the_caller_refuses(iam, make_user):
    user, other = make_user(), make_user()
    role = make_role(iam, trust(user_arn(other.name)))
    with pytest.raises(ClientError) as e:
        user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s0")
    assert error_code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        user.sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/no-such-role", RoleSessionName="s0")
    assert error_code(e) == "AccessDenied"


def test_account_root_in_trust_delegates_to_identity_policies(iam, make_user):
    role = make_role(iam, trust(f"arn:aws:iam::{ACCOUNT_ID}:root"))
    without = make_user()
    with pytest.raises(ClientError) as e:
        without.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s0")
    assert error_code(e) == "AccessDenied"
    allowed = make_user({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role["Arn"]}]})
    allowed.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s0")


def test_external_id_is_required_and_must_match(iam, make_user):
    user = make_user()
    role = make_role(iam, trust(user_arn(user.name), {"StringEquals": {"sts:ExternalId": "tenant-42"}}))
    for kwargs in ({}, {"ExternalId": "tenant-43"}):
        with pytest.raises(ClientError) as e:
            user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s0", **kwargs)
        assert error_code(e) == "AccessDenied"
    user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s0", ExternalId="tenant-42")


def test_session_policy_narrows_the_role(server, iam, make_user):
    user = make_user()
    role = make_role(iam, trust(user_arn(user.name)), inline=ALLOW_ALL_IAM_READ)
    session_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]}
    out = user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="narrow", Policy=json.dumps(session_policy))
    assert out["PackedPolicySize"] > 0
    s_iam, _ = session_clients(server, out["Credentials"])
    s_iam.list_users()
    with pytest.raises(ClientError) as e:
        s_iam.list_groups()
    assert error_code(e) == "AccessDenied"
    # A session policy never grants more than the role has.
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
    out = user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="wide", Policy=json.dumps(wide))
    s_iam, _ = session_clients(server, out["Credentials"])
    with pytest.raises(ClientError) as e:
        s_iam.list_policies()
    assert error_code(e) == "AccessDenied"


def test_malformed_session_policy_is_refused(iam, make_user):
    user = make_user()
    role = make_role(iam, trust(user_arn(user.name)))
    with pytest.raises(ClientError) as e:
        user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s0", Policy='{"Statement": [}')
    assert error_code(e) == "MalformedPolicyDocument"


def test_role_boundary_limits_its_sessions(server, iam, make_user):
    user = make_user()
    role = make_role(iam, trust(user_arn(user.name)), inline=ALLOW_ALL_IAM_READ,
                     PermissionsBoundary="arn:aws:iam::aws:policy/AWSDenyAll")
    out = user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="bounded")
    s_iam, _ = session_clients(server, out["Credentials"])
    with pytest.raises(ClientError) as e:
        s_iam.list_users()
    assert error_code(e) == "AccessDenied"


def test_role_chaining_is_capped_at_one_hour(server, iam, make_user):
    user = make_user()
    second = make_role(iam, trust(f"arn:aws:iam::{ACCOUNT_ID}:root"), MaxSessionDuration=43200)
    first = make_role(iam, trust(user_arn(user.name)), inline={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": second["Arn"]}]}, MaxSessionDuration=43200)
    out = user.sts.assume_role(RoleArn=first["Arn"], RoleSessionName="first", DurationSeconds=7200)
    _, s_sts = session_clients(server, out["Credentials"])
    with pytest.raises(ClientError) as e:
        s_sts.assume_role(RoleArn=second["Arn"], RoleSessionName="second", DurationSeconds=7200)
    assert error_code(e) == "ValidationError"
    chained = s_sts.assume_role(RoleArn=second["Arn"], RoleSessionName="second", DurationSeconds=3600)
    assert chained["AssumedRoleUser"]["Arn"].endswith(f"/{second['RoleName']}/second")


def test_duration_beyond_the_roles_maximum_is_refused(iam, make_user):
    user = make_user()
    role = make_role(iam, trust(user_arn(user.name)))  # MaxSessionDuration 3600
    with pytest.raises(ClientError) as e:
        user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s0", DurationSeconds=7200)
    assert error_code(e) == "ValidationError"


def test_session_tags_are_principal_tags_and_transitive_ones_survive_chaining(server, iam, make_user):
    user = make_user()
    tag_cond = {"StringEquals": {"aws:PrincipalTag/team": "blue"}}
    second = make_role(iam, trust(f"arn:aws:iam::{ACCOUNT_ID}:root"), inline={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": tag_cond}]})
    first_trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": user_arn(user.name)}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]})
    first = make_role(iam, first_trust, inline={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": second["Arn"]},
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": tag_cond}]})
    out = user.sts.assume_role(RoleArn=first["Arn"], RoleSessionName="tagged",
                               Tags=[{"Key": "team", "Value": "blue"}], TransitiveTagKeys=["team"])
    s_iam, s_sts = session_clients(server, out["Credentials"])
    s_iam.list_users()
    chained = s_sts.assume_role(RoleArn=second["Arn"], RoleSessionName="chained")
    c_iam, _ = session_clients(server, chained["Credentials"])
    c_iam.list_users()  # team=blue came along
    with pytest.raises(ClientError) as e:
        s_sts.assume_role(RoleArn=second["Arn"], RoleSessionName="override", Tags=[{"Key": "team", "Value": "red"}])
    assert error_code(e) == "InvalidParameterValue"


def test_tampered_and_foreign_tokens_are_refused(server, iam, make_user, tmp_path):
    user = make_user()
    role = make_role(iam, trust(user_arn(user.name)))
    creds = user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s0")["Credentials"]
    raw = bytearray(base64.b64decode(creds["SessionToken"]))
    raw[len(raw) // 2] ^= 1
    tampered = base64.b64encode(bytes(raw)).decode()
    bad = client(server.endpoint, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], tampered)
    with pytest.raises(ClientError) as e:
        bad.get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"
    no_token = client(server.endpoint, "sts", creds["AccessKeyId"], creds["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        no_token.get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"
    # A token made by another deployment (other keys) means nothing here.
    other = Server(tmp_path / "other")
    try:
        o_iam = client(other.endpoint, "iam", "AKIAPORTCULLISROOT01", "portcullis-root-secret-for-client-tests-0001")
        o_user = o_iam.create_user(UserName="foreign")["User"]
        o_iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust(o_user["Arn"]))
        key = o_iam.create_access_key(UserName="foreign")["AccessKey"]
        o_sts = client(other.endpoint, "sts", key["AccessKeyId"], key["SecretAccessKey"])
        foreign = o_sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/r", RoleSessionName="s0")["Credentials"]
    finally:
        other.stop()
    here = client(server.endpoint, "sts", foreign["AccessKeyId"], foreign["SecretAccessKey"], foreign["SessionToken"])
    with pytest.raises(ClientError) as e:
        here.get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"


def test_role_changes_take_effect_on_the_sessions_next_call(server, iam, make_user):
    user = make_user()
    role = make_role(iam, trust(user_arn(user.name)), inline=ALLOW_ALL_IAM_READ)
    out = user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s0")
    s_iam, s_sts = session_clients(server, out["Credentials"])
    s_iam.list_users()
    iam.delete_role_policy(RoleName=role["RoleName"], PolicyName="inline")
    with pytest.raises(ClientError) as e:
        s_iam.list_users()
    assert error_code(e) == "AccessDenied"
    iam.delete_role(RoleName=role["RoleName"])
    with pytest.raises(ClientError) as e:
        s_iam.list_users()
    assert error_code(e) in ("InvalidClientTokenId", "AccessDenied")


def test_get_session_token_acts_as_the_user(server, iam, make_user):
    # GetSessionToken needs no permission: the user has none for STS.
    user = make_user(ALLOW_ALL_IAM_READ)
    creds = user.sts.get_session_token(DurationSeconds=900)["Credentials"]
    s_iam, s_sts = session_clients(server, creds)
    assert s_sts.get_caller_identity()["Arn"] == user_arn(user.name)
    s_iam.list_users()
    with pytest.raises(ClientError) as e:
        s_iam.list_policies()
    assert error_code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s_sts.get_session_token()
    assert error_code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        user.sts.get_session_token(DurationSeconds=129601)
    assert error_code(e) == "ValidationError"


def test_root_sessions_last_at_most_an_hour(sts):
    with pytest.raises(ClientError) as e:
        sts.get_session_token(DurationSeconds=7200)
    assert error_code(e) == "ValidationError"
    assert sts.get_session_token(DurationSeconds=3600)["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_federation_token_is_bounded_by_its_policy(server, iam, make_user):
    denied = make_user(ALLOW_ALL_IAM_READ)
    with pytest.raises(ClientError) as e:
        denied.sts.get_federation_token(Name="fed-none", DurationSeconds=900)
    assert error_code(e) == "AccessDenied"
    policy = json.loads(json.dumps(ALLOW_ALL_IAM_READ))
    policy["Statement"].append({"Effect": "Allow", "Action": "sts:GetFederationToken", "Resource": "*"})
    user = make_user(policy)
    narrow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]}
    out = user.sts.get_federation_token(Name="fed-bob", Policy=json.dumps(narrow), DurationSeconds=900)
    assert out["FederatedUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:federated-user/fed-bob"
    assert out["FederatedUser"]["FederatedUserId"] == f"{ACCOUNT_ID}:fed-bob"
    f_iam, f_sts = session_clients(server, out["Credentials"])
    assert f_sts.get_caller_identity()["Arn"] == out["FederatedUser"]["Arn"]
    f_iam.list_users()
    with pytest.raises(ClientError) as e:
        f_iam.list_groups()
    assert error_code(e) == "AccessDenied"
    bare = user.sts.get_federation_token(Name="fed-none", DurationSeconds=900)
    b_iam, _ = session_clients(server, bare["Credentials"])
    with pytest.raises(ClientError) as e:
        b_iam.list_users()
    assert error_code(e) == "AccessDenied"


OTHER_ACCOUNT = "210987654321"


@pytest.fixture(scope="module")
def two_accounts(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("cross") / "data", extra_args=("--additional-account", OTHER_ACCOUNT))
    text = (s.data_dir / f"root-credentials-{OTHER_ACCOUNT}").read_text()
    fields = dict(line.split(" = ") for line in text.splitlines() if " = " in line)
    yield s, fields["aws_access_key_id"], fields["aws_secret_access_key"]
    s.stop()


def test_cross_account_needs_trust_and_identity_policy(two_accounts):
    server, other_key, other_secret = two_accounts
    home_iam = client(server.endpoint, "iam", "AKIAPORTCULLISROOT01", "portcullis-root-secret-for-client-tests-0001")
    other_iam = client(server.endpoint, "iam", other_key, other_secret)
    other_sts = client(server.endpoint, "sts", other_key, other_secret)
    assert other_sts.get_caller_identity()["Account"] == OTHER_ACCOUNT
    # The role lives in the other account and trusts the home account.
    role = other_iam.create_role(RoleName="shared", AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCOUNT_ID}:root"))["Role"]
    assert role["Arn"] == f"arn:aws:iam::{OTHER_ACCOUNT}:role/shared"

    def home_user(policy):
        name = unique("x")
        home_iam.create_user(UserName=name)
        if policy:
            home_iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
        key = home_iam.create_access_key(UserName=name)["AccessKey"]
        return client(server.endpoint, "sts", key["AccessKeyId"], key["SecretAccessKey"])

    with pytest.raises(ClientError) as e:
        home_user(None).assume_role(RoleArn=role["Arn"], RoleSessionName="s0")
    assert error_code(e) == "AccessDenied"
    allowed = home_user({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role["Arn"]}]})
    out = allowed.assume_role(RoleArn=role["Arn"], RoleSessionName="s0")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/shared/s0"
    # Identity policy alone is not enough when the trust policy says no.
    other_iam.update_assume_role_policy(RoleName="shared", PolicyDocument=trust(f"arn:aws:iam::{OTHER_ACCOUNT}:root"))
    with pytest.raises(ClientError) as e:
        allowed.assume_role(RoleArn=role["Arn"], RoleSessionName="s0")
    assert error_code(e) == "AccessDenied"


# ---------------------------------------------------------------------------
# DecodeAuthorizationMessage (denials carry an encoded message when the
# server runs with PORTCULLIS_ENCODED_AUTHORIZATION_MESSAGES=1)

ENCODED_MARKER = "Encoded authorization failure message: "


@pytest.fixture(scope="module")
def explaining_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("explaining") / "data",
               extra_env={"PORTCULLIS_ENCODED_AUTHORIZATION_MESSAGES": "1"})
    yield s
    s.stop()


def _user_on(server, root_iam, policy):
    name = unique("decode")
    root_iam.create_user(UserName=name)
    root_iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = root_iam.create_access_key(UserName=name)["AccessKey"]
    iam_client = client(server.endpoint, "iam", key["AccessKeyId"], key["SecretAccessKey"])
    iam_client.user_name = name
    return iam_client, client(server.endpoint, "sts", key["AccessKeyId"], key["SecretAccessKey"])


def _denied_message(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    assert error_code(e) == "AccessDenied"
    return e.value.response["Error"]["Message"]


def test_denials_carry_no_encoded_message_by_default(make_user):
    user = make_user({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]})
    message = _denied_message(user.iam.create_user, UserName=unique("never"))
    assert "explicit deny" in message
    assert ENCODED_MARKER not in message


def test_decoded_message_explains_the_denial(explaining_server):
    from conftest import ROOT_KEY_ID, ROOT_SECRET

    root_iam = client(explaining_server.endpoint, "iam", ROOT_KEY_ID, ROOT_SECRET)
    root_sts = client(explaining_server.endpoint, "sts", ROOT_KEY_ID, ROOT_SECRET)
    user_iam, user_sts = _user_on(explaining_server, root_iam, {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadUsers", "Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"},
        {"Sid": "NoNewUsers", "Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]})

    message = _denied_message(user_iam.create_user, UserName="never-made")
    assert message.startswith("User: arn:aws:iam::")
    assert "with an explicit deny in an identity-based policy" in message
    encoded = message.split(ENCODED_MARKER, 1)[1]
    assert 0 < len(encoded) <= 10240

    decoded = json.loads(root_sts.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["allowed"] is False
    assert decoded["explicitDeny"] is True
    [statement] = decoded["matchedStatements"]["items"]
    assert statement["statementId"] == "NoNewUsers"
    assert statement["effect"] == "DENY"
    assert decoded["context"]["action"] == "iam:CreateUser"
    assert decoded["context"]["resource"] == f"arn:aws:iam::{ACCOUNT_ID}:user/never-made"
    assert decoded["context"]["principal"]["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{user_iam.user_name}"
    keys = {c["key"] for c in decoded["context"]["conditions"]["items"]}
    # The whole context, though no policy of the caller reads these keys
    # (the server builds only the keys policies read when it allows).
    assert {"aws:username", "aws:userid", "aws:SourceIp", "aws:CurrentTime",
            "aws:EpochTime", "aws:SecureTransport", "aws:RequestedRegion"} <= keys, keys

    # An implicit denial: no matched statement, and the near miss named.
    implicit = _denied_message(user_iam.list_roles)
    decoded = json.loads(root_sts.decode_authorization_message(
        EncodedMessage=implicit.split(ENCODED_MARKER, 1)[1])["DecodedMessage"])
    assert (decoded["allowed"], decoded["explicitDeny"]) == (False, False)
    assert decoded["matchedStatements"]["items"] == []

    # The user itself may not decode: sts:DecodeAuthorizationMessage is needed.
    with pytest.raises(ClientError) as e:
        user_sts.decode_authorization_message(EncodedMessage=encoded)
    assert error_code(e) == "AccessDenied"
    # A user allowed to decode may.
    _, decoder_sts = _user_on(explaining_server, root_iam, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:DecodeAuthorizationMessage", "Resource": "*"}]})
    again = json.loads(decoder_sts.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert again["matchedStatements"]["items"][0]["statementId"] == "NoNewUsers"

    # A tampered message, or one that is not ours, is refused (HTTP 400).
    middle = len(encoded) // 2
    tampered = encoded[:middle] + ("A" if encoded[middle] != "A" else "B") + encoded[middle + 1:]
    for bad in (tampered, encoded[:-4], "bm90LWEtbWVzc2FnZQ"):
        with pytest.raises(ClientError) as e:
            root_sts.decode_authorization_message(EncodedMessage=bad)
        assert error_code(e) == "InvalidAuthorizationMessageException"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_decode_authorization_message_with_the_aws_cli(explaining_server):
    from conftest import ROOT_KEY_ID, ROOT_SECRET, aws_cli

    root_iam = client(explaining_server.endpoint, "iam", ROOT_KEY_ID, ROOT_SECRET)
    user_iam, _ = _user_on(explaining_server, root_iam, {"Version": "2012-10-17", "Statement": [
        {"Sid": "NoGroups", "Effect": "Deny", "Action": "iam:CreateGroup", "Resource": "*"}]})
    message = _denied_message(user_iam.create_group, GroupName="never-made")
    encoded = message.split(ENCODED_MARKER, 1)[1]
    _, out = aws_cli(explaining_server, "sts", "decode-authorization-message", "--encoded-message", encoded)
    decoded = json.loads(out["DecodedMessage"])
    assert decoded["explicitDeny"] is True
    assert decoded["matchedStatements"]["items"][0]["statementId"] == "NoGroups"
