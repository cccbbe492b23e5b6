"""The audit trail through the real binary: every call leaves one JSON line in
DATA_DIR/audit.log with its time, request id, caller, access key id, action,
resource, decision, deciding statement, source address and error code, and
nothing secret."""

import datetime
import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, ROOT_SECRET, client, error_code


def audit_lines(server, request_ids, timeout=10):
    """The audit lines of these request ids, once all have been written (the
    writer gathers for a few milliseconds before it writes)."""
    path = server.data_dir / "audit.log"
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text() if path.exists() else ""
        found = {}
        for line in text.splitlines():
            record = json.loads(line)
            if record["request_id"] in request_ids:
                found[record["request_id"]] = record
        if len(found) == len(request_ids) or time.monotonic() > deadline:
            return found, text
        time.sleep(0.05)


def request_id(response):
    return response["ResponseMetadata"]["RequestId"]


def test_each_call_leaves_one_line_with_who_what_and_the_decision(server, make_user, sts):
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "ReadSelf", "Effect": "Allow", "Action": "iam:GetUser",
        "Resource": f"arn:aws:iam::{ACCOUNT_ID}:user/*"}]}
    user = make_user(policy)
    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{user.name}"
    started = datetime.datetime.now(datetime.timezone.utc)

    allowed = request_id(user.iam.get_user(UserName=user.name))
    with pytest.raises(ClientError) as denied_call:
        user.iam.list_users()
    assert error_code(denied_call) == "AccessDenied"
    denied = request_id(denied_call.value.response)
    forged = client(server.endpoint, "iam", user.key_id, "not-" + user.secret)
    with pytest.raises(ClientError) as forged_call:
        forged.get_user(UserName=user.name)
    assert error_code(forged_call) == "SignatureDoesNotMatch"
    unauthenticated = request_id(forged_call.value.response)
    open_call = request_id(user.sts.get_caller_identity())

    ids = {allowed, denied, unauthenticated, open_call}
    assert len(ids) == 4, "request ids are distinct"
    found, text = audit_lines(server, ids)
    assert set(found) == ids, f"missing audit lines for {ids - set(found)}"

    for record in found.values():
        at = datetime.datetime.strptime(record["time"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        assert started - datetime.timedelta(seconds=2) <= at <= started + datetime.timedelta(minutes=2)
        assert record["source_ip"] == "127.0.0.1"

    line = found[allowed]
    assert line["service"] == "iam"
    assert line["caller"] == user_arn
    assert line["access_key_id"] == user.key_id
    assert line["action"] == "iam:GetUser"
    assert line["resource"] == user_arn
    assert line["decision"] == "Allow"
    assert len(line["statements"]) == 1 and line["statements"][0].endswith("#ReadSelf"), line
    assert "error_code" not in line

    line = found[denied]
    assert line["caller"] == user_arn
    assert line["action"] == "iam:ListUsers"
    assert line["decision"] == "Deny"
    assert line["error_code"] == "AccessDenied"

    line = found[unauthenticated]
    assert line["decision"] == "Unauthenticated"
    assert line["error_code"] == "SignatureDoesNotMatch"
    assert "caller" not in line and "access_key_id" not in line
    assert line["action"] == "GetUser", "the Action parameter as sent"

    line = found[open_call]
    assert line["service"] == "sts"
    assert line["action"] == "sts:GetCallerIdentity"
    assert line["decision"] == "NotRequired"
    assert line["caller"] == user_arn

    # Nothing secret: neither the user's secret, nor the forged one, nor root's.
    for secret in (user.secret, "not-" + user.secret, ROOT_SECRET):
        assert secret not in text


@pytest.mark.parametrize("action", ['No"Such\\Action'])
def test_an_unknown_action_is_recorded_as_sent_and_escaped(server, action):
    """The line stays one valid JSON object whatever the client sent."""
    import http.client
    import urllib.parse

    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    from conftest import REGION, ROOT_KEY_ID

    body = urllib.parse.urlencode({"Action": action, "Version": "2010-05-08"})
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=server.endpoint + "/", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(ROOT_KEY_ID, ROOT_SECRET), "iam", REGION).add_auth(request)
    conn = http.client.HTTPConnection(server.endpoint.removeprefix("http://"))
    conn.request("POST", "/", body=body, headers=dict(request.headers))
    response = conn.getresponse()
    xml = response.read().decode()
    conn.close()
    assert response.status == 400
    assert "<Code>InvalidAction</Code>" in xml
    rid = re.search(r"<RequestId>([^<]+)</RequestId>", xml).group(1)
    found, _ = audit_lines(server, {rid})
    line = found[rid]
    assert line["action"] == action, "the Action parameter as sent"
    assert line["error_code"] == "InvalidAction"
    assert line["caller"] == f"arn:aws:iam::{ACCOUNT_ID}:root"
