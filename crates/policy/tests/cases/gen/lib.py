"""Shared helpers for writing policy-corpus cases.

Every case is written by hand from the AWS documentation; these helpers only
spare repeating the JSON scaffolding (principals, policy documents, the case
layout of ../README.md). Nothing here evaluates a policy.
"""

import json
import os
import re

UG = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
ACTION = UG + "reference_policies_elements_action.html"
NOTACTION = UG + "reference_policies_elements_notaction.html"
RESOURCE = UG + "reference_policies_elements_resource.html"
NOTRESOURCE = UG + "reference_policies_elements_notresource.html"
PRINCIPAL = UG + "reference_policies_elements_principal.html"
NOTPRINCIPAL = UG + "reference_policies_elements_notprincipal.html"
VERSION = UG + "reference_policies_elements_version.html"
EFFECT = UG + "reference_policies_elements_effect.html"
STATEMENT = UG + "reference_policies_elements_statement.html"
SID = UG + "reference_policies_elements_sid.html"
CONDITION = UG + "reference_policies_elements_condition.html"
OPERATORS = UG + "reference_policies_elements_condition_operators.html"
MULTI = UG + "reference_policies_condition-logic-multiple-context-keys-or-values.html"
SETS = UG + "reference_policies_condition-single-vs-multi-valued-context-keys.html"
VARIABLES = UG + "reference_policies_variables.html"
GRAMMAR = UG + "reference_policies_grammar.html"
IDENTIFIERS = UG + "reference_identifiers.html"
CONDKEYS = UG + "reference_policies_condition-keys.html"
EVAL = UG + "reference_policies_evaluation-logic.html"
DENYALLOW = UG + "reference_policies_evaluation-logic_policy-eval-denyallow.html"
BASICS = UG + "reference_policies_evaluation-logic_policy-eval-basics.html"
INTERPLAY = UG + "reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html"
CROSS = UG + "reference_policies_evaluation-logic-cross-account.html"
BOUNDARIES = UG + "access_policies_boundaries.html"
SESSION = UG + "access_policies.html#policies_session"
POLICIES_ROOT = UG + "access_policies.html#access_policies-root"
ID_VS_RES = UG + "access_policies_identity-vs-resource.html"
ROLE_TRUST = UG + "id_roles_compare-resource-policies.html"
SCP_EVAL = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html"
SCPS = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html"
AA_CHECKS = UG + "access-analyzer-reference-policy-checks.html"
ASSUME_ROLE = "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"

V12 = "2012-10-17"
V08 = "2008-10-17"

# Accounts: A is "ours" (the principal's, unless a case says otherwise).
A = "111122223333"
B = "444455556666"
C = "999999999999"

OBJ = "arn:aws:s3:::examplebucket/key.txt"
BUCKET = "arn:aws:s3:::examplebucket"


def user(name="alice", account=A):
    return {"kind": "user", "arn": f"arn:aws:iam::{account}:user/{name}"}


def user_arn(name="alice", account=A):
    return f"arn:aws:iam::{account}:user/{name}"


def role_session(role="app-role", session="app-session", account=A):
    return {
        "kind": "role_session",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "role_arn": f"arn:aws:iam::{account}:role/{role}",
    }


def federated(name="bob", account=A):
    return {"kind": "federated_user", "arn": f"arn:aws:sts::{account}:federated-user/{name}"}


def root(account=A):
    return {"kind": "root", "arn": f"arn:aws:iam::{account}:root"}


def anonymous():
    return {"kind": "anonymous"}


def service(name):
    return {"kind": "service", "arn": name}


def st(effect="Allow", action=None, resource=None, sid=None, condition=None,
       notaction=None, notresource=None, principal=None, notprincipal=None):
    """One statement, keys in the order the AWS examples use."""
    s = {}
    if sid is not None:
        s["Sid"] = sid
    s["Effect"] = effect
    if principal is not None:
        s["Principal"] = principal
    if notprincipal is not None:
        s["NotPrincipal"] = notprincipal
    if action is not None:
        s["Action"] = action
    if notaction is not None:
        s["NotAction"] = notaction
    if resource is not None:
        s["Resource"] = resource
    if notresource is not None:
        s["NotResource"] = notresource
    if condition is not None:
        s["Condition"] = condition
    return s


def allow(action, resource="*", sid=None, condition=None, **kw):
    return st("Allow", action, resource, sid, condition, **kw)


def deny(action, resource="*", sid=None, condition=None, **kw):
    return st("Deny", action, resource, sid, condition, **kw)


def doc(*statements, version=V12, id=None):
    d = {}
    if version is not None:
        d["Version"] = version
    if id is not None:
        d["Id"] = id
    d["Statement"] = list(statements)
    return d


def pol(pid, document):
    return {"id": pid, "document": document}


def ctx(key, typ, *values):
    return {"key": key, "type": typ, "values": list(values)}


FULL_ACCESS = doc(allow("*", "*"))


class Corpus:
    def __init__(self, root_dir):
        self.root = root_dir
        self.cases = {}

    def add(self, group, name, description, source, *, action, resource,
            decision=None, error=None, principal=None, identity=None,
            boundary=None, session=None, scps=None, resource_policy=None,
            resource_account=None, context=None, matched=None, missing=None):
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", group), group
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name
        key = f"{group}/{name}"
        assert key not in self.cases, f"duplicate case {key}"
        assert source.startswith("https://docs.aws.amazon.com/"), source
        assert (decision is None) != (error is None), key
        assert decision in (None, "Allow", "ExplicitDeny", "ImplicitDeny"), key
        policies = {}
        if identity is not None:
            policies["identity"] = identity
        if boundary is not None:
            policies["boundary"] = boundary
        if session is not None:
            policies["session"] = session
        if scps is not None:
            policies["scps"] = scps
        if resource_policy is not None:
            policies["resource"] = resource_policy
        req = {"action": action, "resource": resource}
        if resource_account is not None:
            req["resource_account"] = resource_account
        if context:
            req["context"] = context
        expected = {}
        if decision is not None:
            expected["decision"] = decision
        if error is not None:
            expected["error"] = error
        if matched:
            expected["matched"] = [{"policy": p, "sid": s} for p, s in matched]
        if missing is not None:
            expected["missing_context_keys"] = missing
        self.cases[key] = {
            "description": description,
            "source": source,
            "principal": principal if principal is not None else user(),
            "policies": policies,
            "request": req,
            "expected": expected,
        }

    def write(self):
        for key, case in sorted(self.cases.items()):
            d = os.path.join(self.root, key)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "case.json"), "w", encoding="utf-8") as f:
                f.write(json.dumps(case, indent=2, ensure_ascii=False) + "\n")
        return len(self.cases)
