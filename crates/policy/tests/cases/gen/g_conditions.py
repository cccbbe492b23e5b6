"""Groups: cond-string, cond-numeric, cond-date, cond-bool, cond-binary, cond-ip,
cond-arn, cond-null, cond-ifexists, cond-missing-key, cond-sets, cond-logic."""

from lib import *  # noqa: F401,F403

TOPIC = f"arn:aws:sns:us-east-1:{A}:topic1"
BIN = "QmluYXJ5VmFsdWVJbkJhc2U2NA=="


def allow_if(c, group, name, desc, source, condition, context, allowed, action="s3:GetObject",
             resource=OBJ, missing=None):
    """One identity policy, one Allow statement guarded by `condition`."""
    c.add(group, name, desc, source, action=action, resource=resource,
          identity=[pol("p", doc(allow(action, "*", sid="Cond", condition=condition)))],
          context=context, decision="Allow" if allowed else "ImplicitDeny",
          matched=[("p", "Cond")] if allowed else None, missing=missing)


def deny_if(c, group, name, desc, source, condition, context, denied, action="s3:GetObject",
            resource=OBJ, missing=None):
    """Allow everything, then a Deny statement guarded by `condition`."""
    c.add(group, name, desc, source, action=action, resource=resource,
          identity=[pol("p", doc(allow("*", "*", sid="All"),
                                 deny(action, "*", sid="DenyCond", condition=condition)))],
          context=context, decision="ExplicitDeny" if denied else "Allow",
          matched=[("p", "DenyCond")] if denied else [("p", "All")], missing=missing)


def s(key, value):
    return [ctx(key, "string", value)]


def cond_string(c):
    g = "cond-string"
    job = "aws:PrincipalTag/job-category"
    allow_if(c, g, "equals-match", "StringEquals matches the identical value", OPERATORS,
             {"StringEquals": {job: "iamuser-admin"}}, s(job, "iamuser-admin"), True)
    allow_if(c, g, "equals-other-value", "StringEquals does not match another value", OPERATORS,
             {"StringEquals": {job: "iamuser-admin"}}, s(job, "dev-ops"), False)
    allow_if(c, g, "equals-case-sensitive", "StringEquals is case sensitive: johndoe is not JohnDoe",
             CONDITION, {"StringEquals": {"aws:username": "johndoe"}}, s("aws:username", "JohnDoe"), False)
    allow_if(c, g, "equals-ignore-case", "StringEqualsIgnoreCase matches johndoe and JohnDoe", CONDITION,
             {"StringEqualsIgnoreCase": {"aws:username": "johndoe"}}, s("aws:username", "JohnDoe"), True)
    allow_if(c, g, "equals-ignore-case-other-value", "StringEqualsIgnoreCase still compares the letters",
             OPERATORS, {"StringEqualsIgnoreCase": {"aws:username": "johndoe"}}, s("aws:username", "janedoe"),
             False)
    allow_if(c, g, "not-equals-differs", "StringNotEquals is true for a different value", OPERATORS,
             {"StringNotEquals": {"aws:username": "johndoe"}}, s("aws:username", "alice"), True)
    allow_if(c, g, "not-equals-same", "StringNotEquals is false for the same value", OPERATORS,
             {"StringNotEquals": {"aws:username": "johndoe"}}, s("aws:username", "johndoe"), False)
    allow_if(c, g, "not-equals-case-sensitive", "StringNotEquals is case sensitive: JohnDoe differs",
             OPERATORS, {"StringNotEquals": {"aws:username": "johndoe"}}, s("aws:username", "JohnDoe"), True)
    allow_if(c, g, "not-equals-ignore-case-same", "StringNotEqualsIgnoreCase is false for JohnDoe vs johndoe",
             OPERATORS, {"StringNotEqualsIgnoreCase": {"aws:username": "johndoe"}},
             s("aws:username", "JohnDoe"), False)
    allow_if(c, g, "not-equals-ignore-case-differs", "StringNotEqualsIgnoreCase is true for another name",
             OPERATORS, {"StringNotEqualsIgnoreCase": {"aws:username": "johndoe"}},
             s("aws:username", "alice"), True)
    allow_if(c, g, "like-star", "StringLike * matches any run of characters", OPERATORS,
             {"StringLike": {"s3:prefix": "home/*"}}, s("s3:prefix", "home/alice/docs/"), True,
             action="s3:ListBucket", resource=BUCKET)
    allow_if(c, g, "like-question-mark", "StringLike ? matches one character", OPERATORS,
             {"StringLike": {"s3:prefix": "report-?.csv"}}, s("s3:prefix", "report-1.csv"), True,
             action="s3:ListBucket", resource=BUCKET)
    allow_if(c, g, "like-question-mark-one-only", "StringLike ? does not match two characters", OPERATORS,
             {"StringLike": {"s3:prefix": "report-?.csv"}}, s("s3:prefix", "report-10.csv"), False,
             action="s3:ListBucket", resource=BUCKET)
    allow_if(c, g, "like-needs-wildcard-for-partial",
             "StringLike without a wildcard is an exact match: you must specify wildcards for partial matches",
             OPERATORS, {"StringLike": {"s3:prefix": "home/"}}, s("s3:prefix", "home/alice/"), False,
             action="s3:ListBucket", resource=BUCKET)
    allow_if(c, g, "like-case-sensitive", "StringLike is case sensitive", OPERATORS,
             {"StringLike": {"s3:prefix": "Home/*"}}, s("s3:prefix", "home/alice/"), False,
             action="s3:ListBucket", resource=BUCKET)
    allow_if(c, g, "like-empty-pattern-matches-empty", "StringLike \"\" matches an empty s3:prefix",
             OPERATORS, {"StringLike": {"s3:prefix": ["", "home/"]}}, s("s3:prefix", ""), True,
             action="s3:ListBucket", resource=BUCKET)
    allow_if(c, g, "not-like-matching-value", "StringNotLike is false when the value matches the pattern",
             OPERATORS, {"StringNotLike": {"s3:prefix": "home/*"}}, s("s3:prefix", "home/alice/"), False,
             action="s3:ListBucket", resource=BUCKET)
    allow_if(c, g, "not-like-other-value", "StringNotLike is true when the value does not match",
             OPERATORS, {"StringNotLike": {"s3:prefix": "home/*"}}, s("s3:prefix", "tmp/alice/"), True,
             action="s3:ListBucket", resource=BUCKET)
    allow_if(c, g, "equals-star-is-literal", "StringEquals has no wildcards: * is a literal character",
             OPERATORS, {"StringEquals": {"aws:PrincipalTag/team": "*"}}, s("aws:PrincipalTag/team", "blue"),
             False)
    allow_if(c, g, "equals-star-literal-match", "StringEquals \"*\" matches the literal value *",
             OPERATORS, {"StringEquals": {"aws:PrincipalTag/team": "*"}}, s("aws:PrincipalTag/team", "*"),
             True)
    allow_if(c, g, "equals-no-prefix-match", "StringEquals does not match a value that merely starts with it",
             OPERATORS, {"StringEquals": {"aws:PrincipalTag/team": "blue"}},
             s("aws:PrincipalTag/team", "blue-green"), False)


def cond_numeric(c):
    g = "cond-numeric"

    def n(name, desc, op, policy_value, value, allowed):
        allow_if(c, g, name, desc, OPERATORS, {op: {"s3:max-keys": policy_value}},
                 [ctx("s3:max-keys", "numeric", value)], allowed, action="s3:ListBucket", resource=BUCKET)

    n("le-equal", "NumericLessThanEquals is true for an equal value", "NumericLessThanEquals", "10", "10", True)
    n("le-greater", "NumericLessThanEquals is false for a greater value", "NumericLessThanEquals", "10", "11",
      False)
    n("lt-equal", "NumericLessThan is false for an equal value", "NumericLessThan", "10", "10", False)
    n("lt-less", "NumericLessThan is true for a smaller value", "NumericLessThan", "10", "9", True)
    n("gt-greater", "NumericGreaterThan is true for a greater value", "NumericGreaterThan", "10", "11", True)
    n("gt-equal", "NumericGreaterThan is false for an equal value", "NumericGreaterThan", "10", "10", False)
    n("ge-equal", "NumericGreaterThanEquals is true for an equal value", "NumericGreaterThanEquals", "10",
      "10", True)
    n("ge-less", "NumericGreaterThanEquals is false for a smaller value", "NumericGreaterThanEquals", "10",
      "9", False)
    n("equals-match", "NumericEquals is true for the same number", "NumericEquals", "10", "10", True)
    n("equals-decimal-vs-integer", "Numeric operators compare values as numbers: 10 equals 10.0",
      "NumericEquals", "10", "10.0", True)
    n("equals-decimal", "Numeric operators accept decimal values", "NumericEquals", "2.5", "2.5", True)
    n("compares-numerically-not-as-text", "9 is less than 10 as a number (though not as text)",
      "NumericLessThan", "10", "9.5", True)
    n("not-equals-differs", "NumericNotEquals is true for a different number", "NumericNotEquals", "10",
      "11", True)
    n("not-equals-same", "NumericNotEquals is false for the same number", "NumericNotEquals", "10", "10",
      False)
    n("negative-number", "Negative numbers compare below zero", "NumericLessThan", "0", "-1", True)
    n("json-number-in-policy", "Quotation marks are optional for numeric condition values",
      "NumericLessThanEquals", 10, "5", True)
    allow_if(c, g, "policy-value-not-a-number",
             "A non-numeric value for a numeric operator is a validation warning, not a syntax error: it never matches",
             AA_CHECKS,
             {"NumericEquals": {"s3:max-keys": "ten"}}, [ctx("s3:max-keys", "numeric", "10")], False,
             action="s3:ListBucket", resource=BUCKET)
    n("not-equals-list-is-none-of", "NumericNotEquals with several values is true only if the key equals none",
      "NumericNotEquals", ["10", "20"], "20", False)


def cond_date(c):
    g = "cond-date"

    def d(name, desc, op, policy_value, value, allowed, key="aws:CurrentTime"):
        allow_if(c, g, name, desc, OPERATORS, {op: {key: policy_value}}, [ctx(key, "date", value)], allowed)

    d("gt-later", "DateGreaterThan is true for a later time", "DateGreaterThan", "2020-01-01T00:00:01Z",
      "2026-03-01T12:00:00Z", True)
    d("gt-earlier", "DateGreaterThan is false for an earlier time", "DateGreaterThan", "2020-01-01T00:00:01Z",
      "2019-12-31T23:59:59Z", False)
    d("gt-same-instant", "DateGreaterThan is false at the same instant", "DateGreaterThan",
      "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", False)
    d("ge-same-instant", "DateGreaterThanEquals is true at the same instant", "DateGreaterThanEquals",
      "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", True)
    d("lt-earlier", "DateLessThan is true for an earlier time", "DateLessThan", "2020-01-01T00:00:00Z",
      "2019-06-01T00:00:00Z", True)
    d("lt-same-instant", "DateLessThan is false at the same instant", "DateLessThan", "2020-01-01T00:00:00Z",
      "2020-01-01T00:00:00Z", False)
    d("le-same-instant", "DateLessThanEquals is true at the same instant", "DateLessThanEquals",
      "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", True)
    d("equals-same-instant", "DateEquals is true at the same instant", "DateEquals", "2020-01-01T00:00:00Z",
      "2020-01-01T00:00:00Z", True)
    d("equals-one-second-apart", "DateEquals is false one second apart", "DateEquals", "2020-01-01T00:00:00Z",
      "2020-01-01T00:00:01Z", False)
    d("not-equals-differs", "DateNotEquals is true for another time", "DateNotEquals", "2020-01-01T00:00:00Z",
      "2021-01-01T00:00:00Z", True)
    d("not-equals-same", "DateNotEquals is false for the same time", "DateNotEquals", "2020-01-01T00:00:00Z",
      "2020-01-01T00:00:00Z", False)
    d("epoch-policy-iso-context", "A policy date may be given in epoch time (1577836800 = 2020-01-01)",
      "DateGreaterThan", "1577836800", "2026-01-01T00:00:00Z", True)
    d("epoch-policy-epoch-context", "Epoch policy value compared with an epoch request value",
      "DateLessThan", "1700000000", "1600000000", True, key="aws:EpochTime")
    d("iso-policy-epoch-context", "An ISO 8601 policy date equals the same instant given in epoch seconds",
      "DateEquals", "2020-01-01T00:00:00Z", "1577836800", True, key="aws:EpochTime")
    d("timezone-offset", "W3C ISO 8601 times with an offset denote the UTC instant (01:00+01:00 = 00:00Z)",
      "DateEquals", "2020-01-01T01:00:00+01:00", "2020-01-01T00:00:00Z", True)
    d("fractional-seconds", "W3C ISO 8601 allows fractional seconds (.000 is the same instant)",
      "DateEquals", "2020-01-01T00:00:00.000Z", "2020-01-01T00:00:00Z", True)
    mismatch = AA_CHECKS
    allow_if(c, g, "not-a-date",
             "A non-date value for a date operator is a validation warning, not a syntax error: it never matches",
             mismatch, {"DateGreaterThan": {"aws:CurrentTime": "yesterday"}},
             [ctx("aws:CurrentTime", "date", "2026-01-01T00:00:00Z")], False)
    allow_if(c, g, "no-wildcards",
             "Wildcards are not permitted for date operators: 2020-01-* is not a date and never matches",
             mismatch, {"DateEquals": {"aws:CurrentTime": "2020-01-*"}},
             [ctx("aws:CurrentTime", "date", "2020-01-05T00:00:00Z")], False)
    d("token-issue-time-after", "DateGreaterThan on aws:TokenIssueTime (credentials issued after)",
      "DateGreaterThan", "2020-01-01T00:00:01Z", "2020-06-01T00:00:00Z", True, key="aws:TokenIssueTime")


def cond_bool(c):
    g = "cond-bool"
    bucket_deny = doc(allow("*", "*", sid="All"),
                      deny("s3:*", [BUCKET, BUCKET + "/*"], sid="BooleanExample",
                           condition={"Bool": {"aws:SecureTransport": "false"}}))
    c.add(g, "deny-insecure-transport", "Bool aws:SecureTransport=false matches a request without TLS",
          OPERATORS, action="s3:GetObject", resource=OBJ, identity=[pol("p", bucket_deny)],
          context=[ctx("aws:SecureTransport", "boolean", "false")], decision="ExplicitDeny",
          matched=[("p", "BooleanExample")])
    c.add(g, "secure-transport-not-denied", "Bool aws:SecureTransport=false does not match a TLS request",
          OPERATORS, action="s3:GetObject", resource=OBJ, identity=[pol("p", bucket_deny)],
          context=[ctx("aws:SecureTransport", "boolean", "true")], decision="Allow", matched=[("p", "All")])
    allow_if(c, g, "true-matches-true", "Bool true matches a true key", OPERATORS,
             {"Bool": {"aws:SecureTransport": "true"}}, [ctx("aws:SecureTransport", "boolean", "true")], True)
    allow_if(c, g, "true-not-false", "Bool true does not match a false key", OPERATORS,
             {"Bool": {"aws:SecureTransport": "true"}}, [ctx("aws:SecureTransport", "boolean", "false")],
             False)
    allow_if(c, g, "json-boolean-in-policy", "Quotation marks are optional for Boolean condition values",
             GRAMMAR, {"Bool": {"aws:SecureTransport": True}}, [ctx("aws:SecureTransport", "boolean", "true")],
             True)
    deny_if(c, g, "mfa-absent-bool-does-not-deny",
            "Bool aws:MultiFactorAuthPresent=false does not match long-term credentials, where the key is absent",
            CONDKEYS, {"Bool": {"aws:MultiFactorAuthPresent": "false"}}, [], False)
    deny_if(c, g, "mfa-false-denies", "Bool aws:MultiFactorAuthPresent=false matches a key that is false",
            CONDKEYS, {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
            [ctx("aws:MultiFactorAuthPresent", "boolean", "false")], True)


def cond_binary(c):
    g = "cond-binary"
    key = "example:BinaryData"
    allow_if(c, g, "equals-match", "BinaryEquals compares the key byte for byte with the base-64 policy value",
             OPERATORS, {"BinaryEquals": {key: BIN}}, [ctx(key, "binary", BIN)], True)
    allow_if(c, g, "equals-other-bytes", "BinaryEquals does not match other bytes", OPERATORS,
             {"BinaryEquals": {key: BIN}}, [ctx(key, "binary", "ASIAIOSFODNN7EXAMPLE")], False)
    allow_if(c, g, "equals-any-of-values", "BinaryEquals with several values matches any of them", MULTI,
             {"BinaryEquals": {key: ["AAEC", BIN]}}, [ctx(key, "binary", BIN)], True)


def cond_ip(c):
    g = "cond-ip"

    def ip(name, desc, op, policy_value, value, allowed):
        allow_if(c, g, name, desc, OPERATORS, {op: {"aws:SourceIp": policy_value}},
                 [ctx("aws:SourceIp", "ip", value)], allowed)

    ip("v4-in-range", "IpAddress matches an address inside the CIDR range", "IpAddress", "203.0.113.0/24",
       "203.0.113.1", True)
    ip("v4-out-of-range", "IpAddress does not match an address outside the range", "IpAddress",
       "203.0.113.0/24", "198.51.100.1", False)
    ip("v4-range-upper-edge", "The last address of the range is inside it", "IpAddress", "203.0.113.0/24",
       "203.0.113.255", True)
    ip("no-prefix-is-32", "An address without a prefix length means /32: it matches itself", "IpAddress",
       "203.0.113.7", "203.0.113.7", True)
    ip("no-prefix-is-32-only", "An address without a prefix length does not match its neighbour",
       "IpAddress", "203.0.113.7", "203.0.113.8", False)
    ip("v4-slash-zero", "0.0.0.0/0 matches every IPv4 address", "IpAddress", "0.0.0.0/0", "192.0.2.44", True)
    ip("v6-in-range", "IpAddress matches an IPv6 address in an IPv6 CIDR (hex digits ignore case)",
       "IpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5678:abcd::1", True)
    ip("v6-out-of-range", "IpAddress does not match an IPv6 address outside the range", "IpAddress",
       "2001:DB8:1234:5678::/64", "2001:db8:1234:5679::1", False)
    ip("mixed-list-v6-request", "A list of IPv4 and IPv6 ranges matches an IPv6 address in one of them",
       "IpAddress", ["203.0.113.0/24", "2001:DB8:1234:5678::/64"], "2001:db8:1234:5678::42", True)
    ip("mixed-list-v4-request", "A list of IPv4 and IPv6 ranges matches an IPv4 address in one of them",
       "IpAddress", ["203.0.113.0/24", "2001:DB8:1234:5678::/64"], "203.0.113.50", True)
    ip("v4-request-v6-range", "An IPv4 address is not in an IPv6 range", "IpAddress", "2001:DB8::/32",
       "203.0.113.1", False)
    ip("not-ip-outside", "NotIpAddress is true for an address outside the range", "NotIpAddress",
       "203.0.113.0/24", "198.51.100.1", True)
    ip("not-ip-inside", "NotIpAddress is false for an address inside the range", "NotIpAddress",
       "203.0.113.0/24", "203.0.113.9", False)
    ip("not-ip-list-inside-one", "NotIpAddress with several ranges is false if the address is in any",
       "NotIpAddress", ["203.0.113.0/24", "198.51.100.0/24"], "198.51.100.4", False)
    ip("not-ip-list-outside-all", "NotIpAddress with several ranges is true if the address is in none",
       "NotIpAddress", ["203.0.113.0/24", "198.51.100.0/24"], "192.0.2.1", True)
    deny_if(c, g, "deny-outside-corporate-range", "Deny with NotIpAddress denies requests from elsewhere",
            OPERATORS, {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            [ctx("aws:SourceIp", "ip", "192.0.2.10")], True)
    deny_if(c, g, "deny-outside-spares-inside", "Deny with NotIpAddress spares requests from the range",
            OPERATORS, {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            [ctx("aws:SourceIp", "ip", "203.0.113.10")], False)


def cond_arn(c):
    g = "cond-arn"
    topic = "arn:aws:sns:us-west-2:123456789012:TOPIC-ID"

    def arn(name, desc, op, policy_value, value, allowed, key="aws:SourceArn"):
        allow_if(c, g, name, desc, OPERATORS, {op: {key: policy_value}}, [ctx(key, "string", value)], allowed)

    arn("equals-match", "ArnEquals matches the identical ARN", "ArnEquals", topic, topic, True)
    arn("equals-other-account", "ArnEquals does not match an ARN of another account", "ArnEquals", topic,
        "arn:aws:sns:us-west-2:777788889999:TOPIC-ID", False)
    arn("like-wildcard-segments", "ArnLike * within segments", "ArnLike", "arn:aws:sns:*:123456789012:TOPIC-*",
        topic, True)
    arn("like-question-mark", "ArnLike ? matches one character", "ArnLike", f"arn:aws:iam::{A}:user/dev?",
        f"arn:aws:iam::{A}:user/dev1", True, key="aws:PrincipalArn")
    arn("like-star-stays-in-segment",
        "ArnLike checks each colon-delimited component: the * does not swallow other segments",
        "ArnLike", "arn:aws:someservice:*:111122223333:finance/*",
        "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", False)
    arn("stringlike-same-pattern-matches",
        "StringLike with the same pattern does match, its * spanning the colons", "StringLike",
        "arn:aws:someservice:*:111122223333:finance/*",
        "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", True)
    arn("equals-accepts-wildcards", "ArnEquals and ArnLike behave identically: ArnEquals honours *",
        "ArnEquals", "arn:aws:sns:*:123456789012:*", topic, True)
    arn("case-sensitive", "ARN operators are case sensitive", "ArnEquals",
        "arn:aws:sns:us-west-2:123456789012:topic-id", topic, False)
    arn("not-equals-differs", "ArnNotEquals is true for another ARN", "ArnNotEquals", topic,
        "arn:aws:sns:us-west-2:777788889999:TOPIC-ID", True)
    arn("not-equals-same", "ArnNotEquals is false for the same ARN", "ArnNotEquals", topic, topic, False)
    arn("not-like-other", "ArnNotLike is true for an ARN the pattern does not match", "ArnNotLike",
        f"arn:aws:iam::{A}:role/admin-*", f"arn:aws:iam::{A}:role/dev", True, key="aws:PrincipalArn")
    arn("not-like-matching", "ArnNotLike is false for an ARN the pattern matches", "ArnNotLike",
        f"arn:aws:iam::{A}:role/admin-*", f"arn:aws:iam::{A}:role/admin-ops", False, key="aws:PrincipalArn")
    arn("not-like-list-is-none-of", "ArnNotLike with several patterns is true only if none matches",
        "ArnNotLike", [f"arn:aws:iam::{A}:role/admin-*", f"arn:aws:iam::{A}:role/ops-*"],
        f"arn:aws:iam::{A}:role/ops-1", False, key="aws:PrincipalArn")


def cond_null(c):
    g = "cond-null"
    tok = "aws:TokenIssueTime"
    allow_if(c, g, "true-key-absent", "Null true matches when the key is absent", OPERATORS,
             {"Null": {tok: "true"}}, [], True)
    allow_if(c, g, "true-key-present", "Null true does not match when the key is present", OPERATORS,
             {"Null": {tok: "true"}}, [ctx(tok, "date", "2020-06-01T00:00:00Z")], False)
    allow_if(c, g, "false-key-present", "Null false matches when the key is present", OPERATORS,
             {"Null": {tok: "false"}}, [ctx(tok, "date", "2020-06-01T00:00:00Z")], True)
    allow_if(c, g, "false-key-absent", "Null false does not match when the key is absent", OPERATORS,
             {"Null": {tok: "false"}}, [], False)
    deny_if(c, g, "deny-missing-request-tag", "Deny with Null true denies a request that lacks the tag",
            OPERATORS, {"Null": {"aws:RequestTag/project": "true"}}, [], True,
            action="ec2:RunInstances", resource=f"arn:aws:ec2:us-east-1:{A}:instance/*")
    deny_if(c, g, "deny-missing-request-tag-present", "Deny with Null true spares a request with the tag",
            OPERATORS, {"Null": {"aws:RequestTag/project": "true"}},
            [ctx("aws:RequestTag/project", "string", "apollo")], False,
            action="ec2:RunInstances", resource=f"arn:aws:ec2:us-east-1:{A}:instance/*")


# operator family -> (key, policy value, context type, a value that satisfies the
# positive operator, a value that does not)
FAMILIES = {
    "StringEquals": ("aws:PrincipalTag/team", "blue", "string", "blue", "red"),
    "StringNotEquals": ("aws:PrincipalTag/team", "blue", "string", "red", "blue"),
    "StringEqualsIgnoreCase": ("aws:PrincipalTag/team", "blue", "string", "BLUE", "red"),
    "StringNotEqualsIgnoreCase": ("aws:PrincipalTag/team", "blue", "string", "red", "BLUE"),
    "StringLike": ("aws:PrincipalTag/team", "bl*", "string", "blue", "red"),
    "StringNotLike": ("aws:PrincipalTag/team", "bl*", "string", "red", "blue"),
    "NumericEquals": ("s3:max-keys", "10", "numeric", "10", "11"),
    "NumericNotEquals": ("s3:max-keys", "10", "numeric", "11", "10"),
    "NumericLessThan": ("s3:max-keys", "10", "numeric", "9", "10"),
    "NumericLessThanEquals": ("s3:max-keys", "10", "numeric", "10", "11"),
    "NumericGreaterThan": ("s3:max-keys", "10", "numeric", "11", "10"),
    "NumericGreaterThanEquals": ("s3:max-keys", "10", "numeric", "10", "9"),
    "DateEquals": ("aws:TokenIssueTime", "2020-01-01T00:00:00Z", "date", "2020-01-01T00:00:00Z",
                   "2021-01-01T00:00:00Z"),
    "DateNotEquals": ("aws:TokenIssueTime", "2020-01-01T00:00:00Z", "date", "2021-01-01T00:00:00Z",
                      "2020-01-01T00:00:00Z"),
    "DateLessThan": ("aws:TokenIssueTime", "2020-01-01T00:00:00Z", "date", "2019-01-01T00:00:00Z",
                     "2021-01-01T00:00:00Z"),
    "DateLessThanEquals": ("aws:TokenIssueTime", "2020-01-01T00:00:00Z", "date", "2020-01-01T00:00:00Z",
                           "2021-01-01T00:00:00Z"),
    "DateGreaterThan": ("aws:TokenIssueTime", "2020-01-01T00:00:00Z", "date", "2021-01-01T00:00:00Z",
                        "2019-01-01T00:00:00Z"),
    "DateGreaterThanEquals": ("aws:TokenIssueTime", "2020-01-01T00:00:00Z", "date", "2020-01-01T00:00:00Z",
                              "2019-01-01T00:00:00Z"),
    "Bool": ("aws:MultiFactorAuthPresent", "true", "boolean", "true", "false"),
    "BinaryEquals": ("example:BinaryData", BIN, "binary", BIN, "AAEC"),
    "IpAddress": ("aws:SourceIp", "203.0.113.0/24", "ip", "203.0.113.5", "198.51.100.5"),
    "NotIpAddress": ("aws:SourceIp", "203.0.113.0/24", "ip", "198.51.100.5", "203.0.113.5"),
    "ArnEquals": ("aws:SourceArn", TOPIC, "string", TOPIC, TOPIC + "x"),
    "ArnLike": ("aws:SourceArn", f"arn:aws:sns:*:{A}:topic*", "string", TOPIC, f"arn:aws:sns:us-east-1:{B}:x"),
    "ArnNotEquals": ("aws:SourceArn", TOPIC, "string", TOPIC + "x", TOPIC),
    "ArnNotLike": ("aws:SourceArn", f"arn:aws:sns:*:{A}:topic*", "string", f"arn:aws:sns:us-east-1:{B}:x",
                   TOPIC),
}
NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals",
           "DateNotEquals", "NotIpAddress", "ArnNotEquals", "ArnNotLike"}


def kebab(op):
    out = ""
    for ch in op:
        if ch.isupper() and out:
            out += "-"
        out += ch.lower()
    return out


def cond_missing_key(c):
    g = "cond-missing-key"
    for op, (key, pv, typ, _, _) in FAMILIES.items():
        negated = op in NEGATED
        allow_if(c, g, kebab(op),
                 f"{op} on a key absent from the request is "
                 + ("true (a negated operator matches a missing key)" if negated
                    else "false (the values do not match)"),
                 OPERATORS, {op: {key: pv}}, [ctx("aws:PrincipalTag/other", "string", "x")], negated,
                 missing=[key])
    deny_if(c, g, "deny-string-not-equals-missing", "A Deny with StringNotEquals applies when the key is absent",
            OPERATORS, {"StringNotEquals": {"aws:PrincipalTag/team": "blue"}}, [], True,
            missing=["aws:PrincipalTag/team"])
    deny_if(c, g, "deny-string-equals-missing", "A Deny with StringEquals does not apply when the key is absent",
            OPERATORS, {"StringEquals": {"aws:PrincipalTag/team": "blue"}}, [], False,
            missing=["aws:PrincipalTag/team"])


def cond_ifexists(c):
    g = "cond-ifexists"
    for op, (key, pv, typ, good, bad) in FAMILIES.items():
        opx = op + "IfExists"
        allow_if(c, g, kebab(op) + "-if-exists-missing",
                 f"{opx}: a key absent from the request makes the condition true", OPERATORS,
                 {opx: {key: pv}}, [], True)
    # Present keys are evaluated as without IfExists, for a sample of the families.
    for op in ["StringEquals", "StringNotEquals", "NumericLessThan", "DateGreaterThan", "Bool",
               "IpAddress", "NotIpAddress", "ArnLike", "BinaryEquals"]:
        key, pv, typ, good, bad = FAMILIES[op]
        opx = op + "IfExists"
        allow_if(c, g, kebab(op) + "-if-exists-present-true",
                 f"{opx} with the key present evaluates it like {op} (true)", OPERATORS,
                 {opx: {key: pv}}, [ctx(key, typ, good)], True)
        allow_if(c, g, kebab(op) + "-if-exists-present-false",
                 f"{opx} with the key present evaluates it like {op} (false)", OPERATORS,
                 {opx: {key: pv}}, [ctx(key, typ, bad)], False)
    types = {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}
    for name, value, allowed in [("doc-instance-type-t1", "t1.micro", True),
                                 ("doc-instance-type-m2", "m2.micro", False)]:
        allow_if(c, g, name, f"StringLikeIfExists ec2:InstanceType t1.*/t2.*/m3.* with {value}", OPERATORS,
                 types, [ctx("ec2:InstanceType", "string", value)], allowed, action="ec2:RunInstances",
                 resource=f"arn:aws:ec2:us-east-1:{A}:instance/*")
    allow_if(c, g, "doc-instance-type-absent",
             "StringLikeIfExists ec2:InstanceType matches resources that have no instance type", OPERATORS,
             types, [], True, action="ec2:RunInstances", resource=f"arn:aws:ec2:us-east-1::image/ami-12345678")
    deny_if(c, g, "deny-not-equals-if-exists-missing",
            "Deny with StringNotEqualsIfExists still denies when the key is missing", OPERATORS,
            {"StringNotEqualsIfExists": {"aws:PrincipalTag/team": "blue"}}, [], True)
    deny_if(c, g, "deny-bool-if-exists-mfa-absent",
            "Deny with BoolIfExists aws:MultiFactorAuthPresent=false denies long-term credentials (key absent)",
            CONDKEYS, {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, [], True)
    deny_if(c, g, "deny-bool-if-exists-mfa-true",
            "Deny with BoolIfExists aws:MultiFactorAuthPresent=false spares MFA-authenticated requests",
            CONDKEYS, {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
            [ctx("aws:MultiFactorAuthPresent", "boolean", "true")], False)


def cond_sets(c):
    g = "cond-sets"
    tk = "aws:TagKeys"

    def tags(*values):
        return [ctx(tk, "stringList", *values)]

    allowed_keys = {"ForAllValues:StringEquals": {tk: ["environment", "costcenter"]}}
    allow_if(c, g, "for-all-values-subset", "ForAllValues: every request value is in the policy's set",
             SETS, allowed_keys, tags("environment", "costcenter"), True,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    allow_if(c, g, "for-all-values-one-outside", "ForAllValues is false if any request value is outside the set",
             SETS, allowed_keys, tags("environment", "owner"), False,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    allow_if(c, g, "for-all-values-missing-key", "ForAllValues returns true if the key is not in the request",
             SETS, allowed_keys, [], True,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    allow_if(c, g, "for-all-values-empty-set", "ForAllValues returns true for an empty set of request values",
             SETS, allowed_keys, tags(), True,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    allow_if(c, g, "for-all-values-null-guard",
             "A Null false condition next to ForAllValues stops a missing key from matching",
             SETS, dict(allowed_keys, Null={tk: "false"}), [], False,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    any_env = {"ForAnyValue:StringEquals": {tk: "environment"}}
    allow_if(c, g, "for-any-value-one-match", "ForAnyValue: at least one request value matches", SETS,
             any_env, tags("environment", "costcenter"), True,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    allow_if(c, g, "for-any-value-no-match", "ForAnyValue is false when no request value matches", SETS,
             any_env, tags("costcenter"), False,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    allow_if(c, g, "for-any-value-case-sensitive",
             "ForAnyValue:StringEquals is case sensitive: Environment is not environment", OPERATORS,
             any_env, tags("Environment"), False,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    allow_if(c, g, "for-any-value-missing-key", "ForAnyValue returns false if the key is not in the request",
             SETS, any_env, [], False,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    allow_if(c, g, "for-any-value-empty-set", "ForAnyValue returns false for an empty set of request values",
             SETS, any_env, tags(), False,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    attrs = "dynamodb:Attributes"
    put = {"ForAnyValue:StringLike": {attrs: ["ID", "PostDateTime"]}}
    table = f"arn:aws:dynamodb:us-east-1:{A}:table/Thread"
    deny_if(c, g, "for-any-value-deny-match",
            "Deny ForAnyValue: one of UserName/Message/PostDateTime is a forbidden attribute", SETS, put,
            [ctx(attrs, "stringList", "UserName", "Message", "PostDateTime")], True,
            action="dynamodb:PutItem", resource=table)
    deny_if(c, g, "for-any-value-deny-no-match", "Deny ForAnyValue: UserName alone is not forbidden", SETS, put,
            [ctx(attrs, "stringList", "UserName")], False, action="dynamodb:PutItem", resource=table)
    deny_if(c, g, "for-any-value-deny-missing-key", "Deny ForAnyValue does not apply when the key is absent",
            SETS, put, [], False, action="dynamodb:PutItem", resource=table)
    get = {"ForAllValues:StringLike": {attrs: ["PostDateTime", "Message", "Tags"]}}
    allow_if(c, g, "for-all-values-doc-allowed", "ForAllValues: PostDateTime and Message are both allowed",
             SETS, get, [ctx(attrs, "stringList", "PostDateTime", "Message")], True,
             action="dynamodb:GetItem", resource=table)
    allow_if(c, g, "for-all-values-doc-username", "ForAllValues: UserName is not in the allowed list", SETS,
             get, [ctx(attrs, "stringList", "PostDateTime", "UserName")], False,
             action="dynamodb:GetItem", resource=table)
    allow_if(c, g, "for-all-values-like-wildcards", "ForAllValues:StringLike honours wildcards per value",
             OPERATORS, {"ForAllValues:StringLike": {tk: ["env-*", "cost*"]}}, tags("env-prod", "costcenter"),
             True, action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    allow_if(c, g, "for-all-values-ignore-case", "ForAllValues:StringEqualsIgnoreCase ignores case per value",
             OPERATORS, {"ForAllValues:StringEqualsIgnoreCase": {tk: ["environment"]}}, tags("Environment"),
             True, action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    none_secret = {"ForAllValues:StringNotEquals": {tk: ["secret"]}}
    allow_if(c, g, "for-all-values-not-equals-none-match",
             "ForAllValues:StringNotEquals: none of the request values may match a policy value", OPERATORS,
             none_secret, tags("a", "b"), True,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    allow_if(c, g, "for-all-values-not-equals-one-match",
             "ForAllValues:StringNotEquals is false when one request value matches", OPERATORS,
             none_secret, tags("a", "secret"), False,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    some_not_secret = {"ForAnyValue:StringNotEquals": {tk: ["secret"]}}
    allow_if(c, g, "for-any-value-not-equals-one-differs",
             "ForAnyValue:StringNotEquals: at least one request value matches no policy value", OPERATORS,
             some_not_secret, tags("a", "secret"), True,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    allow_if(c, g, "for-any-value-not-equals-all-match",
             "ForAnyValue:StringNotEquals is false when every request value matches a policy value", OPERATORS,
             some_not_secret, tags("secret"), False,
             action="ec2:CreateTags", resource=f"arn:aws:ec2:us-east-1:{A}:instance/i-1")
    arns = "logs:LogGeneratingResourceArns"
    dist = {"ForAllValues:ArnLike": {arns: ["arn:aws:cloudfront::123456789012:distribution/*",
                                            "arn:aws:cloudfront::123456789012:distribution/support*"]}}
    src = f"arn:aws:logs:us-east-1:123456789012:delivery-source:cf"
    allow_if(c, g, "for-all-values-arn-like-match", "ForAllValues:ArnLike: every ARN matches a pattern",
             OPERATORS, dist, [ctx(arns, "stringList", "arn:aws:cloudfront::123456789012:distribution/costcenter",
                                   "arn:aws:cloudfront::123456789012:distribution/support2025")], True,
             action="logs:PutDeliverySource", resource=src)
    allow_if(c, g, "for-all-values-arn-like-other-account",
             "ForAllValues:ArnLike: an ARN of another account matches no pattern", OPERATORS, dist,
             [ctx(arns, "stringList", "arn:aws:cloudfront::777788889999:distribution/costcenter")], False,
             action="logs:PutDeliverySource", resource=src)
    allow_if(c, g, "for-all-values-arn-like-missing", "ForAllValues:ArnLike matches when the key is absent",
             OPERATORS, dist, [], True, action="logs:PutDeliverySource", resource=src)


def cond_logic(c):
    g = "cond-logic"
    dept, role = "aws:PrincipalTag/department", "aws:PrincipalTag/role"
    both_ops = {"StringEquals": {dept: "finance"}, "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    allow_if(c, g, "operators-and-both-true", "Several condition operators are combined with AND (both true)",
             MULTI, both_ops, [ctx(dept, "string", "finance"), ctx("aws:SourceIp", "ip", "203.0.113.5")], True)
    allow_if(c, g, "operators-and-one-false", "Several condition operators are combined with AND (one false)",
             MULTI, both_ops, [ctx(dept, "string", "finance"), ctx("aws:SourceIp", "ip", "192.0.2.5")], False)
    both_keys = {"StringEquals": {dept: "finance", role: "audit"}}
    allow_if(c, g, "keys-and-both-true", "Several keys under one operator are combined with AND (both true)",
             MULTI, both_keys, [ctx(dept, "string", "finance"), ctx(role, "string", "audit")], True)
    allow_if(c, g, "keys-and-one-false", "Several keys under one operator are combined with AND (one false)",
             MULTI, both_keys, [ctx(dept, "string", "finance"), ctx(role, "string", "dev")], False)
    allow_if(c, g, "keys-and-one-missing", "Several keys under one operator: one key missing makes it false",
             MULTI, both_keys, [ctx(dept, "string", "finance")], False)
    values = {"StringEquals": {role: ["audit", "security"]}}
    allow_if(c, g, "values-or-one-matches", "Several values for one key are combined with OR", MULTI, values,
             [ctx(role, "string", "security")], True)
    allow_if(c, g, "values-or-none-matches", "Several values for one key: no value matching is false", MULTI,
             values, [ctx(role, "string", "dev")], False)
    neg = {"StringNotEquals": {role: ["audit", "security"]}}
    allow_if(c, g, "negated-values-nor-one-matches",
             "Several values for a negated operator are combined with NOR: equal to one of them is false",
             MULTI, neg, [ctx(role, "string", "security")], False)
    allow_if(c, g, "negated-values-nor-none-matches",
             "Several values for a negated operator: equal to none of them is true", MULTI, neg,
             [ctx(role, "string", "dev")], True)
    negl = {"StringNotLike": {"s3:prefix": ["home/*", "tmp/*"]}}
    allow_if(c, g, "negated-like-nor", "StringNotLike with several patterns is false if any pattern matches",
             MULTI, negl, [ctx("s3:prefix", "string", "tmp/x")], False, action="s3:ListBucket",
             resource=BUCKET)
    allow_if(c, g, "key-name-case-insensitive-policy",
             "Condition key names are not case sensitive: AWS:SourceIP is aws:SourceIp", CONDITION,
             {"IpAddress": {"AWS:SourceIP": "203.0.113.0/24"}}, [ctx("aws:SourceIp", "ip", "203.0.113.5")], True)
    allow_if(c, g, "key-name-case-insensitive-context",
             "Condition key names are not case sensitive on the request side either", CONDITION,
             {"StringEquals": {"aws:username": "alice"}}, [ctx("AWS:UserName", "string", "alice")], True)
    allow_if(c, g, "tag-key-name-case-insensitive",
             "The tag-key part of a key name is not case sensitive either (TagKey1 matches tagkey1)", CONDITION,
             {"StringEquals": {"aws:PrincipalTag/Department": "finance"}},
             [ctx("aws:principaltag/department", "string", "finance")], True)
    allow_if(c, g, "key-case-insensitive-value-case-sensitive",
             "Key names ignore case but StringEquals values do not", CONDITION,
             {"StringEquals": {"AWS:USERNAME": "alice"}}, [ctx("aws:username", "string", "Alice")], False)
    deny_if(c, g, "deny-needs-all-conditions",
            "A Deny statement applies only when all of its conditions are true", MULTI,
            {"StringEquals": {dept: "finance"}, "Bool": {"aws:SecureTransport": "false"}},
            [ctx(dept, "string", "finance"), ctx("aws:SecureTransport", "boolean", "true")], False)
    deny_if(c, g, "deny-all-conditions-true",
            "A Deny statement whose conditions are all true applies", MULTI,
            {"StringEquals": {dept: "finance"}, "Bool": {"aws:SecureTransport": "false"}},
            [ctx(dept, "string", "finance"), ctx("aws:SecureTransport", "boolean", "false")], True)
    allow_if(c, g, "mixed-operators-values-and-keys",
             "The documented mix: AND across operators and keys, OR across each key's values", MULTI,
             {"StringEquals": {dept: ["finance", "hr", "legal"], role: ["audit", "security"]},
              "ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{A}:user/*", f"arn:aws:iam::{A}:role/billing-*"]}},
             [ctx(dept, "string", "hr"), ctx(role, "string", "audit"),
              ctx("aws:PrincipalArn", "string", f"arn:aws:iam::{A}:role/billing-reader")], True)
