"""Crash safety: SIGKILL during a stream of writes loses nothing acknowledged.

A writer thread streams CreateUser / PutUserPolicy / CreateAccessKey calls
and records each call the server acknowledged (HTTP 200). The server is
killed with SIGKILL while the stream runs, the database file is checked
with SQLite's own `PRAGMA integrity_check` (on the postgres backend the
database server itself was not killed, so there is no file to check), and a
new server on the same data directory (and so the same database) must show
every acknowledged write (and the access keys must sign
again: their encrypted secrets survived too). The call in flight at the kill
may or may not have happened, but never by half.
"""

import json
import pathlib
import sqlite3
import threading
import time

from botocore.exceptions import ClientError

import conftest
from conftest import ROOT_KEY_ID, ROOT_SECRET, Server, client, unique

PREFIX = "/crash/"


def policy_for(i):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": f"S{i}", "Effect": "Allow", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::bucket-{i}/*"}],
    }


class Writer(threading.Thread):
    """Streams writes until the server stops answering; keeps what was acknowledged."""

    def __init__(self, endpoint, run):
        super().__init__(daemon=True)
        self.iam = client(endpoint, "iam", ROOT_KEY_ID, ROOT_SECRET)
        self.run_id = run
        self.users = []  # acknowledged CreateUser
        self.policies = {}  # user -> acknowledged inline policy document
        self.keys = {}  # user -> acknowledged (key id, secret)
        self.in_flight = None
        self.failure = None
        self.acks = 0
        self.stop_after_failure = threading.Event()

    def run(self):
        i = 0
        try:
            while True:
                name = f"{self.run_id}-{i}"
                self.in_flight = ("CreateUser", name)
                self.iam.create_user(UserName=name, Path=PREFIX)
                self.users.append(name)
                self.acks += 1
                self.in_flight = ("PutUserPolicy", name)
                document = policy_for(i)
                self.iam.put_user_policy(UserName=name, PolicyName="stream", PolicyDocument=json.dumps(document))
                self.policies[name] = document
                self.acks += 1
                self.in_flight = ("CreateAccessKey", name)
                key = self.iam.create_access_key(UserName=name)["AccessKey"]
                self.keys[name] = (key["AccessKeyId"], key["SecretAccessKey"])
                self.acks += 1
                i += 1
        except ClientError as e:
            # An AWS error is an answer, not a crash: the test must not see one.
            self.failure = e
        except Exception:
            pass  # the connection died with the server: the in-flight call is unknown


def test_sigkill_during_writes_loses_no_acknowledged_write(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(data_dir)
    try:
        writer = Writer(server.endpoint, unique("crash"))
        writer.start()
        deadline = time.monotonic() + 20
        # Enough acknowledged writes to matter, then kill in the middle of the stream.
        while writer.acks < 120 and writer.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writer.is_alive(), f"the writer stopped before the kill: {writer.failure!r}"
        assert writer.acks >= 10, "too few writes were acknowledged in 20 s"
        server.proc.kill()  # SIGKILL
        server.proc.wait(timeout=10)
        writer.join(timeout=30)
        assert not writer.is_alive()
    finally:
        server.stop(kill=True)
    assert writer.failure is None, f"a write failed before the kill: {writer.failure!r}"
    in_flight = writer.in_flight
    print(f"killed with {writer.acks} writes acknowledged, {in_flight} in flight")

    if conftest.BACKEND == "sqlite":
        # The database the killed server left is intact (SQLite recovers its WAL).
        db = pathlib.Path(data_dir) / "portcullis.db"
        assert db.exists(), sorted(p.name for p in data_dir.iterdir())
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    else:
        assert server.database is not None and not (pathlib.Path(data_dir) / "portcullis.db").exists()

    restarted = Server(data_dir)
    try:
        iam = client(restarted.endpoint, "iam", ROOT_KEY_ID, ROOT_SECRET)
        listed = {u["UserName"] for page in iam.get_paginator("list_users").paginate(PathPrefix=PREFIX)
                  for u in page["Users"]}
        acknowledged = set(writer.users)
        assert acknowledged <= listed, f"lost users: {sorted(acknowledged - listed)}"
        extra = listed - acknowledged
        # Only the CreateUser in flight at the kill may have landed unacknowledged.
        assert extra <= ({in_flight[1]} if in_flight and in_flight[0] == "CreateUser" else set()), extra

        for name, document in writer.policies.items():
            got = iam.get_user_policy(UserName=name, PolicyName="stream")["PolicyDocument"]
            assert got == document, name
        for name in acknowledged - set(writer.policies):
            # Only the PutUserPolicy in flight may have landed, and then whole.
            names = iam.list_user_policies(UserName=name)["PolicyNames"]
            if in_flight == ("PutUserPolicy", name) and names:
                got = iam.get_user_policy(UserName=name, PolicyName="stream")["PolicyDocument"]
                assert got == policy_for(int(name.rsplit("-", 1)[1]))
            else:
                assert names == [], (name, names, in_flight)
        for name in acknowledged:
            ids = [k["AccessKeyId"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]]
            if name in writer.keys:
                assert ids == [writer.keys[name][0]], name
            elif in_flight == ("CreateAccessKey", name):
                assert len(ids) <= 1, ids  # the call in flight: one key or none
            else:
                assert ids == [], (name, ids, in_flight)
        # Every acknowledged key still signs: its encrypted secret survived.
        for name, (key_id, secret) in writer.keys.items():
            who = client(restarted.endpoint, "sts", key_id, secret).get_caller_identity()
            assert who["Arn"].endswith(f":user{PREFIX}{name}")
        # The service answers writes after the restart.
        after = unique("after-crash")
        iam.create_user(UserName=after)
        assert iam.get_user(UserName=after)["User"]["UserName"] == after
    finally:
        restarted.stop()
    with open(restarted.log.name, "rb") as f:
        assert b"panicked" not in f.read()

