#!/usr/bin/env python3
"""Writes the policy decision corpus: one case.json per case under ../<group>/<case>/.

Run from anywhere with `python3 crates/policy/tests/cases/gen/gen.py`; the files it
writes are committed and must stay identical to its output (`--check` verifies that).
Each case was reasoned by hand from the AWS page its `source` names; nothing here
evaluates a policy.
"""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

from lib import Corpus  # noqa: E402
import g_conditions  # noqa: E402
import g_elements  # noqa: E402
import g_evaluation  # noqa: E402
import g_variables  # noqa: E402

# What each group pins down, for INDEX.md.
GROUPS = {
    "actions": "Action matching: case-insensitive prefix and name, `*` and `?` wildcards, `*` alone, "
               "a service prefix never matching another (`s3:*` vs `s3express:`), lists, the "
               "explicit/implicit deny example.",
    "resources": "Resource ARN matching: case-sensitive, `*` spanning `/` and the colons of the resource "
                 "part, `?`, region/account wildcards, empty S3 segments, partition and service segments, "
                 "a trailing `*` crossing segments, lists, the documented `bucket/*/test/*` table.",
    "not-action": "NotAction with Allow (grants every other action, scoped by Resource) and with Deny "
                  "(denies every other action, grants nothing), lists, wildcards, case.",
    "not-resource": "NotResource with Deny and with Allow, scope by action, case sensitivity.",
    "document": "Valid document shapes: Statement object or array, string or array values, Version "
                "2008-10-17 or absent, blocks in any order, white space, Id, Principal `*`.",
    "parse-errors": "MalformedPolicyDocument: missing/invalid Effect, missing Action or Resource, both "
                    "Action and NotAction, unknown elements, Principal/NotPrincipal in identity "
                    "policies, duplicate keys, bad Version, invalid JSON, duplicate or non-alphanumeric "
                    "Sid, resource/trust policies without Principal, bad session policy and SCP.",
    "cond-string": "String operators: case sensitivity, IgnoreCase, Like wildcards, negations, `*` literal "
                   "in StringEquals.",
    "cond-numeric": "Numeric operators: all six, integers and decimals, JSON numbers, non-numbers.",
    "cond-date": "Date operators: all six, ISO 8601 with offsets and fractions, epoch seconds on either "
                 "side, non-dates and wildcards never match.",
    "cond-bool": "Bool: string and JSON booleans, aws:SecureTransport, the MFA key absent from long-term "
                 "credentials.",
    "cond-binary": "BinaryEquals against base-64 values.",
    "cond-ip": "IpAddress / NotIpAddress: IPv4 and IPv6 CIDRs, implied /32, mixed lists, NOR of negations.",
    "cond-arn": "ARN operators: per-segment matching (vs StringLike), ArnEquals = ArnLike, case, negations.",
    "cond-null": "Null true/false with the key present or absent.",
    "cond-ifexists": "Every ...IfExists operator with a missing key (true) and a sample with the key present; "
                     "Deny + StringNotEqualsIfExists / BoolIfExists.",
    "cond-missing-key": "Every operator with a missing key: false, except negated operators (true).",
    "cond-sets": "ForAllValues / ForAnyValue: subsets, missing key and empty set (ForAllValues true, "
                 "ForAnyValue false), negated set operators, wildcards, ARN sets, Deny forms.",
    "cond-logic": "AND across operators and keys, OR across values, NOR across values of negated "
                  "operators, key-name case insensitivity vs value case sensitivity.",
    "variables": "Policy variables in Resource, NotResource and String/ARN conditions: aws:username, "
                 "aws:userid, aws:PrincipalTag, `${*}` `${?}` `${$}`, defaults, literal text under "
                 "2008-10-17 or without Version, variables with no value (incl. negated operators).",
    "eval-identity": "Implicit deny by default, identity and group policies, explicit deny wins.",
    "eval-boundary": "Permissions boundaries: intersection, deny, no grant alone, resource-policy grants "
                     "to a user or session (not limited) vs to a role ARN (limited), NotPrincipal + Deny.",
    "eval-session": "Session policies: intersection, deny, resource policy naming the session vs the role, "
                    "with a boundary, GetFederationToken sessions.",
    "eval-scp": "SCPs: every level must allow, any SCP at a level, deny anywhere, no grant alone, root user, "
                "resource-policy grants still bound.",
    "eval-resource": "Resource-based policies in one account: grants by themselves to users and sessions, "
                     "account principals delegate, `*`, lists, case, anonymous and service principals.",
    "eval-cross-account": "Both the identity side and the resource side must allow; limits on the "
                          "requester side (session, boundary, SCP) still apply.",
    "eval-root": "The root user: full access without policies, bound by resource-policy denies, "
                 "cross-account needs a grant.",
    "eval-trust": "Role trust policies (kind trust, sts:AssumeRole): must always allow, same-account user "
                  "named directly, account trust + identity permission, cross-account, ExternalId, services.",
    "not-principal": "NotPrincipal with Deny (all except the named) and with Allow.",
}

BUILDERS = [
    g_elements.actions, g_elements.resources, g_elements.not_action, g_elements.not_resource,
    g_elements.document, g_elements.parse_errors,
    g_conditions.cond_string, g_conditions.cond_numeric, g_conditions.cond_date, g_conditions.cond_bool,
    g_conditions.cond_binary, g_conditions.cond_ip, g_conditions.cond_arn, g_conditions.cond_null,
    g_conditions.cond_ifexists, g_conditions.cond_missing_key, g_conditions.cond_sets, g_conditions.cond_logic,
    g_variables.variables,
    g_evaluation.eval_identity, g_evaluation.eval_boundary, g_evaluation.eval_session, g_evaluation.eval_scp,
    g_evaluation.eval_resource, g_evaluation.eval_cross_account, g_evaluation.eval_root, g_evaluation.eval_trust,
    g_evaluation.not_principal,
]


def build(root):
    corpus = Corpus(root)
    for b in BUILDERS:
        b(corpus)
    return corpus


def tree(root, groups):
    out = {}
    for g in groups:
        for dirpath, _, files in os.walk(os.path.join(root, g)):
            for f in files:
                p = os.path.join(dirpath, f)
                with open(p, "rb") as fh:
                    out[os.path.relpath(p, root)] = fh.read()
    return out


def write_index(root, corpus, groups):
    counts = {}
    for k in corpus.cases:
        counts[k.split("/")[0]] = counts.get(k.split("/")[0], 0) + 1
    assert set(GROUPS) == set(groups), set(GROUPS) ^ set(groups)
    lines = ["# Corpus index", "",
             "Generated by `gen/gen.py` (do not edit by hand). The format of a case is in README.md;",
             "`smoke/` belongs to the engine and is not listed here.", "",
             f"{len(corpus.cases)} cases in {len(groups)} groups.", "",
             "| group | cases | rules |", "|---|---:|---|"]
    for g in groups:
        lines.append(f"| `{g}` | {counts[g]} | {GROUPS[g]} |")
    with open(os.path.join(root, "INDEX.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main():
    cases_dir = os.path.dirname(HERE)
    check = "--check" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = build(tmp)
        n = corpus.write()
        groups = sorted({k.split("/")[0] for k in corpus.cases})
        write_index(tmp, corpus, groups)
        fresh = tree(tmp, groups)
        fresh["INDEX.md"] = open(os.path.join(tmp, "INDEX.md"), "rb").read()
        if check:
            current = tree(cases_dir, groups)
            index = os.path.join(cases_dir, "INDEX.md")
            if os.path.exists(index):
                current["INDEX.md"] = open(index, "rb").read()
            if current != fresh:
                diff = sorted(set(current) ^ set(fresh)) + sorted(
                    k for k in set(current) & set(fresh) if current[k] != fresh[k])
                print("corpus differs from generator output:", *diff[:20], sep="\n  ")
                return 1
            print(f"{n} cases up to date")
            return 0
        for g in groups:
            shutil.rmtree(os.path.join(cases_dir, g), ignore_errors=True)
            shutil.copytree(os.path.join(tmp, g), os.path.join(cases_dir, g))
        shutil.copyfile(os.path.join(tmp, "INDEX.md"), os.path.join(cases_dir, "INDEX.md"))
    counts = {}
    for k in corpus.cases:
        counts[k.split("/")[0]] = counts.get(k.split("/")[0], 0) + 1
    for g in groups:
        print(f"{g:22} {counts[g]}")
    print(f"{n} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
