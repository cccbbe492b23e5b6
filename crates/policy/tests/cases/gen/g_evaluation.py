"""Groups: eval-identity, eval-boundary, eval-session, eval-scp, eval-resource,
eval-cross-account, eval-root, eval-trust, not-principal."""

from lib import *  # noqa: F401,F403

ROLE = f"arn:aws:iam::{A}:role/app-role"
SESSION_ARN = f"arn:aws:sts::{A}:assumed-role/app-role/app-session"
FED_ARN = f"arn:aws:sts::{A}:federated-user/bob"
OBJS = BUCKET + "/*"


def bucket_policy(*statements, pid="bucket"):
    return pol(pid, doc(*statements))


def grant(principal, action="s3:*", sid="Grant", resource=None, effect="Allow", condition=None):
    return st(effect, action, resource if resource is not None else [BUCKET, OBJS], sid, condition,
              principal=principal)


def eval_identity(c):
    g = "eval-identity"

    def add(name, desc, source, decision, identity, action="s3:GetObject", resource=OBJ, matched=None,
            principal=None, context=None):
        c.add(g, name, desc, source, action=action, resource=resource, identity=identity, decision=decision,
              matched=matched, principal=principal, context=context)

    add("no-policies-implicit-deny", "By default, all requests are implicitly denied", DENYALLOW,
        "ImplicitDeny", None)
    add("unrelated-allow-implicit-deny", "No applicable Allow means an implicit deny", INTERPLAY,
        "ImplicitDeny", [pol("p", doc(allow("ec2:*", "*", sid="Ec2")))])
    add("identity-allow", "An explicit allow in an identity-based policy overrides the default", DENYALLOW,
        "Allow", [pol("p", doc(allow("s3:GetObject", OBJS, sid="Read")))], matched=[("p", "Read")])
    add("deny-overrides-allow-same-policy", "A Deny statement trumps an Allow statement in the same policy",
        INTERPLAY, "ExplicitDeny",
        [pol("p", doc(deny("s3:GetObject", OBJS, sid="No"), allow("s3:*", "*", sid="Yes")))],
        matched=[("p", "No")])
    add("deny-overrides-allow-other-policy", "An explicit deny in any policy overrides any allows", DENYALLOW,
        "ExplicitDeny", [pol("allow", doc(allow("s3:*", "*", sid="Yes"))),
                         pol("deny", doc(deny("s3:GetObject", "*", sid="No")))],
        matched=[("deny", "No")])
    add("group-policy-allows", "Policies of the user's groups are identity-based policies: a group Allow counts",
        BASICS, "Allow", [pol("user-inline", doc(allow("ec2:*", "*", sid="Ec2"))),
                          pol("group-developers", doc(allow("s3:GetObject", OBJS, sid="GroupRead")))],
        matched=[("group-developers", "GroupRead")])
    add("group-policy-denies", "A group policy Deny overrides the user's own Allow", DENYALLOW, "ExplicitDeny",
        [pol("user-inline", doc(allow("s3:*", "*", sid="Yes"))),
         pol("group-interns", doc(deny("s3:GetObject", "*", sid="GroupNo")))],
        matched=[("group-interns", "GroupNo")])
    add("every-matching-deny-listed", "Every Deny statement that matches decides the explicit deny", DENYALLOW,
        "ExplicitDeny", [pol("p", doc(allow("s3:*", "*", sid="Yes"), deny("s3:Get*", "*", sid="NoGet"),
                                      deny("s3:*", OBJS, sid="NoObjects"), deny("ec2:*", "*", sid="NoEc2")))],
        matched=[("p", "NoGet"), ("p", "NoObjects")])
    add("deny-for-other-action-irrelevant", "A Deny for another action does not affect this request", INTERPLAY,
        "Allow", [pol("p", doc(allow("s3:*", "*", sid="Yes"), deny("s3:DeleteObject", "*", sid="NoDelete")))],
        matched=[("p", "Yes")])
    add("deny-condition-false-irrelevant", "A Deny whose condition is false does not apply", CONDITION, "Allow",
        [pol("p", doc(allow("s3:*", "*", sid="Yes"),
                      deny("s3:*", "*", sid="NoFromOffice",
                           condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})))],
        matched=[("p", "Yes")], context=[ctx("aws:SourceIp", "ip", "192.0.2.1")])
    add("allow-resource-mismatch", "An Allow for another resource leaves the request implicitly denied",
        INTERPLAY, "ImplicitDeny", [pol("p", doc(allow("s3:GetObject", "arn:aws:s3:::otherbucket/*", sid="R")))])
    add("role-session-identity-allow", "A role session without session policies gets the role's permissions",
        DENYALLOW, "Allow", [pol("role-policy", doc(allow("s3:GetObject", OBJS, sid="Read")))],
        principal=role_session(), matched=[("role-policy", "Read")])
    add("role-session-no-policies", "A role session with no allowing policy is implicitly denied", DENYALLOW,
        "ImplicitDeny", [pol("role-policy", doc(allow("ec2:*", "*", sid="Ec2")))], principal=role_session())


def eval_boundary(c):
    g = "eval-boundary"
    s3_ec2 = pol("boundary", doc(allow(["s3:*", "cloudwatch:*", "ec2:*"], "*", sid="Max")))
    ec2_only = pol("boundary", doc(allow("ec2:*", "*", sid="Ec2Only")))

    def add(name, desc, decision, identity=None, boundary=None, action="s3:GetObject", resource=OBJ,
            principal=None, resource_policy=None, matched=None, source=BOUNDARIES, session=None, context=None):
        c.add(g, name, desc, source, action=action, resource=resource, identity=identity, boundary=boundary,
              principal=principal, resource_policy=resource_policy, decision=decision, matched=matched,
              session=session, context=context)

    add("both-allow", "Identity policy and boundary both allow: allowed", "Allow",
        [pol("p", doc(allow("s3:GetObject", "*", sid="Read")))], s3_ec2)
    add("boundary-does-not-allow", "An action the boundary does not allow is implicitly denied (iam:CreateUser)",
        "ImplicitDeny", [pol("p", doc(allow("iam:CreateUser", "*", sid="CreateUser")))], s3_ec2,
        action="iam:CreateUser", resource=user_arn("newuser"))
    add("boundary-alone-grants-nothing", "A permissions boundary does not provide permissions on its own",
        "ImplicitDeny", None, s3_ec2)
    add("boundary-explicit-deny", "An explicit deny in the boundary overrides the identity allow", "ExplicitDeny",
        [pol("p", doc(allow("s3:*", "*", sid="All")))],
        pol("boundary", doc(allow("s3:*", "*", sid="ServiceBoundaries"),
                            deny("s3:*", ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"], sid="DenyS3Logs"))),
        resource="arn:aws:s3:::logs/2024-01-01.gz", matched=[("boundary", "DenyS3Logs")])
    own_keys = pol("boundary", doc(allow(["iam:*AccessKey*", "iam:ChangePassword", "iam:GetUser"],
                                         "arn:aws:iam::*:user/${aws:username}",
                                         sid="AllowManageOwnPasswordAndAccessKeys")))
    add("boundary-with-variable-own-user", "A boundary may use policy variables: own access keys are within it",
        "Allow", [pol("p", doc(allow("iam:*", "*", sid="Iam")))], own_keys, action="iam:CreateAccessKey",
        resource=user_arn(), context=[ctx("aws:username", "string", "alice")])
    add("boundary-with-variable-other-user", "Another user's access keys are outside the variable boundary",
        "ImplicitDeny", [pol("p", doc(allow("iam:*", "*", sid="Iam")))], own_keys, action="iam:CreateAccessKey",
        resource=user_arn("bob"), context=[ctx("aws:username", "string", "alice")])
    add("resource-policy-user-not-limited",
        "Same account: a resource policy naming the IAM user is not limited by the boundary's implicit deny",
        "Allow", None, ec2_only, resource_policy=bucket_policy(grant({"AWS": user_arn()})),
        matched=[("bucket", "Grant")], source=DENYALLOW)
    add("resource-policy-role-arn-limited",
        "Same account: a resource policy naming the role ARN is limited by the boundary's implicit deny",
        "ImplicitDeny", None, ec2_only, principal=role_session(),
        resource_policy=bucket_policy(grant({"AWS": ROLE})), source=DENYALLOW)
    add("resource-policy-role-session-not-limited",
        "Same account: a resource policy naming the role session ARN is not limited by the boundary",
        "Allow", None, ec2_only, principal=role_session(),
        resource_policy=bucket_policy(grant({"AWS": SESSION_ARN})), matched=[("bucket", "Grant")],
        source=DENYALLOW)
    add("resource-policy-role-arn-with-boundary-allow",
        "A resource policy naming the role ARN grants when the boundary allows", "Allow", None, s3_ec2,
        principal=role_session(), resource_policy=bucket_policy(grant({"AWS": ROLE})), source=DENYALLOW)
    add("boundary-deny-beats-resource-policy", "An explicit deny in the boundary overrides a resource-policy grant",
        "ExplicitDeny", None, pol("boundary", doc(allow("*", "*", sid="All"), deny("s3:*", "*", sid="NoS3"))),
        resource_policy=bucket_policy(grant({"AWS": user_arn()})), matched=[("boundary", "NoS3")])
    add("role-both-allow", "A role with a boundary: identity and boundary both allow", "Allow",
        [pol("role-policy", doc(allow("ec2:StartInstances", "*", sid="Start")))], s3_ec2, principal=role_session(),
        action="ec2:StartInstances", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    add("notprincipal-deny-always-denies-bounded-principal",
        "A resource-policy NotPrincipal Deny always denies a principal that has a permissions boundary",
        "ExplicitDeny", [pol("p", doc(allow("s3:*", "*", sid="All")))], s3_ec2,
        resource_policy=bucket_policy(
            grant({"AWS": user_arn()}, sid="Grant"),
            st("Deny", "s3:*", [BUCKET, OBJS], "DenyOthers",
               notprincipal={"AWS": [user_arn(), f"arn:aws:iam::{A}:root"]})),
        matched=[("bucket", "DenyOthers")])


def eval_session(c):
    g = "eval-session"
    rs = role_session()

    def add(name, desc, decision, identity=None, session=None, action="s3:GetObject", resource=OBJ,
            principal=rs, resource_policy=None, boundary=None, matched=None, source=SESSION):
        c.add(g, name, desc, source, action=action, resource=resource, identity=identity, session=session,
              principal=principal, resource_policy=resource_policy, boundary=boundary, decision=decision,
              matched=matched)

    role_s3 = [pol("role-policy", doc(allow("s3:*", "*", sid="S3")))]
    read_only = [pol("session", doc(allow("s3:GetObject", "*", sid="SessionRead")))]
    add("intersection-allows", "Session permissions are the intersection of identity and session policies",
        "Allow", role_s3, read_only)
    add("session-does-not-allow", "An action the session policy does not allow is implicitly denied",
        "ImplicitDeny", role_s3, read_only, action="s3:PutObject")
    add("session-alone-grants-nothing", "A session policy cannot grant more than the identity-based policy",
        "ImplicitDeny", [pol("role-policy", doc(allow("ec2:*", "*", sid="Ec2")))],
        [pol("session", doc(allow("s3:*", "*", sid="SessionS3")))])
    add("session-explicit-deny", "An explicit deny in a session policy overrides the allow", "ExplicitDeny",
        role_s3, [pol("session", doc(allow("*", "*", sid="All"), deny("s3:GetObject", "*", sid="NoRead")))],
        matched=[("session", "NoRead")])
    add("no-session-policy-role", "A role session without a session policy is allowed by its identity policy",
        "Allow", role_s3, None, source=DENYALLOW)
    put_session = bucket_policy(grant({"AWS": SESSION_ARN}, action="s3:PutObject", sid="SessionPut"))
    add("resource-policy-session-arn-not-limited",
        "A resource policy naming the session ARN is not limited by the session policy", "Allow", None,
        read_only, action="s3:PutObject", resource_policy=put_session, matched=[("bucket", "SessionPut")])
    put_role = bucket_policy(grant({"AWS": ROLE}, action="s3:PutObject", sid="RolePut"))
    add("resource-policy-role-arn-limited",
        "A resource policy naming the role ARN is limited by the session policy", "ImplicitDeny", None,
        read_only, action="s3:PutObject", resource_policy=put_role)
    add("resource-policy-role-arn-session-allows",
        "Session permissions are the session policy intersected with the resource-based or identity-based policy",
        "Allow", None, [pol("session", doc(allow("s3:PutObject", "*", sid="SessionPut")))], action="s3:PutObject",
        resource_policy=put_role)
    add("with-boundary-intersection", "With a boundary, session permissions are session ∩ boundary ∩ identity",
        "Allow", role_s3, read_only, boundary=pol("boundary", doc(allow("s3:*", "*", sid="MaxS3"))),
        source=BOUNDARIES)
    add("with-boundary-not-allowing", "With a boundary that does not allow the action, the session is denied",
        "ImplicitDeny", role_s3, read_only, boundary=pol("boundary", doc(allow("ec2:*", "*", sid="MaxEc2"))),
        source=BOUNDARIES)
    fed = federated()
    gft = UG + "id_credentials_temp_control-access_getfederationtoken.html"
    user_s3 = [pol("bob-policy", doc(allow("s3:*", "*", sid="S3")))]
    add("federated-user-intersection", "A GetFederationToken session: user's policies ∩ session policy",
        "Allow", user_s3, read_only, principal=fed, source=gft)
    add("federated-user-session-not-allowing", "A federated user is denied what the session policy does not allow",
        "ImplicitDeny", user_s3, read_only, principal=fed, action="s3:PutObject", source=gft)
    add("federated-user-no-session-policy",
        "Without a session policy a GetFederationToken session has no permissions", "ImplicitDeny", user_s3, None,
        principal=fed, source=gft)
    add("federated-user-resource-policy-names-session",
        "A resource policy naming the federated user ARN grants directly to the session", "Allow", None, read_only,
        principal=fed, action="s3:PutObject",
        resource_policy=bucket_policy(grant({"AWS": FED_ARN}, action="s3:PutObject", sid="FedPut")),
        matched=[("bucket", "FedPut")], source=gft)


def eval_scp(c):
    g = "eval-scp"
    full = pol("FullAWSAccess", FULL_ACCESS)
    s3 = pol("AllowS3", doc(allow("s3:*", "*", sid="S3")))
    ec2 = pol("AllowEC2", doc(allow("ec2:*", "*", sid="Ec2")))
    id_all = [pol("p", doc(allow("*", "*", sid="All")))]

    def add(name, desc, decision, scps, identity=id_all, action="s3:GetObject", resource=OBJ, principal=None,
            resource_policy=None, matched=None, source=SCP_EVAL, context=None):
        c.add(g, name, desc, source, action=action, resource=resource, identity=identity, scps=scps,
              principal=principal, resource_policy=resource_policy, decision=decision, matched=matched,
              context=context)

    add("full-access-identity-allow", "With FullAWSAccess the identity policy decides", "Allow", [[full]])
    add("scp-alone-grants-nothing", "SCPs don't grant permissions: FullAWSAccess without an identity allow",
        "ImplicitDeny", [[full]], identity=None, source=SCPS)
    add("scp-does-not-allow-action", "An action no SCP allows is implicitly denied", "ImplicitDeny", [[ec2]])
    add("every-level-allows", "Root and OU levels both allow: allowed", "Allow", [[full], [s3]])
    add("lower-level-does-not-allow", "Every level from the root down must allow: the OU level does not",
        "ImplicitDeny", [[full], [ec2]])
    add("upper-level-does-not-allow", "Every level must allow: the root level does not", "ImplicitDeny",
        [[ec2], [full]])
    add("three-levels-account-level-missing", "The account level itself must allow too", "ImplicitDeny",
        [[full], [full], [ec2]])
    add("level-any-policy-allows", "At one level, an Allow in any attached SCP is enough", "Allow",
        [[full], [ec2, s3]])
    add("deny-at-root-level", "An explicit deny in an SCP at any level denies", "ExplicitDeny",
        [[full, pol("DenyDelete", doc(deny("s3:DeleteBucket", "*", sid="NoDelete")))], [full]],
        action="s3:DeleteBucket", resource=BUCKET, matched=[("DenyDelete", "NoDelete")])
    add("deny-at-lower-level", "An explicit deny in an OU's SCP denies", "ExplicitDeny",
        [[full], [full, pol("DenyDelete", doc(deny("s3:DeleteBucket", "*", sid="NoDelete")))]],
        action="s3:DeleteBucket", resource=BUCKET, matched=[("DenyDelete", "NoDelete")])
    region = pol("DenyRegions", doc(deny("*", "*", sid="DenyOutsideEU", condition={
        "StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]}})))
    add("deny-with-condition-applies", "An SCP Deny conditioned on aws:RequestedRegion denies other regions",
        "ExplicitDeny", [[full, region]], action="ec2:RunInstances",
        resource=f"arn:aws:ec2:us-east-1:{A}:instance/*",
        context=[ctx("aws:RequestedRegion", "string", "us-east-1")], matched=[("DenyRegions", "DenyOutsideEU")])
    add("deny-with-condition-spares", "The region SCP spares the listed regions", "Allow", [[full, region]],
        action="ec2:RunInstances", resource=f"arn:aws:ec2:eu-west-1:{A}:instance/*",
        context=[ctx("aws:RequestedRegion", "string", "eu-west-1")])
    add("root-user-bound-by-scp", "SCPs limit the member account's root user: an action no SCP allows",
        "ImplicitDeny", [[ec2]], identity=None, principal=root(), source=SCPS)
    add("root-user-scp-deny", "An SCP explicit deny applies to the root user", "ExplicitDeny",
        [[full, pol("DenyDelete", doc(deny("s3:DeleteBucket", "*", sid="NoDelete")))]], identity=None,
        principal=root(), action="s3:DeleteBucket", resource=BUCKET, matched=[("DenyDelete", "NoDelete")],
        source=SCPS)
    add("root-user-scp-allows", "The root user is allowed what the SCPs allow", "Allow", [[full], [s3]],
        identity=None, principal=root(), source=SCPS)
    add("scp-limits-resource-policy-grant",
        "SCPs are checked before resource-based policies: a bucket-policy grant does not escape them",
        "ImplicitDeny", [[ec2]], identity=None,
        resource_policy=bucket_policy(grant({"AWS": user_arn()})), source=DENYALLOW)


def eval_resource(c):
    g = "eval-resource"

    def add(name, desc, decision, resource_policy, identity=None, action="s3:GetObject", resource=OBJ,
            principal=None, matched=None, source=DENYALLOW, resource_account=None, context=None):
        c.add(g, name, desc, source, action=action, resource=resource, identity=identity,
              resource_policy=resource_policy, principal=principal, decision=decision, matched=matched,
              resource_account=resource_account, context=context)

    id_s3 = [pol("p", doc(allow("s3:*", "*", sid="S3")))]
    add("same-account-user-named", "Same account: a resource policy naming the user grants without identity policy",
        "Allow", bucket_policy(grant({"AWS": user_arn()})), matched=[("bucket", "Grant")])
    add("same-account-other-user-named", "A resource policy naming another user grants nothing to this one",
        "ImplicitDeny", bucket_policy(grant({"AWS": user_arn("bob")})), source=PRINCIPAL)
    add("either-policy-suffices", "Same account: an identity allow suffices when the resource policy is silent",
        "Allow", bucket_policy(grant({"AWS": user_arn("bob")})), identity=id_s3, source=BASICS)
    add("resource-deny-overrides-identity-allow", "An explicit deny in the resource policy overrides the identity allow",
        "ExplicitDeny", bucket_policy(grant({"AWS": user_arn()}, effect="Deny", sid="DenyAlice")), identity=id_s3,
        matched=[("bucket", "DenyAlice")])
    add("identity-deny-overrides-resource-allow", "An explicit deny in the identity policy overrides the resource grant",
        "ExplicitDeny", bucket_policy(grant({"AWS": user_arn()})),
        identity=[pol("p", doc(deny("s3:*", "*", sid="NoS3")))], matched=[("p", "NoS3")])
    add("principal-star-same-account", "Principal * grants to IAM users of the account without other permissions",
        "Allow", bucket_policy(grant("*", sid="Public")), source=PRINCIPAL, matched=[("bucket", "Public")])
    add("principal-aws-star-same-account", "Principal {\"AWS\": \"*\"} grants to everyone as well",
        "Allow", bucket_policy(grant({"AWS": "*"}, sid="Public")), source=PRINCIPAL, matched=[("bucket", "Public")])
    add("account-root-principal-needs-identity",
        "An account principal delegates to the account: its users still need identity permissions",
        "ImplicitDeny", bucket_policy(grant({"AWS": f"arn:aws:iam::{A}:root"})), source=PRINCIPAL)
    add("account-root-principal-with-identity",
        "An account principal plus an identity allow: allowed", "Allow",
        bucket_policy(grant({"AWS": f"arn:aws:iam::{A}:root"})), identity=id_s3, source=PRINCIPAL)
    add("bare-account-id-needs-identity", "A bare account id behaves like the account root ARN (delegation)",
        "ImplicitDeny", bucket_policy(grant({"AWS": A})), source=PRINCIPAL)
    add("bare-account-id-with-identity", "A bare account id plus an identity allow: allowed", "Allow",
        bucket_policy(grant({"AWS": A})), identity=id_s3, source=PRINCIPAL)
    add("principal-list-is-or", "Several principals in Principal are combined with OR", "Allow",
        bucket_policy(grant({"AWS": ["555555555555", user_arn()]})), source=PRINCIPAL, matched=[("bucket", "Grant")])
    add("principal-user-name-case-sensitive", "In Principal, the user name part of the ARN is case sensitive",
        "ImplicitDeny", bucket_policy(grant({"AWS": user_arn("Alice")})), source=PRINCIPAL)
    add("role-session-arn-named", "Same account: naming the role session ARN grants to that session", "Allow",
        bucket_policy(grant({"AWS": SESSION_ARN})), principal=role_session(), matched=[("bucket", "Grant")])
    add("role-arn-named-no-identity",
        "Same account: naming the role ARN is not limited by an implicit deny in the identity policy", "Allow",
        bucket_policy(grant({"AWS": ROLE})), principal=role_session(), matched=[("bucket", "Grant")])
    add("other-session-of-role-not-named", "Naming one role session does not grant to another session",
        "ImplicitDeny", bucket_policy(grant({"AWS": f"arn:aws:sts::{A}:assumed-role/app-role/other-session"})),
        principal=role_session())
    add("action-not-granted", "A resource policy grants only its actions", "ImplicitDeny",
        bucket_policy(grant({"AWS": user_arn()}, action="s3:GetObject")), action="s3:DeleteObject")
    add("resource-not-granted", "A resource policy grants only its resources", "ImplicitDeny",
        bucket_policy(grant({"AWS": user_arn()}, resource=BUCKET)))
    deny_others = bucket_policy(
        grant("*", action="s3:GetObject", sid="Read"),
        grant("*", sid="UsePrincipalArnInsteadOfNotPrincipalWithDeny", effect="Deny",
              condition={"ArnNotEquals": {"aws:PrincipalArn": user_arn("user-name")}}))
    add("principal-arn-deny-others", "Deny Principal * unless aws:PrincipalArn is the named user: another user",
        "ExplicitDeny", deny_others, source=PRINCIPAL, context=[ctx("aws:PrincipalArn", "string", user_arn())],
        matched=[("bucket", "UsePrincipalArnInsteadOfNotPrincipalWithDeny")])
    add("principal-arn-deny-spares-named", "Deny Principal * unless aws:PrincipalArn is the named user: that user",
        "Allow", deny_others, source=PRINCIPAL, principal=user("user-name"),
        context=[ctx("aws:PrincipalArn", "string", user_arn("user-name"))], matched=[("bucket", "Read")])
    add("anonymous-principal-star", "Principal * with Allow grants access to anonymous users", "Allow",
        bucket_policy(grant("*", action="s3:GetObject", sid="Public")), principal=anonymous(),
        resource_account=A, source=PRINCIPAL, matched=[("bucket", "Public")])
    add("anonymous-account-principal", "An account principal does not grant anything to anonymous users",
        "ImplicitDeny", bucket_policy(grant({"AWS": A})), principal=anonymous(), resource_account=A,
        source=PRINCIPAL)
    add("anonymous-no-resource-policy", "Without a resource policy anonymous requests are denied", "ImplicitDeny",
        None, principal=anonymous(), resource_account=A)
    add("service-principal-named", "A resource policy may name an AWS service principal", "Allow",
        pol("queue-policy", doc(st("Allow", "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{A}:queue1", "FromTopic",
                                   {"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:us-east-1:{A}:topic1"}},
                                   principal={"Service": "sns.amazonaws.com"}))),
        principal=service("sns.amazonaws.com"), action="sqs:SendMessage",
        resource=f"arn:aws:sqs:us-east-1:{A}:queue1", resource_account=A, source=OPERATORS,
        context=[ctx("aws:SourceArn", "string", f"arn:aws:sns:us-east-1:{A}:topic1")],
        matched=[("queue-policy", "FromTopic")])


def eval_cross_account(c):
    g = "eval-cross-account"
    carlos = user("carlossalazar", "111111111111")
    carlos_policy = pol("carlos", doc(
        allow("s3:ListAllMyBuckets", "*", sid="AllowS3ListRead"),
        allow("s3:*Object*", "arn:aws:s3:::Production/*", sid="AllowS3ProductionObjectActions"),
        deny("s3:*", ["arn:aws:s3:::*log*", "arn:aws:s3:::*log*/*"], sid="DenyS3Logs")))
    production = pol("production", doc(st(
        "Allow", ["s3:GetObject*", "s3:PutObject*", "s3:ReplicateObject", "s3:RestoreObject"],
        "arn:aws:s3:::Production/*", principal={"AWS": "arn:aws:iam::111111111111:user/carlossalazar"},
        sid="CarlosObjects")))

    def add(name, desc, decision, identity=None, resource_policy=None, principal=None, action="s3:GetObject",
            resource=OBJ, resource_account=B, matched=None, source=CROSS, boundary=None, session=None, scps=None):
        c.add(g, name, desc, source, action=action, resource=resource, identity=identity,
              resource_policy=resource_policy, principal=principal, resource_account=resource_account,
              decision=decision, matched=matched, boundary=boundary, session=session, scps=scps)

    add("doc-both-sides-allow", "Cross-account: identity policy and bucket policy both allow Production/*",
        "Allow", [carlos_policy], production, carlos, "s3:PutObject", "arn:aws:s3:::Production/file.txt",
        "222222222222")
    add("doc-identity-deny-log-bucket", "Cross-account: the trusted account's explicit deny decides",
        "ExplicitDeny", [carlos_policy], None, carlos, "s3:PutObject", "arn:aws:s3:::Production-logs/file.txt",
        "222222222222", matched=[("carlos", "DenyS3Logs")])
    add("doc-delete-not-granted", "Cross-account: the bucket policy does not grant DeleteObject", "ImplicitDeny",
        [carlos_policy], production, carlos, "s3:DeleteObject", "arn:aws:s3:::Production/file.txt",
        "222222222222")
    id_s3 = [pol("p", doc(allow("s3:*", "*", sid="S3")))]
    add("resource-policy-without-identity", "Cross-account: a resource-policy grant alone is not enough",
        "ImplicitDeny", None, bucket_policy(grant({"AWS": user_arn()})))
    add("identity-without-resource-policy", "Cross-account: an identity allow alone is not enough",
        "ImplicitDeny", id_s3, None)
    add("resource-policy-names-user", "Cross-account: resource policy naming the user plus identity allow",
        "Allow", id_s3, bucket_policy(grant({"AWS": user_arn()})))
    add("resource-policy-names-account", "Cross-account: resource policy naming the account plus identity allow",
        "Allow", id_s3, bucket_policy(grant({"AWS": f"arn:aws:iam::{A}:root"})), source=PRINCIPAL)
    add("resource-policy-names-other-account", "Cross-account: a grant to a third account does not apply",
        "ImplicitDeny", id_s3, bucket_policy(grant({"AWS": C})))
    add("resource-policy-deny", "Cross-account: an explicit deny in the resource policy decides", "ExplicitDeny",
        id_s3, bucket_policy(grant({"AWS": f"arn:aws:iam::{A}:root"}),
                             grant({"AWS": user_arn()}, effect="Deny", sid="NoAlice")),
        matched=[("bucket", "NoAlice")])
    add("principal-star-needs-identity", "Principal * grants other accounts' principals only with identity permissions",
        "ImplicitDeny", None, bucket_policy(grant("*", sid="Public")), source=PRINCIPAL)
    add("principal-star-with-identity", "Principal * plus an identity allow in the other account: allowed",
        "Allow", id_s3, bucket_policy(grant("*", sid="Public")), source=PRINCIPAL)
    add("role-session-session-policy-limits",
        "Cross-account: a session policy limits the requester's side even when the session ARN is named",
        "ImplicitDeny", [pol("role-policy", doc(allow("s3:*", "*", sid="S3")))],
        bucket_policy(grant({"AWS": SESSION_ARN})), role_session(), action="s3:PutObject",
        session=[pol("session", doc(allow("s3:GetObject", "*", sid="SessionRead")))])
    add("boundary-limits-requester", "Cross-account: the requester's permissions boundary applies",
        "ImplicitDeny", id_s3, bucket_policy(grant({"AWS": user_arn()})),
        boundary=pol("boundary", doc(allow("ec2:*", "*", sid="Ec2Only"))))
    add("scp-limits-requester", "Cross-account: the requester's SCPs apply", "ImplicitDeny", id_s3,
        bucket_policy(grant({"AWS": user_arn()})), scps=[[pol("AllowEC2", doc(allow("ec2:*", "*", sid="Ec2")))]],
        source=SCP_EVAL)


def eval_root(c):
    g = "eval-root"

    def add(name, desc, decision, resource_policy=None, action="s3:DeleteBucket", resource=BUCKET,
            resource_account=None, matched=None, source=DENYALLOW):
        c.add(g, name, desc, source, action=action, resource=resource, principal=root(),
              resource_policy=resource_policy, resource_account=resource_account, decision=decision,
              matched=matched)

    add("root-full-access", "The account root user has full access by default", "Allow")
    add("root-any-action", "The root user needs no identity-based policy for any action", "Allow",
        action="iam:CreateUser", resource=user_arn("newuser"), source=POLICIES_ROOT)
    add("root-resource-policy-deny", "An explicit deny in a resource-based policy applies to the root user",
        "ExplicitDeny", bucket_policy(grant("*", effect="Deny", sid="DenyAll", action="s3:DeleteBucket")),
        matched=[("bucket", "DenyAll")])
    add("root-resource-policy-deny-names-account", "A Deny naming the account applies to its root user",
        "ExplicitDeny", bucket_policy(grant({"AWS": f"arn:aws:iam::{A}:root"}, effect="Deny", sid="DenyAcct",
                                            action="s3:DeleteBucket")),
        matched=[("bucket", "DenyAcct")])
    add("root-cross-account-needs-resource-policy", "Another account's resource needs its resource policy's grant",
        "ImplicitDeny", None, action="s3:GetObject", resource=OBJ, resource_account=B, source=CROSS)
    add("root-cross-account-granted", "A resource policy naming the account grants its root user", "Allow",
        bucket_policy(grant({"AWS": f"arn:aws:iam::{A}:root"})), action="s3:GetObject", resource=OBJ,
        resource_account=B, source=CROSS)


def eval_trust(c):
    g = "eval-trust"
    role = f"arn:aws:iam::{A}:role/app-role"

    def trust(*statements):
        return {"id": "trust", "kind": "trust", "document": doc(*statements)}

    def tst(principal, sid="Trust", effect="Allow", condition=None):
        return st(effect, "sts:AssumeRole", None, sid, condition, principal=principal)

    def add(name, desc, decision, trust_policy, identity=None, principal=None, matched=None, source=ASSUME_ROLE,
            context=None):
        c.add(g, name, desc, source, action="sts:AssumeRole", resource=role, principal=principal,
              identity=identity, resource_policy=trust_policy, resource_account=A, decision=decision,
              matched=matched, context=context)

    may_assume = [pol("p", doc(allow("sts:AssumeRole", role, sid="Assume")))]
    add("names-user-same-account", "Same account: a trust policy naming the user lets it assume without identity policy",
        "Allow", trust(tst({"AWS": user_arn()})), matched=[("trust", "Trust")])
    add("names-account-needs-identity", "A trust policy trusting the account needs the user's identity permission",
        "ImplicitDeny", trust(tst({"AWS": f"arn:aws:iam::{A}:root"})))
    add("names-account-with-identity", "Trust policy trusts the account and the user may call AssumeRole",
        "Allow", trust(tst({"AWS": f"arn:aws:iam::{A}:root"})), may_assume)
    add("identity-allows-trust-does-not", "Trust policies must explicitly allow: an identity allow is not enough",
        "ImplicitDeny", trust(tst({"AWS": user_arn("bob")})), may_assume, source=DENYALLOW)
    add("trust-deny", "An explicit deny in the trust policy overrides every allow", "ExplicitDeny",
        trust(tst({"AWS": f"arn:aws:iam::{A}:root"}), tst({"AWS": user_arn()}, sid="NoAlice", effect="Deny")),
        may_assume, matched=[("trust", "NoAlice")], source=DENYALLOW)
    add("identity-deny", "An explicit deny in the identity policy stops AssumeRole", "ExplicitDeny",
        trust(tst({"AWS": user_arn()})), [pol("p", doc(deny("sts:AssumeRole", "*", sid="NoAssume")))],
        matched=[("p", "NoAssume")], source=DENYALLOW)
    bob = user("bob", B)
    add("cross-account-names-user-with-identity", "Cross-account: trusted user with permission to call AssumeRole",
        "Allow", trust(tst({"AWS": user_arn("bob", B)})), may_assume, bob)
    add("cross-account-names-user-no-identity", "Cross-account: the trusted user also needs identity permission",
        "ImplicitDeny", trust(tst({"AWS": user_arn("bob", B)})), None, bob)
    add("cross-account-names-account-with-identity", "Cross-account: trusting the account plus identity permission",
        "Allow", trust(tst({"AWS": B})), may_assume, bob)
    ext = trust(tst({"AWS": B}, condition={"StringEquals": {"sts:ExternalId": "Unique-ID-42"}}))
    add("external-id-matches", "A trust policy condition on sts:ExternalId is met", "Allow", ext, may_assume, bob,
        context=[ctx("sts:ExternalId", "string", "Unique-ID-42")], source=UG + "id_roles_common-scenarios_third-party.html")
    add("external-id-missing", "A trust policy condition on sts:ExternalId fails without the external id",
        "ImplicitDeny", ext, may_assume, bob, source=UG + "id_roles_common-scenarios_third-party.html")
    ec2_trust = trust(tst({"Service": "ec2.amazonaws.com"}))
    add("service-principal-trusted", "A trust policy may let an AWS service assume the role", "Allow", ec2_trust,
        principal=service("ec2.amazonaws.com"), matched=[("trust", "Trust")], source=PRINCIPAL)
    add("service-principal-not-trusted", "A service the trust policy does not name cannot assume the role",
        "ImplicitDeny", trust(tst({"Service": "lambda.amazonaws.com"})), principal=service("ec2.amazonaws.com"),
        source=PRINCIPAL)
    add("multiple-services-list", "Several service principals are listed in one Service array", "Allow",
        trust(tst({"Service": ["ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com"]})),
        principal=service("elasticloadbalancing.amazonaws.com"), matched=[("trust", "Trust")], source=PRINCIPAL)


def not_principal(c):
    g = "not-principal"
    bob_arn = user_arn("Bob", B)
    policy = bucket_policy(
        grant("*", action="s3:GetObject", sid="Read"),
        st("Deny", "s3:*", [BUCKET, OBJS], "DenyAllButBob",
           notprincipal={"AWS": [bob_arn, f"arn:aws:iam::{B}:root"]}))
    id_s3 = [pol("p", doc(allow("s3:*", "*", sid="S3")))]

    def add(name, desc, decision, principal, identity=id_s3, matched=None, resource_policy=policy,
            resource_account=A):
        c.add(g, name, desc, NOTPRINCIPAL, action="s3:GetObject", resource=OBJ, principal=principal,
              identity=identity, resource_policy=resource_policy, resource_account=resource_account,
              decision=decision, matched=matched)

    add("deny-spares-named-user", "Deny + NotPrincipal does not deny the named user (Bob)", "Allow",
        user("Bob", B))
    add("deny-denies-other-account", "Deny + NotPrincipal denies principals of other accounts", "ExplicitDeny",
        user("carol", C), matched=[("bucket", "DenyAllButBob")])
    add("deny-denies-same-account-as-bob", "All principals except Bob are denied, including others in Bob's account",
        "ExplicitDeny", user("dave", B), matched=[("bucket", "DenyAllButBob")])
    add("deny-denies-resource-account-user", "Deny + NotPrincipal denies users of the resource's own account",
        "ExplicitDeny", user("alice", A), identity=None, matched=[("bucket", "DenyAllButBob")])
    add("deny-alone-grants-nothing", "Deny + NotPrincipal does not grant Bob access by itself", "ImplicitDeny",
        user("Bob", B), resource_policy=bucket_policy(
            st("Deny", "s3:*", [BUCKET, OBJS], "DenyAllButBob",
               notprincipal={"AWS": [bob_arn, f"arn:aws:iam::{B}:root"]})))
    allow_not = bucket_policy(st("Allow", "s3:GetObject", OBJS, "AllButCarol",
                                 notprincipal={"AWS": user_arn("carol")}))
    add("allow-grants-everyone-else", "Allow + NotPrincipal grants to all principals except the one named",
        "Allow", user("alice"), identity=None, resource_policy=allow_not, matched=[("bucket", "AllButCarol")])
    add("allow-excludes-named", "Allow + NotPrincipal does not grant to the named principal", "ImplicitDeny",
        user("carol"), identity=None, resource_policy=allow_not)
