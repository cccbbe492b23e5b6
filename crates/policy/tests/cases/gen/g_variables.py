"""Group: variables."""

from lib import *  # noqa: F401,F403

USERID = "AIDAJQABLZS4A3QDU576Q"


def alice_ctx(*extra):
    return [ctx("aws:username", "string", "alice"), ctx("aws:userid", "string", USERID),
            ctx("aws:PrincipalArn", "string", user_arn())] + list(extra)


def session_ctx(*extra):
    # A role session has no aws:username (see the principal key values table).
    return [ctx("aws:userid", "string", "AROAEXAMPLEROLEID:app-session"),
            ctx("aws:PrincipalArn", "string", f"arn:aws:iam::{A}:role/app-role")] + list(extra)


def variables(c):
    g = "variables"

    def res(name, desc, pattern, resource, allowed, context=None, version=V12, action="s3:GetObject",
            principal=None, source=VARIABLES):
        c.add(g, name, desc, source, action=action, resource=resource, principal=principal,
              identity=[pol("p", doc(allow(action, pattern, sid="Var"), version=version))],
              context=alice_ctx() if context is None else context,
              decision="Allow" if allowed else "ImplicitDeny",
              matched=[("p", "Var")] if allowed else None)

    def cnd(name, desc, condition, context, allowed, version=V12, action="s3:ListBucket",
            resource="arn:aws:s3:::mybucket", principal=None, source=VARIABLES):
        c.add(g, name, desc, source, action=action, resource=resource, principal=principal,
              identity=[pol("p", doc(allow(action, "*", sid="Var", condition=condition), version=version))],
              context=context, decision="Allow" if allowed else "ImplicitDeny",
              matched=[("p", "Var")] if allowed else None)

    home = "arn:aws:s3:::mybucket/${aws:username}/*"
    res("resource-username", "${aws:username} in Resource is replaced by the user's friendly name",
        home, "arn:aws:s3:::mybucket/alice/notes.txt", True)
    res("resource-username-other-folder", "${aws:username} does not match another user's folder",
        home, "arn:aws:s3:::mybucket/bob/notes.txt", False)
    res("resource-userid", "${aws:userid} in Resource is replaced by the unique id", 
        "arn:aws:s3:::mybucket/${aws:userid}/*", f"arn:aws:s3:::mybucket/{USERID}/a.txt", True)
    res("resource-principal-tag", "${aws:PrincipalTag/dept} in Resource is replaced by the tag value",
        "arn:aws:s3:::mybucket/${aws:PrincipalTag/dept}/*", "arn:aws:s3:::mybucket/finance/q1.csv", True,
        context=alice_ctx(ctx("aws:PrincipalTag/dept", "string", "finance")))
    res("resource-principal-tag-other-value", "${aws:PrincipalTag/dept} does not match another department",
        "arn:aws:s3:::mybucket/${aws:PrincipalTag/dept}/*", "arn:aws:s3:::mybucket/hr/q1.csv", False,
        context=alice_ctx(ctx("aws:PrincipalTag/dept", "string", "finance")))
    res("resource-own-iam-user", "arn:aws:iam::*:user/${aws:username} lets a user manage their own keys",
        "arn:aws:iam::*:user/${aws:username}", user_arn(), True, action="iam:CreateAccessKey")
    res("resource-other-iam-user", "arn:aws:iam::*:user/${aws:username} does not cover other users",
        "arn:aws:iam::*:user/${aws:username}", user_arn("bob"), False, action="iam:CreateAccessKey")
    res("resource-several-variables", "Several variables in one resource are each replaced",
        "arn:aws:sns:*:*:${aws:PrincipalTag/access-project}-${aws:PrincipalTag/access-application}-"
        "${aws:PrincipalTag/access-environment}-*",
        f"arn:aws:sns:us-east-1:{A}:apollo-web-prod-alerts", True, action="sns:CreateTopic",
        context=alice_ctx(ctx("aws:PrincipalTag/access-project", "string", "apollo"),
                          ctx("aws:PrincipalTag/access-application", "string", "web"),
                          ctx("aws:PrincipalTag/access-environment", "string", "prod")))
    res("resource-several-variables-one-missing", "If one of several variables has no value the resource matches nothing",
        "arn:aws:sns:*:*:${aws:PrincipalTag/access-project}-${aws:PrincipalTag/access-application}-"
        "${aws:PrincipalTag/access-environment}-*",
        f"arn:aws:sns:us-east-1:{A}:apollo-web--alerts", False, action="sns:CreateTopic",
        context=alice_ctx(ctx("aws:PrincipalTag/access-project", "string", "apollo"),
                          ctx("aws:PrincipalTag/access-application", "string", "web")))
    res("key-name-case-insensitive", "Variable key names are case-insensitive: ${AWS:UserName} is aws:username",
        "arn:aws:s3:::mybucket/${AWS:UserName}/*", "arn:aws:s3:::mybucket/alice/notes.txt", True)

    # Versions without variables.
    res("version-2008-literal", "Under Version 2008-10-17 ${aws:username} is literal text, not a variable",
        home, "arn:aws:s3:::mybucket/alice/notes.txt", False, version=V08, source=VERSION)
    res("version-2008-literal-text-matches", "Under Version 2008-10-17 the text ${aws:username} matches itself",
        home, "arn:aws:s3:::mybucket/${aws:username}/notes.txt", True, version=V08, source=VERSION)
    res("version-absent-literal", "Without a Version element ${aws:username} is a literal string",
        home, "arn:aws:s3:::mybucket/alice/notes.txt", False, version=None)
    res("version-absent-literal-text-matches", "Without a Version element the text ${aws:username} matches itself",
        home, "arn:aws:s3:::mybucket/${aws:username}/notes.txt", True, version=None)
    cnd("version-2008-condition-literal", "Under Version 2008-10-17 a variable in a condition value is literal",
        {"StringEquals": {"s3:prefix": "${aws:username}/"}},
        alice_ctx(ctx("s3:prefix", "string", "alice/")), False, version=V08, source=VERSION)

    # Condition values.
    cnd("condition-stringlike-prefix", "${aws:username} in a StringLike value (home directory listing)",
        {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}},
        alice_ctx(ctx("s3:prefix", "string", "home/alice/")), True, source=OPERATORS)
    cnd("condition-stringlike-prefix-other-user", "The home directory listing does not cover another user",
        {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}},
        alice_ctx(ctx("s3:prefix", "string", "home/bob/")), False, source=OPERATORS)
    cnd("condition-tag-equals-tag", "StringEquals s3:ExistingObjectTag/owner = ${aws:PrincipalTag/owner}",
        {"StringEquals": {"s3:ExistingObjectTag/owner": "${aws:PrincipalTag/owner}"}},
        alice_ctx(ctx("aws:PrincipalTag/owner", "string", "alice"),
                  ctx("s3:ExistingObjectTag/owner", "string", "alice")), True,
        action="s3:GetObject", resource="arn:aws:s3:::mybucket/a.txt")
    cnd("condition-tag-equals-other-tag", "The object owner tag differs from the principal's owner tag",
        {"StringEquals": {"s3:ExistingObjectTag/owner": "${aws:PrincipalTag/owner}"}},
        alice_ctx(ctx("aws:PrincipalTag/owner", "string", "alice"),
                  ctx("s3:ExistingObjectTag/owner", "string", "bob")), False,
        action="s3:GetObject", resource="arn:aws:s3:::mybucket/a.txt")
    cnd("condition-arnlike-variable", "A variable in an ArnLike value", 
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/${aws:username}"}},
        alice_ctx(), True, source=OPERATORS)
    cnd("condition-variable-with-literal-wildcard", "Text around a variable in StringLike keeps its wildcards",
        {"StringLike": {"s3:prefix": "${aws:username}/*"}},
        alice_ctx(ctx("s3:prefix", "string", "alice/photos/2024/")), True)

    # Special characters.
    code = "aws:PrincipalTag/code"
    cnd("special-star-literal", "${*} stands for a literal * in a StringLike value",
        {"StringLike": {code: "a${*}b"}}, [ctx(code, "string", "a*b")], True)
    cnd("special-star-not-wildcard", "${*} is not a wildcard: it does not match other characters",
        {"StringLike": {code: "a${*}b"}}, [ctx(code, "string", "axyb")], False)
    cnd("special-question-literal", "${?} stands for a literal ? in a StringLike value",
        {"StringLike": {code: "a${?}b"}}, [ctx(code, "string", "a?b")], True)
    cnd("special-question-not-wildcard", "${?} is not a wildcard: it does not match another character",
        {"StringLike": {code: "a${?}b"}}, [ctx(code, "string", "axb")], False)
    cnd("special-dollar", "${$} stands for a literal $",
        {"StringEquals": {"aws:PrincipalTag/price": "${$}100"}}, [ctx("aws:PrincipalTag/price", "string", "$100")],
        True)
    res("special-star-in-resource", "${*} can be used in Resource as a literal *",
        "arn:aws:s3:::mybucket/literal${*}name", "arn:aws:s3:::mybucket/literal*name", True)
    res("special-star-in-resource-not-wildcard", "${*} in Resource does not match other characters",
        "arn:aws:s3:::mybucket/literal${*}name", "arn:aws:s3:::mybucket/literalXname", False)

    # Defaults.
    team_bucket = "arn:aws:s3:::amzn-s3-demo-bucket-${aws:PrincipalTag/team, 'company-wide'}"
    res("default-used-when-missing", "${key, 'default'} uses the default when the principal has no team tag",
        team_bucket, "arn:aws:s3:::amzn-s3-demo-bucket-company-wide", True, action="s3:ListBucket")
    res("default-not-used-when-present", "${key, 'default'} uses the tag value when it is present",
        team_bucket, "arn:aws:s3:::amzn-s3-demo-bucket-yellow", True, action="s3:ListBucket",
        context=alice_ctx(ctx("aws:PrincipalTag/team", "string", "yellow")))
    res("default-ignored-when-present", "A tagged principal does not get the default bucket",
        team_bucket, "arn:aws:s3:::amzn-s3-demo-bucket-company-wide", False, action="s3:ListBucket",
        context=alice_ctx(ctx("aws:PrincipalTag/team", "string", "yellow")))
    cnd("default-in-condition", "A default value also works in a condition value",
        {"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team, 'shared'}/"}},
        alice_ctx(ctx("s3:prefix", "string", "shared/")), True)

    # Variables with no value.
    rs = role_session()
    res("no-value-resource-matches-nothing",
        "A Resource with a variable that has no value matches no resource (not even as an empty string)",
        home, "arn:aws:s3:::mybucket//notes.txt", False, principal=rs, context=session_ctx())
    res("no-value-resource-role-name", "A role session has no aws:username: its own folder is not matched",
        home, "arn:aws:s3:::mybucket/app-role/notes.txt", False, principal=rs, context=session_ctx())
    cnd("no-value-stringequals", "StringEquals against a variable with no value does not match (even '')",
        {"StringEquals": {"s3:prefix": "${aws:username}"}}, session_ctx(ctx("s3:prefix", "string", "")), False,
        principal=rs)
    cnd("no-value-stringlike", "StringLike against a variable with no value does not match",
        {"StringLike": {"s3:prefix": "${aws:username}/*"}}, session_ctx(ctx("s3:prefix", "string", "/x")), False,
        principal=rs)
    cnd("no-value-stringnotequals", "StringNotEquals against a variable with no value matches",
        {"StringNotEquals": {"s3:prefix": "${aws:username}"}}, session_ctx(ctx("s3:prefix", "string", "x")), True,
        principal=rs)
    cnd("no-value-stringnotlike", "StringNotLike against a variable with no value matches",
        {"StringNotLike": {"s3:prefix": "${aws:username}/*"}}, session_ctx(ctx("s3:prefix", "string", "a/b")),
        True, principal=rs)
    cnd("no-value-arnlike", "ArnLike against a variable with no value does not match",
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:${aws:PrincipalTag/topic}"}},
        session_ctx(ctx("aws:SourceArn", "string", f"arn:aws:sns:us-east-1:{A}:alerts")), False, principal=rs)
    team_deny = doc(allow("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/*", sid="Read"),
                    deny("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/*", sid="TeamMustMatch",
                         condition={"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}}))
    c.add(g, "no-value-deny-string-not-equals",
          "Deny StringNotEquals s3:ExistingObjectTag/Team vs ${aws:PrincipalTag/Team}: denied when the tag is not set",
          VARIABLES, action="s3:GetObject", resource="arn:aws:s3:::amzn-s3-demo-bucket/plan.txt",
          identity=[pol("p", team_deny)], context=alice_ctx(ctx("s3:ExistingObjectTag/Team", "string", "blue")),
          decision="ExplicitDeny", matched=[("p", "TeamMustMatch")])
    c.add(g, "with-value-deny-string-not-equals-same-team",
          "The same Deny does not apply when the principal's Team tag equals the object's",
          VARIABLES, action="s3:GetObject", resource="arn:aws:s3:::amzn-s3-demo-bucket/plan.txt",
          identity=[pol("p", team_deny)],
          context=alice_ctx(ctx("s3:ExistingObjectTag/Team", "string", "blue"),
                            ctx("aws:PrincipalTag/Team", "string", "blue")),
          decision="Allow", matched=[("p", "Read")])
    c.add(g, "with-value-deny-string-not-equals-other-team",
          "The same Deny applies when the principal's Team tag differs from the object's",
          VARIABLES, action="s3:GetObject", resource="arn:aws:s3:::amzn-s3-demo-bucket/plan.txt",
          identity=[pol("p", team_deny)],
          context=alice_ctx(ctx("s3:ExistingObjectTag/Team", "string", "blue"),
                            ctx("aws:PrincipalTag/Team", "string", "red")),
          decision="ExplicitDeny", matched=[("p", "TeamMustMatch")])
    own_only = doc(allow("s3:*", "*", sid="All"),
                   deny("s3:*", None, sid="OutsideHome", notresource="arn:aws:s3:::mybucket/${aws:username}/*"))
    c.add(g, "no-value-notresource", "A NotResource entry with a variable with no value excludes nothing",
          VARIABLES, action="s3:GetObject", resource="arn:aws:s3:::mybucket/app-role/notes.txt", principal=rs,
          identity=[pol("p", own_only)], context=session_ctx(), decision="ExplicitDeny",
          matched=[("p", "OutsideHome")])
    c.add(g, "with-value-notresource", "A NotResource entry with a variable excludes the user's own folder",
          VARIABLES, action="s3:GetObject", resource="arn:aws:s3:::mybucket/alice/notes.txt",
          identity=[pol("p", own_only)], context=alice_ctx(), decision="Allow", matched=[("p", "All")])
