"""Groups: actions, resources, not-action, not-resource, document, parse-errors."""

from lib import *  # noqa: F401,F403

EC2_INSTANCE = f"arn:aws:ec2:us-east-1:{A}:instance/i-0123456789abcdef0"


def actions(c):
    def case(name, desc, pattern, action, allowed, resource=OBJ):
        c.add("actions", name, desc, ACTION, action=action, resource=resource,
              identity=[pol("p", doc(allow(pattern, "*", sid="A")))],
              decision="Allow" if allowed else "ImplicitDeny",
              matched=[("p", "A")] if allowed else None)

    case("exact-match", "An action named exactly in Action matches the request",
         "s3:GetObject", "s3:GetObject", True)
    case("other-action-no-match", "An action only matches the action it names",
         "s3:GetObject", "s3:PutObject", False)
    case("case-insensitive-in-policy",
         "The prefix and the action name are case insensitive: IAM:listaccesskeys is iam:ListAccessKeys",
         "IAM:listaccesskeys", "iam:ListAccessKeys", True, resource=user_arn())
    case("case-insensitive-in-request",
         "Action matching ignores case on the request side too",
         "iam:ListAccessKeys", "IAM:LISTACCESSKEYS", True, resource=user_arn())
    case("star-suffix", "A trailing * matches any rest of the action name",
         "s3:Get*", "s3:GetObjectAcl", True)
    case("star-suffix-other-prefix", "s3:Get* does not match an action that does not start with Get",
         "s3:Get*", "s3:PutObject", False)
    case("star-case-insensitive", "Wildcard action patterns are matched without regard to case",
         "s3:get*", "s3:GetObject", True)
    case("star-infix", "A * may appear anywhere in the action name (iam:*AccessKey*)",
         "iam:*AccessKey*", "iam:CreateAccessKey", True, resource=user_arn())
    case("star-infix-no-match", "iam:*AccessKey* does not match an action without AccessKey",
         "iam:*AccessKey*", "iam:CreateUser", False, resource=user_arn())
    case("question-mark", "? matches exactly one character",
         "s3:GetObjec?", "s3:GetObject", True)
    case("question-mark-single-char-only", "? does not match more than one character",
         "s3:GetObjec?", "s3:GetObjectAcl", False)
    case("question-mark-not-zero-chars", "? does not match zero characters",
         "s3:GetObject?", "s3:GetObject", False)
    case("service-star", "service:* matches every action of that service",
         "s3:*", "s3:DeleteBucket", True, resource=BUCKET)
    case("service-star-not-s3express", "s3:* does not match another service whose prefix starts with s3",
         "s3:*", "s3express:CreateSession", False,
         resource=f"arn:aws:s3express:us-east-1:{A}:bucket/data--use1-az4--x-s3")
    case("service-star-not-s3-object-lambda", "s3:* does not match s3-object-lambda actions",
         "s3:*", "s3-object-lambda:GetObject", False,
         resource=f"arn:aws:s3-object-lambda:us-east-1:{A}:accesspoint/olap")
    case("service-star-not-ec2messages", "ec2:* does not match the ec2messages service",
         "ec2:*", "ec2messages:GetMessages", False)
    case("star-alone-any-action", "Action * matches every action of every service",
         "*", "ec2:RunInstances", True, resource=EC2_INSTANCE)
    case("no-implicit-prefix", "An action string without a wildcard is not a prefix pattern",
         "s3:Get", "s3:GetObject", False)
    case("list-any-entry", "An Action list matches if any entry matches",
         ["ec2:StartInstances", "ec2:StopInstances"], "ec2:StopInstances", True, resource=EC2_INSTANCE)
    case("list-no-entry", "An Action list does not match an action none of its entries match",
         ["ec2:StartInstances", "ec2:StopInstances"], "ec2:TerminateInstances", False,
         resource=EC2_INSTANCE)

    # The explicit/implicit deny example of the IAM User Guide.
    report = doc(allow(["iam:Get*", "iam:List*"], "*", sid="AllowGetList"),
                 deny("iam:*Report", "*", sid="DenyReports"))
    for name, action, decision, matched in [
        ("doc-allow-get-list", "iam:GetUser", "Allow", [("p", "AllowGetList")]),
        ("doc-report-explicitly-denied", "iam:GetOrganizationsAccessReport", "ExplicitDeny",
         [("p", "DenyReports")]),
        ("doc-create-policy-implicitly-denied", "iam:CreatePolicy", "ImplicitDeny", None),
    ]:
        c.add("actions", name,
              f"AllowGetList/DenyReports example: {action} is {decision}", INTERPLAY,
              action=action, resource="*", identity=[pol("p", report)],
              decision=decision, matched=matched)


def resources(c):
    def case(name, desc, pattern, resource, allowed, action="s3:GetObject", source=RESOURCE):
        c.add("resources", name, desc, source, action=action, resource=resource,
              identity=[pol("p", doc(allow(action, pattern, sid="R")))],
              decision="Allow" if allowed else "ImplicitDeny",
              matched=[("p", "R")] if allowed else None)

    case("exact-arn", "A Resource ARN matches the identical request ARN", OBJ, OBJ, True)
    case("star-any-resource", "Resource * matches every resource", "*", OBJ, True)
    case("bucket-star-crosses-slash", "arn:aws:s3:::bucket/* matches objects at any depth (* spans /)",
         "arn:aws:s3:::examplebucket/*", "arn:aws:s3:::examplebucket/a/b/c.txt", True)
    case("bucket-star-not-bucket", "arn:aws:s3:::bucket/* does not match the bucket ARN itself",
         "arn:aws:s3:::examplebucket/*", BUCKET, False, action="s3:ListBucket")
    case("bucket-arn-not-objects", "A bucket ARN without a wildcard does not match the objects in it",
         BUCKET, OBJ, False)
    case("case-sensitive-bucket", "Resource matching is case sensitive",
         "arn:aws:s3:::ExampleBucket/*", OBJ, False)
    case("case-sensitive-iam-user", "In the Resource element, the IAM user name is case sensitive",
         f"arn:aws:iam::{A}:user/Bob", f"arn:aws:iam::{A}:user/bob", False, action="iam:GetUser")
    case("iam-user-exact", "An IAM user ARN matches that user",
         f"arn:aws:iam::{A}:user/Bob", f"arn:aws:iam::{A}:user/Bob", True, action="iam:GetUser")
    doc_pattern = "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*"
    for i, key in enumerate(["1/test/object.jpg", "1/2/test/object.jpg", "1/2/test/3/object.jpg",
                             "1/2/3/test/4/object.jpg", "1///test///object.jpg", "1/test/.jpg",
                             "/test/object.jpg", "1/test/"]):
        case(f"doc-star-test-star-matches-{i + 1}",
             f"The IAM User Guide lists amzn-s3-demo-bucket/{key} as matched by .../*/test/*",
             doc_pattern, "arn:aws:s3:::amzn-s3-demo-bucket/" + key, True)
    for i, key in enumerate(["1-test/object.jpg", "test/object.jpg", "1/2/test.jpg"]):
        case(f"doc-star-test-star-no-match-{i + 1}",
             f"The IAM User Guide lists amzn-s3-demo-bucket/{key} as not matched by .../*/test/*",
             doc_pattern, "arn:aws:s3:::amzn-s3-demo-bucket/" + key, False)
    case("question-mark-one-char", "? in a resource ARN matches exactly one character",
         "arn:aws:s3:::examplebucket/file?.txt", "arn:aws:s3:::examplebucket/file1.txt", True)
    case("question-mark-not-two-chars", "? in a resource ARN does not match two characters",
         "arn:aws:s3:::examplebucket/file?.txt", "arn:aws:s3:::examplebucket/file10.txt", False)
    case("star-then-suffix", "A * followed by literal text requires that suffix",
         "arn:aws:s3:::examplebucket/*.txt", "arn:aws:s3:::examplebucket/2024/report.txt", True)
    case("star-then-suffix-no-match", "A * followed by literal text does not match another suffix",
         "arn:aws:s3:::examplebucket/*.txt", "arn:aws:s3:::examplebucket/2024/report.csv", False)
    case("iam-path-wildcard", "user/accounting/* matches users whose path is /accounting/",
         f"arn:aws:iam::{A}:user/accounting/*", f"arn:aws:iam::{A}:user/accounting/carol", True,
         action="iam:GetUser")
    case("iam-path-wildcard-other-path", "user/accounting/* does not match a user on another path",
         f"arn:aws:iam::{A}:user/accounting/*", f"arn:aws:iam::{A}:user/sales/carol", False,
         action="iam:GetUser")
    table = f"arn:aws:dynamodb:us-east-2:{A}:table/books_table"
    case("region-wildcard", "A * in the region segment matches any region",
         f"arn:aws:dynamodb:*:{A}:table/books_table", table, True, action="dynamodb:GetItem")
    case("account-wildcard", "A * in the account segment matches any account",
         "arn:aws:dynamodb:us-east-2:*:table/books_table", table, True, action="dynamodb:GetItem")
    case("region-mismatch", "A literal region segment must equal the request's region",
         f"arn:aws:dynamodb:us-east-1:{A}:table/books_table", table, False, action="dynamodb:GetItem")
    case("account-mismatch", "A literal account segment must equal the request's account",
         f"arn:aws:dynamodb:us-east-2:{B}:table/books_table", table, False, action="dynamodb:GetItem")
    case("list-any-entry", "A Resource list matches if any entry matches",
         [f"arn:aws:dynamodb:us-east-2:{A}:table/books_table",
          f"arn:aws:dynamodb:us-east-2:{A}:table/magazines_table"],
         f"arn:aws:dynamodb:us-east-2:{A}:table/magazines_table", True, action="dynamodb:GetItem")
    case("list-no-entry", "A Resource list does not match a resource none of its entries match",
         [f"arn:aws:dynamodb:us-east-2:{A}:table/books_table",
          f"arn:aws:dynamodb:us-east-2:{A}:table/magazines_table"],
         f"arn:aws:dynamodb:us-east-2:{A}:table/newspapers_table", False, action="dynamodb:GetItem")
    case("s3-empty-segments-star", "Wildcards in the region and account segments match the empty segments of S3 ARNs",
         "arn:aws:s3:*:*:examplebucket/*", OBJ, True, source=IDENTIFIERS)
    case("s3-literal-region-vs-empty", "A literal region does not match the empty region segment of an S3 ARN",
         "arn:aws:s3:us-east-1::examplebucket/*", OBJ, False, source=IDENTIFIERS)
    case("partition-mismatch", "The partition segment must match (aws-cn is not aws)",
         "arn:aws-cn:s3:::examplebucket/*", OBJ, False, source=IDENTIFIERS)
    case("service-mismatch", "The service segment must match (sqs is not sns)",
         "arn:aws:sqs:*:*:*", f"arn:aws:sns:us-east-1:{A}:topic1", False, action="sns:Publish")
    case("resource-part-star-crosses-colon",
         "After the fifth colon the resource part is one unit: * also matches colons in it",
         f"arn:aws:logs:us-east-1:{A}:log-group:app-logs:*",
         f"arn:aws:logs:us-east-1:{A}:log-group:app-logs:log-stream:web-1", True,
         action="logs:PutLogEvents")
    case("resource-part-literal-mismatch",
         "Literal text in a resource part with colons must still match",
         f"arn:aws:logs:us-east-1:{A}:log-group:app-*:log-stream:web-*",
         f"arn:aws:logs:us-east-1:{A}:log-group:db-logs:log-stream:web-1", False,
         action="logs:PutLogEvents")
    case("trailing-star-crosses-segments",
         "A * that is the last character of an ARN segment can expand beyond the colon boundaries",
         "arn:aws:ec2:*", EC2_INSTANCE, True, action="ec2:StartInstances")

    # The Carlos example of the IAM User Guide (same account).
    carlos = doc(
        allow("s3:*", ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"], sid="AllowS3Self"),
        deny("s3:*", "arn:aws:s3:::*log*", sid="DenyS3Logs"))
    c.add("resources", "doc-carlos-log-bucket-denied",
          "arn:aws:s3:::*log* denies objects of carlossalazar-logs (the * spans the /)", BASICS,
          action="s3:PutObject", resource="arn:aws:s3:::carlossalazar-logs/file.txt",
          principal=user("carlossalazar"), identity=[pol("carlos", carlos)],
          decision="ExplicitDeny", matched=[("carlos", "DenyS3Logs")])
    c.add("resources", "doc-carlos-own-bucket-allowed",
          "carlossalazar may write to his own bucket, which has no 'log' in its name", BASICS,
          action="s3:PutObject", resource="arn:aws:s3:::carlossalazar/file.txt",
          principal=user("carlossalazar"), identity=[pol("carlos", carlos)],
          decision="Allow", matched=[("carlos", "AllowS3Self")])


def not_action(c):
    def add(name, desc, statements, action, resource, decision, context=None, matched=None):
        c.add("not-action", name, desc, NOTACTION, action=action, resource=resource,
              identity=[pol("p", doc(*statements))], decision=decision, context=context,
              matched=matched)

    all_but_iam = allow(None, "*", sid="NotIam", notaction="iam:*")
    add("allow-grants-other-services", "Allow + NotAction iam:* + Resource * allows every non-IAM action",
        [all_but_iam], "s3:GetObject", OBJ, "Allow", matched=[("p", "NotIam")])
    add("allow-excludes-listed", "Allow + NotAction does not allow the listed actions",
        [all_but_iam], "iam:CreateUser", user_arn("carol"), "ImplicitDeny")
    add("listed-case-insensitive", "NotAction entries are matched without regard to case",
        [allow(None, "*", sid="NotIam", notaction="IAM:*")], "iam:CreateUser", user_arn("carol"),
        "ImplicitDeny")
    scoped = allow(None, "arn:aws:s3:::*", sid="S3NotDelete", notaction="s3:DeleteBucket")
    add("allow-scoped-by-resource", "Allow + NotAction s3:DeleteBucket on arn:aws:s3:::* allows other S3 actions",
        [scoped], "s3:GetObject", OBJ, "Allow", matched=[("p", "S3NotDelete")])
    add("allow-scoped-excludes-listed", "The listed action stays not allowed",
        [scoped], "s3:DeleteBucket", BUCKET, "ImplicitDeny")
    add("allow-scoped-other-service-resource",
        "Actions of other services are not allowed when their resource does not match the Resource",
        [scoped], "ec2:StartInstances", EC2_INSTANCE, "ImplicitDeny")
    mfa = deny(None, "*", sid="DenyAllUsersNotUsingMFA", notaction="iam:*",
               condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})
    everything = allow("*", "*", sid="All")
    add("deny-denies-unlisted-without-mfa",
        "Deny + NotAction iam:* with BoolIfExists MFA=false denies non-IAM actions when MFA is absent",
        [everything, mfa], "s3:GetObject", OBJ, "ExplicitDeny",
        matched=[("p", "DenyAllUsersNotUsingMFA")])
    add("deny-spares-listed", "Deny + NotAction iam:* does not deny IAM actions",
        [everything, mfa], "iam:ListUsers", "*", "Allow")
    add("deny-condition-false-with-mfa", "With MFA present the condition fails and nothing is denied",
        [everything, mfa], "s3:GetObject", OBJ, "Allow",
        context=[ctx("aws:MultiFactorAuthPresent", "boolean", "true")])
    add("deny-grants-nothing", "Deny + NotAction does not allow the listed actions by itself",
        [mfa], "iam:ListUsers", "*", "ImplicitDeny")
    lst = allow(None, "*", sid="NotIamOrOrgs", notaction=["iam:*", "organizations:*"])
    add("list-excludes-each-entry", "Every entry of a NotAction list is excluded",
        [lst], "organizations:ListAccounts", "*", "ImplicitDeny")
    add("list-allows-others", "Actions in none of the NotAction entries are allowed",
        [lst], "ec2:DescribeInstances", "*", "Allow", matched=[("p", "NotIamOrOrgs")])
    add("wildcard-entry", "A NotAction entry with a wildcard excludes every action it matches",
        [allow(None, "*", sid="NotGet", notaction="s3:Get*")], "s3:GetObjectAcl", OBJ, "ImplicitDeny")


def not_resource(c):
    def add(name, desc, statements, resource, decision, action="s3:GetObject", matched=None):
        c.add("not-resource", name, desc, NOTRESOURCE, action=action, resource=resource,
              identity=[pol("p", doc(*statements))], decision=decision, matched=matched)

    payroll = deny("s3:*", None, sid="DenyOutsidePayroll",
                   notresource=["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"])
    everything = allow("*", "*", sid="All")
    add("deny-denies-unlisted", "Deny + NotResource denies every resource that is not listed",
        [everything, payroll], "arn:aws:s3:::HRBucket/Other/report.csv", "ExplicitDeny",
        matched=[("p", "DenyOutsidePayroll")])
    add("deny-spares-listed", "Deny + NotResource does not deny the listed resources",
        [everything, payroll], "arn:aws:s3:::HRBucket/Payroll/jan.csv", "Allow")
    add("deny-other-service-not-matched", "Deny + NotResource applies only to the statement's actions",
        [everything, payroll], EC2_INSTANCE, "Allow", action="ec2:StartInstances")
    add("deny-grants-nothing", "Deny + NotResource does not allow the listed resources by itself",
        [payroll], "arn:aws:s3:::HRBucket/Payroll/jan.csv", "ImplicitDeny")
    secret = allow("s3:GetObject", None, sid="AllButSecret", notresource="arn:aws:s3:::secret-bucket/*")
    add("allow-allows-unlisted", "Allow + NotResource allows every resource that is not listed",
        [secret], "arn:aws:s3:::public-bucket/readme.txt", "Allow", matched=[("p", "AllButSecret")])
    add("allow-excludes-listed", "Allow + NotResource does not allow the listed resources",
        [secret], "arn:aws:s3:::secret-bucket/keys.txt", "ImplicitDeny")
    add("case-sensitive", "NotResource entries are matched case-sensitively",
        [allow("s3:GetObject", None, sid="AllButSecret", notresource="arn:aws:s3:::Secret-Bucket/*")],
        "arn:aws:s3:::secret-bucket/keys.txt", "Allow", matched=[("p", "AllButSecret")])


def document(c):
    def add(name, desc, source, document_, decision="Allow", action="s3:GetObject", resource=OBJ,
            matched=None, principal=None, resource_policy=None, identity=True, context=None):
        c.add("document", name, desc, source, action=action, resource=resource,
              identity=[pol("p", document_)] if identity else None, decision=decision,
              matched=matched, principal=principal, resource_policy=resource_policy,
              context=context)

    add("statement-single-object", "Statement may be a single object instead of an array", GRAMMAR,
        {"Version": V12, "Statement": {"Sid": "One", "Effect": "Allow", "Action": "s3:GetObject",
                                        "Resource": OBJ}}, matched=[("p", "One")])
    add("action-resource-arrays", "Action and Resource may be arrays", GRAMMAR,
        doc(allow(["s3:GetObject"], [OBJ], sid="Arr")), matched=[("p", "Arr")])
    add("version-2008-still-evaluates", "A policy with Version 2008-10-17 is valid and evaluates", VERSION,
        doc(allow("s3:GetObject", OBJ, sid="Old"), version=V08), matched=[("p", "Old")])
    add("version-absent-still-evaluates", "A policy without Version is valid and evaluates", VERSION,
        doc(allow("s3:GetObject", OBJ, sid="NoVer"), version=None), matched=[("p", "NoVer")])
    add("blocks-in-any-order", "Blocks can appear in any order (Statement before Version, Effect last)",
        GRAMMAR,
        '{"Statement": [{"Resource": "arn:aws:s3:::examplebucket/key.txt", "Action": "s3:GetObject",'
        ' "Sid": "Any", "Effect": "Allow"}], "Version": "2012-10-17"}', matched=[("p", "Any")])
    add("whitespace-allowed", "White space between JSON entities is allowed", GRAMMAR,
        '{\n\t"Version" :\t"2012-10-17" ,\r\n  "Statement"  : [ {\n "Effect":"Allow" ,"Action" : '
        '"s3:GetObject","Resource":\n\n"arn:aws:s3:::examplebucket/key.txt" } ]\n}\n')
    add("condition-value-single-or-array", "A condition value may be a string or an array of one string",
        GRAMMAR, doc(allow("s3:GetObject", OBJ, sid="C", condition={
            "StringEquals": {"aws:PrincipalTag/team": ["blue"]},
            "StringLike": {"aws:PrincipalTag/project": "apollo"}})),
        matched=[("p", "C")],
        context=[ctx("aws:PrincipalTag/team", "string", "blue"),
                 ctx("aws:PrincipalTag/project", "string", "apollo")])
    add("id-in-resource-policy", "The Id element is allowed in resource-based policies", GRAMMAR,
        None, identity=False, matched=[("bucket", "1")],
        resource_policy=pol("bucket", doc(allow("s3:*", [BUCKET, BUCKET + "/*"], sid="1",
                                                principal={"AWS": user_arn()}),
                                          id="S3-Account-Permissions")))
    add("multiple-statements-or", "Statements of a policy combine with OR", ID_VS_RES,
        doc(allow("s3:PutObject", OBJ, sid="Put"), allow("s3:GetObject", OBJ, sid="Get")),
        matched=[("p", "Get")])
    add("principal-star-string", "Principal \"*\" is the same as {\"AWS\": \"*\"}", PRINCIPAL,
        None, identity=False, matched=[("bucket", "Public")],
        resource_policy=pol("bucket", doc(allow("s3:GetObject", BUCKET + "/*", sid="Public",
                                                principal="*"))))


def parse_errors(c):
    def bad(name, desc, source, document_, slot="identity", action="s3:GetObject", resource=OBJ,
            kind=None):
        kw = {}
        p = pol("bad", document_)
        if slot == "identity":
            kw["identity"] = [p]
        elif slot == "boundary":
            kw["boundary"] = p
        elif slot == "session":
            kw["session"] = [p]
            kw["principal"] = role_session()
        elif slot == "scp":
            kw["scps"] = [[p]]
        elif slot == "resource":
            if kind is not None:
                p = {"id": p["id"], "kind": kind, "document": p["document"]}
            kw["resource_policy"] = p
        c.add("parse-errors", name, desc, source, action=action, resource=resource,
              error="MalformedPolicyDocument", **kw)

    ok = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJ}

    def with_(**kw):
        s = dict(ok)
        for k, v in kw.items():
            if v is None:
                s.pop(k, None)
            else:
                s[k] = v
        return {"Version": V12, "Statement": [s]}

    bad("missing-effect", "Effect is required in every statement", GRAMMAR, with_(Effect=None))
    bad("effect-not-allow-or-deny", "Effect must be Allow or Deny", EFFECT, with_(Effect="Permit"))
    bad("effect-lowercase", "The Effect value is case sensitive: allow is not Allow", EFFECT,
        with_(Effect="allow"))
    bad("effect-wrong-type", "Effect must be a string", GRAMMAR, with_(Effect=True))
    bad("missing-action", "A statement must include Action or NotAction", ACTION, with_(Action=None))
    bad("action-and-notaction", "A statement has either Action or NotAction, not both", GRAMMAR,
        with_(NotAction="s3:PutObject"))
    bad("missing-resource", "An identity-based statement must include Resource or NotResource", RESOURCE,
        with_(Resource=None))
    bad("resource-and-notresource", "A statement has either Resource or NotResource, not both", GRAMMAR,
        with_(NotResource="arn:aws:s3:::other/*"))
    bad("unknown-statement-element", "An element the grammar does not define is an error", GRAMMAR,
        with_(Comment="not an IAM element"))
    bad("misspelled-element", "A misspelled element (Actions) is not Action", GRAMMAR,
        {"Version": V12, "Statement": [{"Effect": "Allow", "Actions": "s3:GetObject", "Resource": OBJ}]})
    bad("unknown-top-level-element", "Only Version, Id and Statement are policy-level elements", GRAMMAR,
        {"Version": V12, "Statements": [ok]})
    bad("missing-statement", "Statement is required", GRAMMAR, {"Version": V12})
    bad("empty-object", "An empty JSON object is not a policy", GRAMMAR, "{}")
    bad("principal-in-identity-policy", "Principal must not be included in identity-based policies",
        PRINCIPAL, with_(Principal={"AWS": user_arn("bob")}))
    bad("notprincipal-in-identity-policy", "NotPrincipal cannot be used in an identity-based policy",
        NOTPRINCIPAL, with_(NotPrincipal={"AWS": user_arn("bob")}))
    bad("principal-in-boundary", "A permissions boundary is an identity-based policy: no Principal",
        PRINCIPAL, with_(Principal="*"), slot="boundary")
    bad("duplicate-effect-key", "Individual elements must not contain multiple instances of the same key",
        GRAMMAR,
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Effect": "Deny", '
        '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::examplebucket/key.txt"}]}')
    bad("duplicate-statement-key", "The policy object must not contain Statement twice", GRAMMAR,
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
        '"Resource": "arn:aws:s3:::examplebucket/key.txt"}], "Statement": []}')
    bad("duplicate-condition-key", "A condition operator block must not name the same key twice", GRAMMAR,
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
        '"Resource": "arn:aws:s3:::examplebucket/key.txt", "Condition": {"StringEquals": '
        '{"aws:username": "alice", "aws:username": "bob"}}}]}')
    bad("bad-version", "Version must be 2008-10-17 or 2012-10-17", VERSION,
        {"Version": "2012-10-18", "Statement": [ok]})
    bad("version-wrong-type", "Version is a string, not a number", VERSION,
        '{"Version": 2012, "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
        '"Resource": "arn:aws:s3:::examplebucket/key.txt"}]}')
    bad("not-json", "Text that is not JSON is a malformed policy", GRAMMAR,
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",')
    bad("trailing-garbage", "Text after the policy object is not JSON", GRAMMAR,
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
        '"Resource": "arn:aws:s3:::examplebucket/key.txt"}]} x')
    bad("statement-entry-not-object", "Each statement is a JSON object", GRAMMAR,
        {"Version": V12, "Statement": ["Allow s3:GetObject"]})
    bad("condition-value-object", "Condition values are strings, numbers or Booleans, not objects", GRAMMAR,
        with_(Condition={"StringEquals": {"aws:username": {"name": "alice"}}}))
    bad("duplicate-sid", "In IAM, the Sid value must be unique within a JSON policy", SID,
        {"Version": V12, "Statement": [dict(ok, Sid="S1"), dict(ok, Sid="S1", Action="s3:PutObject")]})
    bad("sid-not-alphanumeric", "For IAM policies only A-Z, a-z and 0-9 are allowed in Sid", GRAMMAR,
        {"Version": V12, "Statement": [dict(ok, Sid="allow s3!")]})
    bad("resource-policy-missing-principal", "The principal_block is required in resource-based policies",
        GRAMMAR, {"Version": V12, "Statement": [ok]}, slot="resource")
    bad("trust-policy-missing-principal", "A role trust policy must name its principals", GRAMMAR,
        {"Version": V12, "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]},
        slot="resource", kind="trust", action="sts:AssumeRole", resource=f"arn:aws:iam::{A}:role/app-role")
    bad("bad-session-policy", "A session policy is parsed like any policy: missing Effect is an error",
        GRAMMAR, with_(Effect=None), slot="session")
    bad("bad-scp", "An SCP is parsed like any policy: a bad Effect is an error", GRAMMAR,
        with_(Effect="Maybe"), slot="scp")
