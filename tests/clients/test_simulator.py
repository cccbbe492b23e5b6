"""The policy simulator (SimulateCustomPolicy, SimulatePrincipalPolicy,
GetContextKeysFor*Policy) through boto3 and the AWS CLI, and the proof that
it agrees with enforcement: for a user, SimulatePrincipalPolicy's decision on
each action equals what the same user is allowed when it makes the call.
"""

import json

import botocore.exceptions
import pytest

from conftest import ACCOUNT_ID, aws_cli, error_code, unique

ALLOW_GET_DENY_DELETE = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"},
        {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
    ],
}
OBJECT = "arn:aws:s3:::bucket/key.txt"


def fails(code, call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call(*args, **kwargs)
    assert error_code(exc) == code, exc.value.response["Error"]
    return exc.value.response["Error"]["Message"]


def results(response):
    return {r["EvalActionName"]: r for r in response["EvaluationResults"]}


def position(text, needle):
    """1-based (line, column) of the first `needle` in `text`."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return {"Line": line, "Column": column}


# ---------------------------------------------------------------------------
# SimulateCustomPolicy


def test_custom_policy_decisions_and_matched_statements(iam):
    text = json.dumps(ALLOW_GET_DENY_DELETE, indent=2)
    r = results(iam.simulate_custom_policy(
        PolicyInputList=[text],
        ActionNames=["s3:GetObject", "s3:DeleteObject", "s3:PutObject"],
        ResourceArns=[OBJECT],
    ))
    assert [r[a]["EvalDecision"] for a in ["s3:GetObject", "s3:DeleteObject", "s3:PutObject"]] == \
        ["allowed", "explicitDeny", "implicitDeny"]

    [matched] = r["s3:GetObject"]["MatchedStatements"]
    assert matched["SourcePolicyId"] == "PolicyInputList.1"
    assert matched["SourcePolicyType"] == "none"
    # The statement object's braces.
    first_statement = text.index('{\n      "Sid": "Read"')
    assert matched["StartPosition"] == position(text, text[first_statement:first_statement + 10])
    end = text.index("}", first_statement)
    assert matched["EndPosition"]["Line"] == text.count("\n", 0, end) + 1

    [deny] = r["s3:DeleteObject"]["MatchedStatements"]
    assert deny["StartPosition"] == position(text, '{\n      "Sid": "NoDelete"')
    assert r["s3:PutObject"]["MatchedStatements"] == []

    # One result per action, with the per-resource answer inside.
    get = r["s3:GetObject"]
    assert get["EvalResourceName"] == "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
    [specific] = get["ResourceSpecificResults"]
    assert specific["EvalResourceName"] == OBJECT and specific["EvalResourceDecision"] == "allowed"
    # Same account, named resource: present and empty.
    assert get["EvalDecisionDetails"] == {}


def test_most_restrictive_decision_across_resources(iam):
    r = results(iam.simulate_custom_policy(
        PolicyInputList=[json.dumps(ALLOW_GET_DENY_DELETE)],
        ActionNames=["s3:GetObject"],
        ResourceArns=[OBJECT, "arn:aws:s3:::other/key"],
    ))["s3:GetObject"]
    assert r["EvalDecision"] == "implicitDeny"
    assert [(x["EvalResourceName"], x["EvalResourceDecision"]) for x in r["ResourceSpecificResults"]] == \
        [(OBJECT, "allowed"), ("arn:aws:s3:::other/key", "implicitDeny")]


def test_without_resources_the_simulation_is_on_star(iam):
    r = results(iam.simulate_custom_policy(
        PolicyInputList=[json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]})],
        ActionNames=["iam:ListUsers"],
    ))["iam:ListUsers"]
    assert r["EvalDecision"] == "allowed" and r["EvalResourceName"] == "*"
    assert "ResourceSpecificResults" not in r and "EvalDecisionDetails" not in r


def test_context_entries_and_missing_context_values(iam):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}, "Bool": {"aws:SecureTransport": "true"}},
    }]})
    r = results(iam.simulate_custom_policy(PolicyInputList=[policy], ActionNames=["s3:ListBucket"]))
    assert r["s3:ListBucket"]["EvalDecision"] == "implicitDeny"
    assert sorted(r["s3:ListBucket"]["MissingContextValues"]) == ["aws:SecureTransport", "aws:SourceIp"]

    def simulate(ip):
        return results(iam.simulate_custom_policy(
            PolicyInputList=[policy], ActionNames=["s3:ListBucket"],
            ContextEntries=[
                {"ContextKeyName": "aws:SourceIp", "ContextKeyType": "ip", "ContextKeyValues": [ip]},
                {"ContextKeyName": "aws:SecureTransport", "ContextKeyType": "boolean",
                 "ContextKeyValues": ["true"]},
            ]))["s3:ListBucket"]

    inside = simulate("203.0.113.9")
    assert inside["EvalDecision"] == "allowed" and inside["MissingContextValues"] == []
    assert simulate("198.51.100.1")["EvalDecision"] == "implicitDeny"
    assert "aws:SourceIp" in fails("InvalidInput", simulate, "not-an-ip")


def test_permissions_boundary_limits_the_result(iam):
    allow_all = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    boundary = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    r = results(iam.simulate_custom_policy(
        PolicyInputList=[allow_all], PermissionsBoundaryPolicyInputList=[boundary],
        ActionNames=["s3:GetObject", "iam:CreateUser"]))
    assert r["s3:GetObject"]["EvalDecision"] == "allowed"
    assert r["s3:GetObject"]["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    types = sorted(m["SourcePolicyId"] for m in r["s3:GetObject"]["MatchedStatements"])
    assert types == ["PermissionsBoundaryPolicyInputList.1", "PolicyInputList.1"]
    assert r["iam:CreateUser"]["EvalDecision"] == "implicitDeny"
    assert r["iam:CreateUser"]["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    fails("InvalidInput", iam.simulate_custom_policy, PolicyInputList=[allow_all],
          PermissionsBoundaryPolicyInputList=[boundary, boundary], ActionNames=["s3:GetObject"])


def test_service_control_policies_by_level(iam):
    allow_all = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    only_s3 = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    r = results(iam.simulate_custom_policy(
        PolicyInputList=[allow_all],
        OrderedOrganizationPolicyInputList=[
            {"ServiceControlPolicyInputList": [allow_all]},
            {"ServiceControlPolicyInputList": [only_s3]},
        ],
        ActionNames=["s3:GetObject", "iam:ListUsers"]))
    assert r["s3:GetObject"]["EvalDecision"] == "allowed"
    assert r["s3:GetObject"]["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}
    assert r["iam:ListUsers"]["EvalDecision"] == "implicitDeny"
    assert r["iam:ListUsers"]["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}
    # SCP statements are not matched statements.
    assert [m["SourcePolicyId"] for m in r["s3:GetObject"]["MatchedStatements"]] == ["PolicyInputList.1"]


def test_resource_policy_needs_a_caller_and_can_grant(iam):
    user = unique("caller")
    iam.create_user(UserName=user)
    caller = f"arn:aws:iam::{ACCOUNT_ID}:user/{user}"
    bucket_policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": caller}, "Action": "s3:GetObject", "Resource": OBJECT}]})
    nothing = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]})
    fails("InvalidInput", iam.simulate_custom_policy, PolicyInputList=[nothing], ResourcePolicy=bucket_policy,
          ActionNames=["s3:GetObject"], ResourceArns=[OBJECT])
    r = results(iam.simulate_custom_policy(
        PolicyInputList=[nothing], ResourcePolicy=bucket_policy, CallerArn=caller,
        ActionNames=["s3:GetObject"], ResourceArns=[OBJECT]))["s3:GetObject"]
    # Same account: a resource policy naming the user grants on its own.
    assert r["EvalDecision"] == "allowed"
    assert r["MatchedStatements"][0]["SourcePolicyId"] == "ResourcePolicy"
    assert r["MatchedStatements"][0]["SourcePolicyType"] == "resource"

    # Owned by another account, both sides must allow.
    cross = results(iam.simulate_custom_policy(
        PolicyInputList=[nothing], ResourcePolicy=bucket_policy, CallerArn=caller,
        ResourceOwner="arn:aws:iam::111122223333:root",
        ActionNames=["s3:GetObject"], ResourceArns=[OBJECT]))["s3:GetObject"]
    assert cross["EvalDecision"] == "implicitDeny"
    assert cross["EvalDecisionDetails"] == {"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}
    iam.delete_user(UserName=user)


def test_bad_input_is_invalid_input(iam):
    good = json.dumps(ALLOW_GET_DENY_DELETE)
    msg = fails("InvalidInput", iam.simulate_custom_policy, PolicyInputList=['{"Version": "2012-10-17"'],
                ActionNames=["s3:GetObject"])
    assert msg.startswith("PolicyInputList.1")
    fails("InvalidInput", iam.simulate_custom_policy, PolicyInputList=[good], ActionNames=["s3:*"])
    fails("InvalidInput", iam.simulate_custom_policy, PolicyInputList=[good], ActionNames=["GetObject"])
    fails("InvalidInput", iam.simulate_custom_policy, PolicyInputList=[good], ActionNames=["s3:GetObject"],
          CallerArn="arn:aws:sts::123456789012:assumed-role/r/s")
    fails("InvalidInput", iam.simulate_custom_policy, PolicyInputList=[good], ActionNames=["s3:GetObject"],
          ResourceOwner="not-an-account")


def test_results_paginate(iam):
    actions = ["s3:GetObject", "s3:DeleteObject", "s3:PutObject"]
    args = dict(PolicyInputList=[json.dumps(ALLOW_GET_DENY_DELETE)], ActionNames=actions)
    first = iam.simulate_custom_policy(MaxItems=2, **args)
    assert first["IsTruncated"] is True and len(first["EvaluationResults"]) == 2
    second = iam.simulate_custom_policy(MaxItems=2, Marker=first["Marker"], **args)
    assert second["IsTruncated"] is False and "Marker" not in second
    assert [r["EvalActionName"] for r in first["EvaluationResults"] + second["EvaluationResults"]] == actions
    pages = list(iam.get_paginator("simulate_custom_policy").paginate(
        PaginationConfig={"PageSize": 1}, **args))
    assert [p["EvaluationResults"][0]["EvalActionName"] for p in pages] == actions
    fails("InvalidInput", iam.simulate_custom_policy, Marker="bogus", **args)


def test_custom_simulation_with_the_aws_cli(server):
    _, out = aws_cli(server, "iam", "simulate-custom-policy",
                     "--policy-input-list", json.dumps(ALLOW_GET_DENY_DELETE),
                     "--action-names", "s3:GetObject", "s3:DeleteObject",
                     "--resource-arns", OBJECT)
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in out["EvaluationResults"]}
    assert decisions == {"s3:GetObject": "allowed", "s3:DeleteObject": "explicitDeny"}


# ---------------------------------------------------------------------------
# Context keys


def test_context_keys_for_custom_policy(iam, server):
    # The example of the AWS CLI reference for get-context-keys-for-custom-policy.
    policy = json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "dynamodb:*",
        "Resource": "arn:aws:dynamodb:us-west-2:123456789012:table/${aws:username}",
        "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2015-08-16T12:00:00Z"}}}})
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[policy])["ContextKeyNames"]
    assert keys == ["aws:username", "aws:CurrentTime"]
    _, out = aws_cli(server, "iam", "get-context-keys-for-custom-policy", "--policy-input-list", policy)
    assert out["ContextKeyNames"] == keys
    fails("InvalidInput", iam.get_context_keys_for_custom_policy, PolicyInputList=["{}"])


def test_context_keys_for_principal_policy(iam):
    user = unique("keys")
    group = unique("keys")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="own", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
                                                "Condition": {"StringLike": {"s3:prefix": "home/"}}}]}))
    iam.put_group_policy(GroupName=group, PolicyName="shared", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*",
                                                "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]}))
    extra = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sqs:*", "Resource": "*",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})
    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{user}"
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=user_arn)["ContextKeyNames"]
    assert keys == ["s3:prefix", "aws:RequestedRegion"]
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=user_arn,
                                                    PolicyInputList=[extra])["ContextKeyNames"]
    assert keys == ["s3:prefix", "aws:RequestedRegion", "aws:MultiFactorAuthPresent"]
    group_arn = f"arn:aws:iam::{ACCOUNT_ID}:group/{group}"
    assert iam.get_context_keys_for_principal_policy(PolicySourceArn=group_arn)["ContextKeyNames"] == \
        ["aws:RequestedRegion"]
    fails("NoSuchEntity", iam.get_context_keys_for_principal_policy,
          PolicySourceArn=f"arn:aws:iam::{ACCOUNT_ID}:user/{unique('ghost')}")
    iam.delete_group_policy(GroupName=group, PolicyName="shared")
    iam.delete_user_policy(UserName=user, PolicyName="own")
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)


# ---------------------------------------------------------------------------
# SimulatePrincipalPolicy


def test_principal_simulation_names_where_each_statement_comes_from(iam):
    user = unique("sim")
    group = unique("sim")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="own", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}))
    iam.put_group_policy(GroupName=group, PolicyName="shared", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"}]}))
    iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess")
    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{user}"

    r = results(iam.simulate_principal_policy(
        PolicySourceArn=user_arn,
        ActionNames=["sqs:SendMessage", "sqs:DeleteQueue", "sqs:ListQueues", "sqs:CreateQueue"]))
    assert r["sqs:SendMessage"]["EvalDecision"] == "allowed"
    assert [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in r["sqs:SendMessage"]["MatchedStatements"]] == \
        [("own", "user")]
    assert r["sqs:DeleteQueue"]["EvalDecision"] == "explicitDeny"
    assert [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in r["sqs:DeleteQueue"]["MatchedStatements"]] == \
        [("shared", "group")]
    assert r["sqs:ListQueues"]["EvalDecision"] == "allowed"
    assert ("AmazonSQSReadOnlyAccess", "aws-managed") in \
        [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in r["sqs:ListQueues"]["MatchedStatements"]]
    assert r["sqs:CreateQueue"]["EvalDecision"] == "implicitDeny"

    # Extra policies join the principal's own.
    extra = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:CreateQueue", "Resource": "*"}]})
    r = results(iam.simulate_principal_policy(PolicySourceArn=user_arn, PolicyInputList=[extra],
                                              ActionNames=["sqs:CreateQueue"]))
    assert r["sqs:CreateQueue"]["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"

    # The group alone has only its deny.
    group_arn = f"arn:aws:iam::{ACCOUNT_ID}:group/{group}"
    r = results(iam.simulate_principal_policy(PolicySourceArn=group_arn,
                                              ActionNames=["sqs:SendMessage", "sqs:DeleteQueue"]))
    assert r["sqs:SendMessage"]["EvalDecision"] == "implicitDeny"
    assert r["sqs:DeleteQueue"]["EvalDecision"] == "explicitDeny"

    # Leaving out policies by type, ARN or inline identifier.
    def decision(action, exclusions):
        return results(iam.simulate_principal_policy(PolicySourceArn=user_arn, ActionNames=[action],
                                                     PolicyExclusionList=exclusions))[action]["EvalDecision"]

    assert decision("sqs:DeleteQueue", [{"PolicyType": "inline"}]) == "implicitDeny"
    assert decision("sqs:ListQueues", [{"PolicyArn": "arn:aws:iam::aws:policy/AmazonSQS*"}]) == "implicitDeny"
    # (The model's pattern for AttachmentName admits no wildcard, whatever
    # its documentation says, so the decoder refuses one.)
    assert decision("sqs:DeleteQueue", [{"InlinePolicyIdentifier": {
        "PolicyName": "shared", "AttachmentType": "group", "AttachmentName": group.upper()}}]) == "implicitDeny"
    assert decision("sqs:DeleteQueue", [{"InlinePolicyIdentifier": {
        "PolicyName": "shared", "AttachmentType": "user", "AttachmentName": group}}]) == "explicitDeny"
    fails("InvalidInput", iam.simulate_principal_policy, PolicySourceArn=user_arn, ActionNames=["sqs:SendMessage"],
          PolicyExclusionList=[{"PolicyArn": "arn:aws:iam::*:policy/x"}])

    iam.detach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess")
    iam.delete_group_policy(GroupName=group, PolicyName="shared")
    iam.delete_user_policy(UserName=user, PolicyName="own")
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)


def test_principal_simulation_uses_the_principal_as_context(iam):
    user = unique("ctx")
    iam.create_user(UserName=user, Tags=[{"Key": "team", "Value": "blue"}])
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::home/${aws:username}/*"},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}},
        ]}))
    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{user}"
    r = results(iam.simulate_principal_policy(
        PolicySourceArn=user_arn, ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=[f"arn:aws:s3:::home/{user}/file"]))
    assert r["s3:GetObject"]["EvalDecision"] == "allowed"
    assert r["s3:PutObject"]["EvalDecision"] == "allowed"
    # Context entries override what the principal implies.
    r = results(iam.simulate_principal_policy(
        PolicySourceArn=user_arn, ActionNames=["s3:PutObject"],
        ContextEntries=[{"ContextKeyName": "aws:PrincipalTag/team", "ContextKeyType": "string",
                         "ContextKeyValues": ["red"]}]))
    assert r["s3:PutObject"]["EvalDecision"] == "implicitDeny"
    iam.delete_user_policy(UserName=user, PolicyName="p")
    iam.delete_user(UserName=user)


def test_caller_arn_simulates_another_caller_with_these_policies(iam):
    owner, caller = unique("owner"), unique("caller")
    iam.create_user(UserName=owner)
    iam.create_user(UserName=caller)
    iam.put_user_policy(UserName=owner, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::home/${aws:username}/*"}]}))
    owner_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{owner}"

    def decision(resource, **kwargs):
        return results(iam.simulate_principal_policy(PolicySourceArn=owner_arn, ActionNames=["s3:GetObject"],
                                                     ResourceArns=[resource], **kwargs))["s3:GetObject"]["EvalDecision"]

    assert decision(f"arn:aws:s3:::home/{owner}/f") == "allowed"
    # "As if Bob had David's policies": the variables are Bob's.
    caller_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{caller}"
    assert decision(f"arn:aws:s3:::home/{owner}/f", CallerArn=caller_arn) == "implicitDeny"
    assert decision(f"arn:aws:s3:::home/{caller}/f", CallerArn=caller_arn) == "allowed"
    iam.delete_user_policy(UserName=owner, PolicyName="p")
    iam.delete_user(UserName=owner)
    iam.delete_user(UserName=caller)


def test_a_user_and_a_group_of_one_name_are_told_apart(iam):
    # Both inline policies are named "p" and embedded in entities named alike.
    name = unique("twin")
    iam.create_user(UserName=name)
    iam.create_group(GroupName=name)
    iam.add_user_to_group(GroupName=name, UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}))
    iam.put_group_policy(GroupName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}]}))
    r = results(iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT_ID}:user/{name}",
                                              ActionNames=["sqs:SendMessage", "sqs:ListQueues"]))
    assert [m["SourcePolicyType"] for m in r["sqs:SendMessage"]["MatchedStatements"]] == ["user"]
    assert [m["SourcePolicyType"] for m in r["sqs:ListQueues"]["MatchedStatements"]] == ["group"]
    iam.delete_group_policy(GroupName=name, PolicyName="p")
    iam.delete_user_policy(UserName=name, PolicyName="p")
    iam.remove_user_from_group(GroupName=name, UserName=name)
    iam.delete_group(GroupName=name)
    iam.delete_user(UserName=name)


def test_roles_are_simulated_as_their_sessions(iam):
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    name = unique("role")
    try:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    except botocore.exceptions.ClientError as e:
        if error_code_of(e) == "NotImplemented":
            pytest.skip("CreateRole is not implemented in this build")
        raise
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
    r = results(iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:PutObject"]))
    assert r["s3:GetObject"]["EvalDecision"] == "allowed"
    assert r["s3:GetObject"]["MatchedStatements"][0]["SourcePolicyType"] == "role"
    assert r["s3:PutObject"]["EvalDecision"] == "implicitDeny"
    fails("InvalidInput", iam.simulate_principal_policy, PolicySourceArn=arn, ActionNames=["s3:GetObject"],
          ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [
              {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}))
    details = iam.get_account_authorization_details(Filter=["Role"], MaxItems=1000)["RoleDetailList"]
    [d] = [x for x in details if x["RoleName"] == name]
    assert d["AssumeRolePolicyDocument"] == json.loads(trust)
    assert d["RolePolicyList"][0]["PolicyName"] == "p"
    iam.delete_role_policy(RoleName=name, PolicyName="p")
    iam.delete_role(RoleName=name)


def error_code_of(e):
    return e.response["Error"]["Code"]


def test_principal_simulation_errors(iam):
    fails("NoSuchEntity", iam.simulate_principal_policy,
          PolicySourceArn=f"arn:aws:iam::{ACCOUNT_ID}:user/{unique('ghost')}", ActionNames=["s3:GetObject"])
    fails("NoSuchEntity", iam.simulate_principal_policy,
          PolicySourceArn="arn:aws:iam::111122223333:user/elsewhere", ActionNames=["s3:GetObject"])
    fails("InvalidInput", iam.simulate_principal_policy,
          PolicySourceArn=f"arn:aws:iam::{ACCOUNT_ID}:policy/x", ActionNames=["s3:GetObject"])


def test_simulating_a_principal_needs_permission(make_user, iam):
    target = make_user()
    arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{target.name}"
    nobody = make_user()
    fails("AccessDenied", nobody.iam.simulate_principal_policy, PolicySourceArn=arn, ActionNames=["s3:GetObject"])
    fails("AccessDenied", nobody.iam.simulate_custom_policy, PolicyInputList=[json.dumps(ALLOW_GET_DENY_DELETE)],
          ActionNames=["s3:GetObject"])
    # Permission on one principal is not permission on another.
    scoped = make_user({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy", "Resource": arn}]})
    assert results(scoped.iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject"]))["s3:GetObject"]["EvalDecision"] == "implicitDeny"
    fails("AccessDenied", scoped.iam.simulate_principal_policy,
          PolicySourceArn=f"arn:aws:iam::{ACCOUNT_ID}:user/{nobody.name}", ActionNames=["s3:GetObject"])


# ---------------------------------------------------------------------------
# The simulator agrees with enforcement


def test_simulation_equals_what_the_user_is_actually_allowed(iam, make_user):
    """For a user with identity, group and boundary policies, tags and
    policy variables, SimulatePrincipalPolicy's decision on each action is
    exactly what happens when the user makes the call."""
    iam.update_account_password_policy(AllowUsersToChangePassword=True)
    try:
        user = make_user({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:GetUser", "iam:ListAccessKeys", "iam:CreateUser"],
             "Resource": "arn:aws:iam::*:user/${aws:username}"},
            {"Effect": "Allow", "Action": "iam:ListGroups", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}},
            {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}}},
            {"Effect": "Allow", "Action": ["iam:ListUsers", "iam:ListPolicies", "iam:GetAccountSummary"],
             "Resource": "*"},
        ]}, prefix="agree", Tags=[{"Key": "team", "Value": "blue"}])
        group = unique("agree")
        iam.create_group(GroupName=group)
        iam.add_user_to_group(GroupName=group, UserName=user.name)
        iam.put_group_policy(GroupName=group, PolicyName="no-users", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"}]}))
        boundary = iam.create_policy(PolicyName=unique("agree-boundary"), PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:GetAccountSummary",
                                                    "Resource": "*"}]}))["Policy"]["Arn"]
        iam.put_user_permissions_boundary(UserName=user.name, PermissionsBoundary=boundary)
        iam.create_login_profile(UserName=user.name, Password="Str0ng!Passw0rd")
        user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{user.name}"
        new_user = unique("never")

        calls = {
            # action: (resource enforcement uses, the call)
            "iam:GetUser": (user_arn, lambda: user.iam.get_user()),
            "iam:ListAccessKeys": (user_arn, lambda: user.iam.list_access_keys()),
            "iam:ListGroups": ("*", lambda: user.iam.list_groups()),
            "iam:ListRoles": ("*", lambda: user.iam.list_roles()),
            "iam:ListUsers": ("*", lambda: user.iam.list_users()),
            "iam:ListPolicies": ("*", lambda: user.iam.list_policies(Scope="Local")),
            "iam:GetAccountSummary": ("*", lambda: user.iam.get_account_summary()),
            "iam:CreateUser": (f"arn:aws:iam::{ACCOUNT_ID}:user/{new_user}",
                               lambda: user.iam.create_user(UserName=new_user)),
            "iam:ChangePassword": (user_arn, lambda: user.iam.change_password(
                OldPassword="Str0ng!Passw0rd", NewPassword="Str0ng!Passw0rd2")),
            "iam:GetAccountPasswordPolicy": ("*", lambda: user.iam.get_account_password_policy()),
        }
        simulated = {}
        for action, (resource, _) in calls.items():
            r = iam.simulate_principal_policy(PolicySourceArn=user_arn, ActionNames=[action],
                                              ResourceArns=[resource])
            simulated[action] = r["EvaluationResults"][0]["EvalDecision"]

        actual = {}
        for action, (_, call) in calls.items():
            try:
                call()
                actual[action] = "allowed"
            except botocore.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] == "AccessDenied", (action, e.response["Error"])
                message = e.response["Error"]["Message"]
                actual[action] = "explicitDeny" if "explicit deny" in message else "implicitDeny"

        assert simulated == actual
        # The set covers every outcome, so the comparison means something.
        assert set(actual.values()) == {"allowed", "explicitDeny", "implicitDeny"}
        assert actual["iam:ListUsers"] == "explicitDeny"
        assert actual["iam:GetAccountSummary"] == "implicitDeny"  # the boundary
        assert actual["iam:ListRoles"] == "implicitDeny"  # the tag condition
        assert actual["iam:ChangePassword"] == "allowed"  # the account's grant
        assert actual["iam:CreateUser"] == "implicitDeny"  # not the user's own ARN

        iam.delete_login_profile(UserName=user.name)
        iam.delete_user_permissions_boundary(UserName=user.name)
        iam.delete_policy(PolicyArn=boundary)
        iam.delete_group_policy(GroupName=group, PolicyName="no-users")
        iam.remove_user_from_group(GroupName=group, UserName=user.name)
        iam.delete_group(GroupName=group)
    finally:
        iam.delete_account_password_policy()


# ---------------------------------------------------------------------------
# `portcullis policy simulate` answers as the service does


def test_offline_cli_simulation_equals_the_aws_cli_against_the_server(server, tmp_path):
    """`portcullis policy simulate --input FILE` prints the same
    EvaluationResults as `aws iam simulate-custom-policy --cli-input-json
    file://FILE` against the running server, for each input file."""
    import subprocess

    from conftest import ROOT, binary

    fixtures = ROOT / "crates" / "cli" / "tests" / "fixtures"
    inputs = [fixtures / name for name in
              ("simulate-basic.json", "simulate-context.json", "simulate-scp-boundary.json")]
    # A caller of another account, a resource policy and an owner; and more
    # actions than one page holds (both sides gather every page).
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Objects", "Effect": "Allow", "Action": "s3:*Object", "Resource": "arn:aws:s3:::shared/*"}]}
    bucket_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*"}]}
    cross = tmp_path / "cross-account.json"
    cross.write_text(json.dumps({
        "PolicyInputList": [json.dumps(doc, indent=2)],
        "ResourcePolicy": json.dumps(bucket_policy, indent=2),
        "ResourceOwner": f"arn:aws:iam::{ACCOUNT_ID}:root",
        "CallerArn": "arn:aws:iam::444455556666:user/partner",
        "ActionNames": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
        "ResourceArns": ["arn:aws:s3:::shared/report.csv"],
    }))
    many = tmp_path / "many-actions.json"
    many.write_text(json.dumps({
        "PolicyInputList": [json.dumps(ALLOW_GET_DENY_DELETE)],
        "ActionNames": [f"s3:Action{n}" for n in range(110)] + ["s3:GetObject", "s3:DeleteObject"],
        "ResourceArns": [OBJECT],
    }))
    inputs += [cross, many]

    for path in inputs:
        _, expected = aws_cli(server, "iam", "simulate-custom-policy", "--cli-input-json", f"file://{path}")
        proc = subprocess.run(
            [binary(), "policy", "simulate", "--account", ACCOUNT_ID, "--input", str(path)],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, (path.name, proc.stderr)
        offline = json.loads(proc.stdout)
        assert offline["EvaluationResults"] == expected["EvaluationResults"], path.name
        assert len(offline["EvaluationResults"]) == len(json.loads(path.read_text())["ActionNames"])

    # The cross-account case exercises the resource policy for real.
    _, out = aws_cli(server, "iam", "simulate-custom-policy", "--cli-input-json", f"file://{cross}")
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in out["EvaluationResults"]}
    assert decisions == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny",
                         "s3:ListBucket": "implicitDeny"}


def test_role_simulation_equals_what_its_session_is_actually_allowed(iam, make_user):
    """For a role with inline and attached managed policies, tags and a
    permissions boundary, SimulatePrincipalPolicy's decision for the role ARN
    on each action is exactly what an assumed session of the role gets when
    it makes the call (AccessDenied, explicit or implicit, or not)."""
    role_name = unique("agree-role")
    role_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{role_name}"
    assumer = make_user({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}]}, prefix="assumer")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:user/{assumer.name}"},
         "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust),
                    Tags=[{"Key": "team", "Value": "blue"}])
    iam.put_role_policy(RoleName=role_name, PolicyName="inline", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:ListUsers", "iam:ListGroups"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:GetRole", "Resource": "arn:aws:iam::*:role/${aws:PrincipalTag/team}-*"},
            {"Effect": "Allow", "Action": "iam:GetRole", "Resource": role_arn},
            {"Effect": "Allow", "Action": "iam:DeleteUser", "Resource": f"arn:aws:iam::{ACCOUNT_ID}:user/tmp-*"},
            {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}},
            {"Effect": "Allow", "Action": "iam:ListSAMLProviders", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}}},
        ]}))
    managed = iam.create_policy(PolicyName=unique("agree-managed"), PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:ListPolicies", "iam:GetAccountSummary",
                                           "iam:ListInstanceProfiles"], "Resource": "*"},
            {"Sid": "NoGroups", "Effect": "Deny", "Action": "iam:ListGroups", "Resource": "*"},
        ]}))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role_name, PolicyArn=managed)
    boundary = iam.create_policy(PolicyName=unique("agree-role-boundary"), PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "NotAction": "iam:GetAccountSummary", "Resource": "*"}]}))["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName=role_name, PermissionsBoundary=boundary)
    try:
        creds = assumer.sts.assume_role(RoleArn=role_arn, RoleSessionName="agree")["Credentials"]
        from conftest import client

        session = client(iam.meta.endpoint_url, "iam", creds["AccessKeyId"], creds["SecretAccessKey"],
                         creds["SessionToken"])
        other_user = f"arn:aws:iam::{ACCOUNT_ID}:user/{assumer.name}"
        calls = {
            # action: (resource enforcement uses, the call)
            "iam:ListUsers": ("*", lambda: session.list_users()),
            "iam:ListGroups": ("*", lambda: session.list_groups()),
            "iam:GetRole": (role_arn, lambda: session.get_role(RoleName=role_name)),
            "iam:DeleteUser": (f"arn:aws:iam::{ACCOUNT_ID}:user/tmp-nobody",
                               lambda: session.delete_user(UserName="tmp-nobody")),
            "iam:ListRoles": ("*", lambda: session.list_roles()),
            "iam:ListSAMLProviders": ("*", lambda: session.list_saml_providers()),
            "iam:ListPolicies": ("*", lambda: session.list_policies(Scope="Local")),
            "iam:GetAccountSummary": ("*", lambda: session.get_account_summary()),
            "iam:ListInstanceProfiles": ("*", lambda: session.list_instance_profiles()),
            "iam:ListAccessKeys": (other_user, lambda: session.list_access_keys(UserName=assumer.name)),
            "iam:ListMFADevices": (other_user, lambda: session.list_mfa_devices(UserName=assumer.name)),
            "iam:CreateGroup": (f"arn:aws:iam::{ACCOUNT_ID}:group/never", lambda: session.create_group(GroupName="never")),
        }
        simulated = {}
        for action, (resource, _) in calls.items():
            r = iam.simulate_principal_policy(PolicySourceArn=role_arn, ActionNames=[action],
                                              ResourceArns=[resource])
            simulated[action] = r["EvaluationResults"][0]["EvalDecision"]

        actual = {}
        for action, (_, call) in calls.items():
            try:
                call()
                actual[action] = "allowed"
            except botocore.exceptions.ClientError as e:
                code = e.response["Error"]["Code"]
                if code != "AccessDenied":
                    # Authorised, then refused by the operation itself.
                    assert code == "NoSuchEntity", (action, e.response["Error"])
                    actual[action] = "allowed"
                    continue
                message = e.response["Error"]["Message"]
                actual[action] = "explicitDeny" if "explicit deny" in message else "implicitDeny"

        assert simulated == actual
        assert set(actual.values()) == {"allowed", "explicitDeny", "implicitDeny"}
        assert actual["iam:ListGroups"] == "explicitDeny"  # the managed policy's deny
        assert actual["iam:GetAccountSummary"] == "implicitDeny"  # outside the boundary
        assert actual["iam:ListSAMLProviders"] == "implicitDeny"  # the tag condition
        assert actual["iam:ListRoles"] == "allowed"  # the role's tag as aws:PrincipalTag
        assert actual["iam:DeleteUser"] == "allowed"  # NoSuchEntity, after authorisation
        assert actual["iam:ListInstanceProfiles"] == "allowed"  # the managed policy
    finally:
        iam.delete_role_permissions_boundary(RoleName=role_name)
        iam.detach_role_policy(RoleName=role_name, PolicyArn=managed)
        iam.delete_role_policy(RoleName=role_name, PolicyName="inline")
        iam.delete_role(RoleName=role_name)
        iam.delete_policy(PolicyArn=managed)
        iam.delete_policy(PolicyArn=boundary)
