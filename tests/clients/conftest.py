"""Shared fixtures for the client behaviour tests.

Each test session starts the real `portcullis` binary (PORTCULLIS_BIN, or
target/debug/portcullis) on a free loopback port with a fresh data
directory and known root credentials, and talks to it with unmodified boto3
and AWS CLI v1, exactly as a user would with `--endpoint-url`.
"""

import json
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import uuid

import boto3
import botocore.config
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROOT_KEY_ID = "AKIAPORTCULLISROOT01"
ROOT_SECRET = "portcullis-root-secret-for-client-tests-0001"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def binary():
    path = os.environ.get("PORTCULLIS_BIN") or str(ROOT / "target" / "debug" / "portcullis")
    if not os.path.exists(path):
        raise RuntimeError(f"portcullis binary not found at {path}: run `cargo build -p portcullis-cli`")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `portcullis serve` process."""

    def __init__(self, data_dir, port=None, extra_env=None, extra_args=()):
        self.data_dir = pathlib.Path(data_dir)
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            PORTCULLIS_ROOT_ACCESS_KEY_ID=ROOT_KEY_ID,
            PORTCULLIS_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
            PORTCULLIS_LOG="warn",
        )
        env.update(extra_env or {})
        self.log = open(self.data_dir.parent / f"server-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [binary(), "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data_dir),
             "--account-id", ACCOUNT_ID, *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL,
        )
        self.wait_ready()

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"portcullis exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("portcullis did not start listening in time")

    def stop(self, kill=False):
        if self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            self.proc.wait(timeout=15)
        self.log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("portcullis") / "data")
    yield s
    s.stop()


def client(endpoint, service, key_id, secret, token=None):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def iam(server):
    """IAM as the account's root user."""
    return client(server.endpoint, "iam", ROOT_KEY_ID, ROOT_SECRET)


@pytest.fixture(scope="session")
def sts(server):
    return client(server.endpoint, "sts", ROOT_KEY_ID, ROOT_SECRET)


def unique(prefix):
    """A name no other test uses (the server is shared by the session)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class User:
    """An IAM user with an access key, and clients that sign as it."""

    def __init__(self, endpoint, name, key):
        self.name = name
        self.key_id = key["AccessKeyId"]
        self.secret = key["SecretAccessKey"]
        self.iam = client(endpoint, "iam", self.key_id, self.secret)
        self.sts = client(endpoint, "sts", self.key_id, self.secret)


@pytest.fixture
def make_user(server, iam):
    """make_user(policy_document=None, prefix="user") -> User with one access key.

    With a policy document, it is put as the user's inline policy.
    """

    def make(policy_document=None, prefix="user", **create_args):
        name = unique(prefix)
        iam.create_user(UserName=name, **create_args)
        if policy_document is not None:
            iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(policy_document))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return User(server.endpoint, name, key)

    return make


def aws_cli(server, *args, key_id=ROOT_KEY_ID, secret=ROOT_SECRET, check=True):
    """Runs the real AWS CLI v1 against the server; returns (returncode, parsed JSON or stderr)."""
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID=key_id,
        AWS_SECRET_ACCESS_KEY=secret,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_MAX_ATTEMPTS="1",
    )
    env.pop("AWS_SESSION_TOKEN", None)
    proc = subprocess.run(
        ["aws", "--endpoint-url", server.endpoint, "--output", "json", *args],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    if proc.returncode == 0:
        return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else None)
    return proc.returncode, proc.stderr


def error_code(exc_info):
    return exc_info.value.response["Error"]["Code"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: runs for minutes (CI runs it; `-m 'not slow'` leaves it out while iterating)"
    )
