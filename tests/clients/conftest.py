"""Shared fixtures for the client behaviour tests.

Each test session starts the real `portcullis` binary (PORTCULLIS_BIN, or
target/debug/portcullis) on a free loopback port with a fresh data
directory and known root credentials, and talks to it with unmodified boto3
and AWS CLI v1, exactly as a user would with `--endpoint-url`.

The storage backend is SQLite (in the data directory) unless
PORTCULLIS_TEST_BACKEND=postgres (or `--backend postgres`): then every server
a test starts gets a fresh PostgreSQL database of its own, created from
PORTCULLIS_TEST_DATABASE_URL and keyed on its data directory, so that a
server restarted on the same data directory finds its data again.
"""

import json
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import urllib.parse
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


BACKENDS = ("sqlite", "postgres")
# Set by pytest_configure from --backend / PORTCULLIS_TEST_BACKEND.
BACKEND = "sqlite"
BASE_DATABASE_URL = None


def psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True,
                   capture_output=True, text=True, timeout=60)


def database_url(name):
    """PORTCULLIS_TEST_DATABASE_URL with its database name replaced."""
    parts = urllib.parse.urlsplit(BASE_DATABASE_URL)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


class Database:
    """A PostgreSQL database of one data directory's servers; dropped when none of them runs any more."""

    def __init__(self):
        self.name = f"portcullis_c_{uuid.uuid4().hex[:12]}"
        self.url = database_url(self.name)
        self.running = 0
        psql(BASE_DATABASE_URL, f"CREATE DATABASE {self.name}")

    def drop(self):
        psql(BASE_DATABASE_URL, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


# Data directory -> its database, for as long as a restart on it may come (see drop_idle_databases).
DATABASES = {}


def database_for(data_dir):
    key = pathlib.Path(data_dir).resolve()
    db = DATABASES.get(key)
    if db is None:
        db = DATABASES[key] = Database()
    return db


def drop_databases(only_idle):
    for key, db in list(DATABASES.items()):
        if not only_idle or db.running == 0:
            db.drop()
            del DATABASES[key]


class Server:
    """A running `portcullis serve` process.

    On the postgres backend it is given its data directory's own database,
    unless the caller passes `--database-url` itself (several nodes sharing one).
    """

    def __init__(self, data_dir, port=None, extra_env=None, extra_args=()):
        self.data_dir = pathlib.Path(data_dir)
        self.database = None
        if BACKEND == "postgres" and not any(str(a).startswith("--database-url") for a in extra_args):
            self.database = database_for(self.data_dir)
            extra_args = (*extra_args, "--database-url", self.database.url)
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            PORTCULLIS_ROOT_ACCESS_KEY_ID=ROOT_KEY_ID,
            PORTCULLIS_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
            PORTCULLIS_LOG="warn",
        )
        # Only the arguments choose the backend, never the caller's environment.
        env.pop("PORTCULLIS_DATABASE_URL", None)
        env.update(extra_env or {})
        self.log = open(self.data_dir.parent / f"server-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [binary(), "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data_dir),
             "--account-id", ACCOUNT_ID, *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL,
        )
        if self.database is not None:
            self.database.running += 1
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
        if not self.log.closed:
            self.log.close()
            if self.database is not None:
                self.database.running -= 1


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


def pytest_addoption(parser):
    parser.addoption(
        "--backend", choices=BACKENDS, default=None,
        help="storage backend of the servers the tests start (default: PORTCULLIS_TEST_BACKEND, else sqlite)",
    )


def pytest_configure(config):
    global BACKEND, BASE_DATABASE_URL
    config.addinivalue_line(
        "markers", "slow: runs for minutes (CI runs it; `-m 'not slow'` leaves it out while iterating)"
    )
    backend = config.getoption("--backend") or os.environ.get("PORTCULLIS_TEST_BACKEND") or "sqlite"
    if backend not in BACKENDS:
        pytest.exit(f"PORTCULLIS_TEST_BACKEND={backend!r}: expected one of {', '.join(BACKENDS)}", returncode=4)
    BACKEND = backend
    BASE_DATABASE_URL = os.environ.get("PORTCULLIS_TEST_DATABASE_URL") or None
    if backend == "postgres" and not BASE_DATABASE_URL:
        # Never fall back to SQLite: a green run would claim PostgreSQL coverage it did not have.
        pytest.exit("the postgres backend needs PORTCULLIS_TEST_DATABASE_URL (eval \"$(scripts/pg.sh start DIR)\")",
                    returncode=4)
    if backend == "postgres":
        try:
            psql(BASE_DATABASE_URL, "SELECT 1")
        except (OSError, subprocess.SubprocessError) as e:
            detail = getattr(e, "stderr", None) or e
            pytest.exit(f"the postgres backend cannot reach PORTCULLIS_TEST_DATABASE_URL with psql: {detail}",
                        returncode=4)


def backend_line():
    if BACKEND == "postgres":
        return f"portcullis storage backend: postgres (a database per server on {BASE_DATABASE_URL})"
    return "portcullis storage backend: sqlite (a file per server data directory)"


def pytest_report_header(config):
    return backend_line()


def pytest_terminal_summary(terminalreporter):
    # `-q` hides the header; the line next to the counts still says what they were counted on.
    terminalreporter.write_line(backend_line())


@pytest.fixture(scope="module", autouse=True)
def drop_idle_databases():
    """Drops, after each module, the databases whose servers have all stopped.

    A data directory belongs to one test or module, so once its servers have
    stopped and the module is over no restart on it can follow; the databases
    of servers still running (session-scoped) wait for the session's end.
    """
    yield
    drop_databases(only_idle=True)


def pytest_sessionfinish(session):
    drop_databases(only_idle=False)
