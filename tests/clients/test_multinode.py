"""Several `portcullis serve` nodes on one PostgreSQL database (issue 6):
what one node writes, the other sees; what one node revokes, the other
enforces within a second; a session issued by one is accepted by the other;
and the nodes ride out lost database connections.

Needs PORTCULLIS_TEST_DATABASE_URL (scripts/test.sh starts a throwaway
PostgreSQL 15 cluster and sets it). Without it these tests are SKIPPED, and
say so."""

import base64
import json
import os
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from conftest import ROOT_KEY_ID, ROOT_SECRET, Server, client, error_code, unique

BASE_URL = os.environ.get("PORTCULLIS_TEST_DATABASE_URL")

pytestmark = pytest.mark.skipif(
    not BASE_URL,
    reason="PostgreSQL multi-node tests SKIPPED: PORTCULLIS_TEST_DATABASE_URL is unset "
           "(scripts/test.sh sets it from a throwaway cluster)",
)

MASTER_KEY = base64.b64encode(b"multinode-test-master-key-32byte").decode()


def psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True,
                   capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def database():
    name = f"portcullis_mn_{uuid.uuid4().hex[:8]}"
    psql(BASE_URL, f"CREATE DATABASE {name}")
    parts = urllib.parse.urlsplit(BASE_URL)
    url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    yield name, url
    psql(BASE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def nodes(database, tmp_path_factory):
    _, url = database
    env = {"PORTCULLIS_MASTER_KEY": MASTER_KEY}
    a = Server(tmp_path_factory.mktemp("node-a") / "data", extra_env=env, extra_args=("--database-url", url))
    b = Server(tmp_path_factory.mktemp("node-b") / "data", extra_env=env, extra_args=("--database-url", url))
    yield a, b
    a.stop()
    b.stop()


def root(node, service="iam"):
    return client(node.endpoint, service, ROOT_KEY_ID, ROOT_SECRET)


def within(seconds, check):
    """Polls `check` until it returns True or `seconds` pass; returns the elapsed time or None."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def test_a_user_created_on_one_node_is_visible_on_the_other(nodes):
    a, b = nodes
    name = unique("mn")
    root(a).create_user(UserName=name)
    assert root(b).get_user(UserName=name)["User"]["UserName"] == name
    with pytest.raises(ClientError) as e:
        root(b).create_user(UserName=name.upper())
    assert error_code(e) == "EntityAlreadyExists"


def test_a_policy_removed_on_one_node_stops_allowing_on_the_other_within_a_second(nodes):
    a, b = nodes
    name = unique("mn")
    root(a).create_user(UserName=name)
    root(a).put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]}))
    key = root(a).create_access_key(UserName=name)["AccessKey"]
    on_b = client(b.endpoint, "iam", key["AccessKeyId"], key["SecretAccessKey"])
    on_b.list_users()  # B has now cached the user's policies
    root(a).delete_user_policy(UserName=name, PolicyName="p")

    def denied():
        try:
            on_b.list_users()
            return False
        except ClientError as e:
            return error_code_of(e) == "AccessDenied"

    elapsed = within(1.0, denied)
    assert elapsed is not None, "node B still allowed a revoked policy after one second"


def test_a_key_deactivated_on_one_node_is_refused_by_the_other(nodes):
    a, b = nodes
    name = unique("mn")
    root(a).create_user(UserName=name)
    key = root(a).create_access_key(UserName=name)["AccessKey"]
    on_b = client(b.endpoint, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    on_b.get_caller_identity()
    root(a).update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")

    def refused():
        try:
            on_b.get_caller_identity()
            return False
        except ClientError as e:
            return error_code_of(e) == "InvalidClientTokenId"

    assert within(1.0, refused) is not None


def test_a_session_issued_by_one_node_is_accepted_by_the_other(nodes):
    a, b = nodes
    creds = root(a, "sts").get_session_token(DurationSeconds=900)["Credentials"]
    on_b = client(b.endpoint, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert on_b.get_caller_identity()["Arn"].endswith(":root")


def test_nodes_recover_when_database_connections_are_killed(nodes, database):
    name, _ = database
    a, b = nodes
    acknowledged = []
    failures = []
    stop = threading.Event()

    def writer(node, tag):
        iam = root(node)
        i = 0
        while not stop.is_set():
            user = f"{tag}-{i}"
            try:
                iam.create_user(UserName=user)
                acknowledged.append(user)
            except ClientError as e:
                failures.append(e.response["ResponseMetadata"]["HTTPStatusCode"])
            except EndpointConnectionError:
                failures.append("connection")
            i += 1

    threads = [threading.Thread(target=writer, args=(n, unique(t))) for n, t in ((a, "wa"), (b, "wb"))]
    for t in threads:
        t.start()
    time.sleep(1.0)
    psql(BASE_URL, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive(), "a writer hung"
    # Errors during the outage are server-side failures, never client errors or hangs.
    assert all(f == 500 or f == 503 for f in failures), failures
    # Both nodes serve again, and every acknowledged write is there.
    for node in (a, b):
        iam = root(node)
        assert within(10.0, lambda: _answers(iam)) is not None
    names = set()
    for page in root(a).get_paginator("list_users").paginate():
        names.update(u["UserName"] for u in page["Users"])
    missing = [u for u in acknowledged if u not in names]
    assert not missing, f"acknowledged writes lost: {missing[:5]}"
    assert len(acknowledged) > 10


def _answers(iam):
    try:
        iam.list_users(MaxItems=1)
        return True
    except ClientError:
        return False


def error_code_of(e):
    return e.response["Error"]["Code"]
