"""Refusals and bad input, on the wire.

Requests are built by hand (http.client or a raw socket) and signed with
botocore's SigV4Auth where a signature is needed, so that each test controls
exactly what reaches the server: no signature, a wrong one, an old date, a
body that is not a form, not UTF-8, or too large. Every refusal must be an
AWS error XML document with the right code and a RequestId, never a 5xx,
and the server must never panic.

The module runs its own server, so that its memory and its log are this
module's alone.
"""

import datetime
import http.client
import re
import select
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from unittest import mock

import boto3
import botocore.config
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import REGION, ROOT_KEY_ID, ROOT_SECRET, Server, client, error_code, unique

FORM = "application/x-www-form-urlencoded; charset=utf-8"
ONE_MIB = 1024 * 1024


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("robustness") / "data")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def root_iam(own):
    return client(own.endpoint, "iam", ROOT_KEY_ID, ROOT_SECRET)


# ---------------------------------------------------------------- helpers


def sign(server, body, service="iam", key_id=ROOT_KEY_ID, secret=ROOT_SECRET, at=None, headers=None):
    """The headers of a POST of `body` signed with SigV4 (at a given UTC time)."""
    h = {"Content-Type": FORM, **(headers or {})}
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=h)
    auth = SigV4Auth(Credentials(key_id, secret), service, REGION)
    if at is None:
        auth.add_auth(req)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=at.replace(tzinfo=None)):
            auth.add_auth(req)
    return dict(req.headers.items())


def post(server, body, headers):
    """Sends one request; returns (status, headers, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read().decode("utf-8")
    finally:
        conn.close()


def signed_post(server, body, **kw):
    return post(server, body, sign(server, body, **kw))


def aws_error(text):
    """(Type, Code, Message, RequestId) of an AWS error XML document."""
    root = ET.fromstring(text)
    assert root.tag.endswith("ErrorResponse"), text
    err = root.find("{*}Error")
    assert err is not None, text
    return (
        err.findtext("{*}Type"),
        err.findtext("{*}Code"),
        err.findtext("{*}Message"),
        root.findtext("{*}RequestId"),
    )


def assert_error(response, status, code):
    got_status, headers, text = response
    kind, got_code, message, request_id = aws_error(text)
    assert (got_status, got_code) == (status, code), text
    assert kind == "Sender"
    assert request_id and headers.get("x-amzn-requestid") == request_id
    return message


def memory_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def reset_peak_rss(pid):
    """Resets VmHWM (Linux: write 5 to clear_refs); False where not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def stream_oversize(server, declared, chunked=False):
    """POSTs a signed body of `declared` bytes, sending it only as fast as the
    server reads it and stopping as soon as it answers (as a careful client
    does): returns (bytes sent, raw HTTP response)."""
    prefix = b"Action=CreateUser&Version=2010-05-08&UserName="
    body = prefix + b"a" * (declared - len(prefix))
    headers = sign(server, body)
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    else:
        headers["Content-Length"] = str(len(body))
    head = f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    view = memoryview(body)
    sent, step = 0, 64 * 1024
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(head.encode())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            want_write = [s] if sent < len(body) else []
            readable, writable, _ = select.select([s], want_write, [], 1)
            if readable:
                break
            if writable:
                piece = view[sent:sent + step]
                data = b"%x\r\n" % len(piece) + piece + b"\r\n" if chunked else piece
                try:
                    s.sendall(data)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(piece)
        response = b""
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                response += data
                if b"</ErrorResponse>" in response:
                    break
        except ConnectionResetError:
            pass
    return sent, response


def parse_raw_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return status, headers, body.decode("utf-8")


# ----------------------------------------------------- refused signatures

GCI = b"Action=GetCallerIdentity&Version=2011-06-15"


def test_unsigned_request_is_missing_authentication_token(own):
    for body in (GCI, b"Action=ListUsers&Version=2010-05-08"):
        message = assert_error(post(own, body, {"Content-Type": FORM}), 403, "MissingAuthenticationToken")
        assert message == "Request is missing Authentication Token"


def test_a_wrong_secret_is_signature_does_not_match(own):
    response = signed_post(own, GCI, service="sts", secret="not-the-root-secret")
    message = assert_error(response, 403, "SignatureDoesNotMatch")
    assert message.startswith("The request signature we calculated does not match the signature you provided.")
    assert ROOT_SECRET not in response[2]


def test_a_body_changed_after_signing_is_signature_does_not_match(own):
    headers = sign(own, b"Action=ListUsers&Version=2010-05-08")
    assert_error(post(own, b"Action=ListUsers&Version=2010-05-08&MaxItems=1", headers), 403,
                 "SignatureDoesNotMatch")


def test_an_unknown_key_is_invalid_client_token_id(own):
    for service, body in (("sts", GCI), ("iam", b"Action=ListUsers&Version=2010-05-08")):
        message = assert_error(signed_post(own, body, service=service, key_id="AKIAUNKNOWNUNKNOWN00"), 403,
                               "InvalidClientTokenId")
        assert message == "The security token included in the request is invalid."


def test_inactive_and_deleted_keys_are_invalid_client_token_id(own, root_iam):
    name = unique("keys")
    root_iam.create_user(UserName=name)
    key = root_iam.create_access_key(UserName=name)["AccessKey"]
    kid, secret = key["AccessKeyId"], key["SecretAccessKey"]

    def call():
        return signed_post(own, GCI, service="sts", key_id=kid, secret=secret)

    assert call()[0] == 200
    root_iam.update_access_key(UserName=name, AccessKeyId=kid, Status="Inactive")
    assert_error(call(), 403, "InvalidClientTokenId")
    root_iam.update_access_key(UserName=name, AccessKeyId=kid, Status="Active")
    assert call()[0] == 200, "reactivating the key must make it work again"
    root_iam.delete_access_key(UserName=name, AccessKeyId=kid)
    assert_error(call(), 403, "InvalidClientTokenId")
    # boto3 sees the same code.
    with pytest.raises(ClientError) as e:
        client(own.endpoint, "sts", kid, secret).get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"


@pytest.mark.parametrize("service,body", [("sts", GCI), ("iam", b"Action=ListUsers&Version=2010-05-08")])
def test_a_stale_date_is_signature_expired(own, service, body):
    now = datetime.datetime.now(datetime.timezone.utc)
    message = assert_error(signed_post(own, body, service=service, at=now - datetime.timedelta(minutes=20)), 403,
                           "SignatureDoesNotMatch")
    assert re.fullmatch(
        r"Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)", message
    ), message
    message = assert_error(signed_post(own, body, service=service, at=now + datetime.timedelta(minutes=20)), 403,
                           "SignatureDoesNotMatch")
    assert message.startswith("Signature not yet current: "), message
    # Inside the 15-minute window the same request is accepted.
    assert signed_post(own, body, service=service, at=now - datetime.timedelta(minutes=10))[0] == 200


# -------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "body,code",
    [
        (b"%%%&&&===", "MissingAction"),
        (b"=&=&=", "MissingAction"),
        (b"\x00\x01\x02garbage", "MissingAction"),
        (b"Version=2010-05-08&UserName=alice", "MissingAction"),
        (b"Action=&Version=2010-05-08", "InvalidAction"),
        (b"Action=ListUsers&Version=2010-05-08&MaxItems=abc", "ValidationError"),
        (b"Action=ListUsers&Version=2010-05-08&MaxItems=0", "ValidationError"),
        (b"Action=ListUsers&Version=2010-05-08&MaxItems=99999999999999999999999", "ValidationError"),
        (b"Action=ListUsers&Version=2010-05-08&Marker=not-a-marker", "InvalidInput"),
        (b"Action=GetUser&Version=2010-05-08&UserName=%zz", "ValidationError"),
        (b"Action=CreateUser&Version=2010-05-08&UserName=" + b"a" * 65, "ValidationError"),
        (b"Action=CreateUser&Version=2010-05-08&UserName=x&Tags.member.1.Key=k", "ValidationError"),
        (b"Action=PutUserPolicy&Version=2010-05-08&UserName=x&PolicyName=p&PolicyDocument=%7B",
         "MalformedPolicyDocument"),
    ],
)
def test_malformed_bodies_get_a_precise_error(own, body, code):
    status, headers, text = signed_post(own, body)
    assert 400 <= status < 500, text
    assert aws_error(text)[1] == code, text


def test_an_unknown_action_is_invalid_action(own):
    message = assert_error(signed_post(own, b"Action=FlyToTheMoon&Version=2010-05-08"), 400, "InvalidAction")
    assert message == "Could not find operation FlyToTheMoon for version 2010-05-08"
    # An STS action sent to IAM (its scope says iam) is unknown there too.
    assert_error(signed_post(own, GCI.replace(b"2011-06-15", b"2010-05-08")), 400, "InvalidAction")
    # A known action with another API version.
    assert_error(signed_post(own, b"Action=ListUsers&Version=2099-01-01"), 400, "InvalidAction")


def test_a_missing_required_parameter_is_a_validation_error_naming_it(own):
    message = assert_error(signed_post(own, b"Action=CreateUser&Version=2010-05-08"), 400, "ValidationError")
    assert message == ("1 validation error detected: Value null at 'userName' failed to satisfy constraint: "
                       "Member must not be null")
    message = assert_error(signed_post(own, b"Action=PutUserPolicy&Version=2010-05-08&UserName=u&PolicyName=p"),
                           400, "ValidationError")
    assert "'policyDocument'" in message and "Member must not be null" in message


def test_an_invalid_utf8_body_is_refused(own):
    body = b"Action=CreateUser&Version=2010-05-08&UserName=\xff\xfe\xfd"
    message = assert_error(signed_post(own, body), 400, "MalformedQueryString")
    assert "UTF-8" in message
    # Percent-encoded bytes that are not UTF-8 decode to nothing a name may hold.
    assert_error(signed_post(own, b"Action=GetUser&Version=2010-05-08&UserName=%FF%FE"), 400, "ValidationError")


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversize_body_is_413_with_bounded_memory(own, chunked):
    pid = own.proc.pid
    rss_before = memory_kib(pid, "VmRSS")
    peak_reset = reset_peak_rss(pid)
    declared = 64 * ONE_MIB
    for _ in range(4):
        sent, raw = stream_oversize(own, declared, chunked=chunked)
        status, headers, text = parse_raw_response(raw)
        message = assert_error((status, headers, text), 413, "RequestEntityTooLarge")
        assert "1048576 bytes" in message
        assert sent < declared / 4, "the server must answer before reading the whole body"
    growth = memory_kib(pid, "VmRSS") - rss_before
    assert growth < 16 * 1024, f"RSS grew by {growth} KiB over 4 oversize requests of 64 MiB"
    if peak_reset:
        peak = memory_kib(pid, "VmHWM") - rss_before
        assert peak < 32 * 1024, f"peak RSS rose {peak} KiB above the start: the body was buffered"
    # A body of exactly the limit is read (and answered on its merits).
    prefix = b"Action=ListUsers&Version=2010-05-08&Marker="
    body = prefix + b"a" * (ONE_MIB - len(prefix))
    assert len(body) == ONE_MIB
    status, _, text = signed_post(own, body)
    assert status != 413, text
    assert aws_error(text)[1] == "ValidationError"  # the Marker is longer than the model allows


def test_200_concurrent_identical_create_user_calls_make_one_user(own, root_iam):
    name = unique("race")
    n = 200
    session = boto3.session.Session()
    cfg = botocore.config.Config(retries={"max_attempts": 1}, max_pool_connections=1, connect_timeout=20,
                                 read_timeout=60)
    clients = [
        session.client("iam", endpoint_url=own.endpoint, region_name=REGION, aws_access_key_id=ROOT_KEY_ID,
                       aws_secret_access_key=ROOT_SECRET, config=cfg)
        for _ in range(n)
    ]
    barrier = threading.Barrier(n)
    results = [None] * n

    def create(i):
        barrier.wait()
        try:
            clients[i].create_user(UserName=name, Path="/race/", Tags=[{"Key": "run", "Value": name}])
            results[i] = ("Created", 200)
        except ClientError as e:
            results[i] = (error_code_of(e), e.response["ResponseMetadata"]["HTTPStatusCode"])
        except Exception as e:  # a transport failure is a result too
            results[i] = (type(e).__name__, None)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    counts = Counter(results)
    assert counts == Counter({("Created", 200): 1, ("EntityAlreadyExists", 409): n - 1}), counts

    users = [u for page in root_iam.get_paginator("list_users").paginate(PathPrefix="/race/")
             for u in page["Users"] if u["UserName"].lower() == name.lower()]
    assert len(users) == 1, users
    got = root_iam.get_user(UserName=name)["User"]
    assert got["UserId"] == users[0]["UserId"] and got["Path"] == "/race/"
    assert got["Tags"] == [{"Key": "run", "Value": name}]


def test_concurrent_create_access_key_respects_the_quota(own, root_iam):
    """50 concurrent CreateAccessKey calls for one user: the quota of two
    holds inside the transaction, not just before it."""
    name = unique("keyrace")
    root_iam.create_user(UserName=name)
    n = 50
    session = boto3.session.Session()
    cfg = botocore.config.Config(retries={"max_attempts": 1}, max_pool_connections=1, read_timeout=60)
    clients = [session.client("iam", endpoint_url=own.endpoint, region_name=REGION, aws_access_key_id=ROOT_KEY_ID,
                              aws_secret_access_key=ROOT_SECRET, config=cfg) for _ in range(n)]
    barrier = threading.Barrier(n)
    results = [None] * n

    def create(i):
        barrier.wait()
        try:
            results[i] = ("Created", clients[i].create_access_key(UserName=name)["AccessKey"]["AccessKeyId"])
        except ClientError as e:
            results[i] = (error_code_of(e), e.response["ResponseMetadata"]["HTTPStatusCode"])
        except Exception as e:
            results[i] = (type(e).__name__, None)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    created = sorted(r[1] for r in results if r[0] == "Created")
    refused = Counter(r for r in results if r[0] != "Created")
    assert len(created) == 2 and refused == Counter({("LimitExceeded", 409): n - 2}), (created, refused)
    listed = sorted(k["AccessKeyId"] for k in root_iam.list_access_keys(UserName=name)["AccessKeyMetadata"])
    assert listed == created


def error_code_of(e):
    return e.response["Error"]["Code"]


def test_the_server_never_panicked(own):
    """Runs last in this module: everything above went through this server."""
    assert own.proc.poll() is None, "the server exited"
    own.log.flush()
    with open(own.log.name, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    assert "panicked" not in log, log[-4000:]
    # and it still answers.
    assert signed_post(own, GCI, service="sts")[0] == 200
