"""Credentials for workloads with real clients: `portcullis metadata` serves a
machine's role credentials over the EC2 instance metadata protocol (and the
container credentials protocol, and `credential_process`), and unmodified
boto3 / AWS CLI find them through their default credential chain.

The client code runs in a subprocess with a clean environment: no
AWS_ACCESS_KEY_ID or other credentials, AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE at /dev/null, a fresh HOME; only the metadata
endpoint (AWS_EC2_METADATA_SERVICE_ENDPOINT, or the container variables)
tells the SDK where credentials come from. The service endpoint and region
are given in code, as for any Portcullis client.

The association endpoint is exercised directly too, signed with botocore's
own SigV4 signer, for its refusals.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest

from conftest import ACCOUNT_ID, REGION, ROOT_KEY_ID, ROOT_SECRET, binary, unique

ROLE = "EmployeeWebAppRole"
PROFILE = "EmployeeWebAppProfile"
ASSOCIATE = "/_portcullis/v1/instances/associate"
CREDENTIALS = "/_portcullis/v1/instances/credentials"


def trust(service="ec2.amazonaws.com"):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    })


def make_profile(iam, role_name=None, profile_name=None, trust_policy=None):
    """A role (trusting EC2 unless told otherwise) in an instance profile."""
    role_name = role_name or unique("role")
    profile_name = profile_name or unique("profile")
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust_policy or trust())["Role"]
    profile = iam.create_instance_profile(InstanceProfileName=profile_name)["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=profile_name, RoleName=role_name)
    return role, profile


@pytest.fixture(scope="module")
def web(iam):
    """The seed's scenario: EmployeeWebAppRole with the S3 and DynamoDB managed
    policies, trusted by EC2, in an instance profile."""
    role, profile = make_profile(iam, ROLE, PROFILE)
    for policy in ("AmazonS3FullAccess", "AmazonDynamoDBFullAccess"):
        iam.attach_role_policy(RoleName=ROLE, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    return role, profile


def post(url, body=b"", headers=None):
    """(status, parsed JSON body) of a POST."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def associate(server, body, key_id=ROOT_KEY_ID, secret=ROOT_SECRET, token=None, service="iam"):
    """POST /associate, SigV4-signed by botocore as the given identity."""
    url = server.endpoint + ASSOCIATE
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"},
    )
    credentials = botocore.credentials.Credentials(key_id, secret, token)
    botocore.auth.SigV4Auth(credentials, service, REGION).add_auth(request)
    prepared = request.prepare()
    return post(url, prepared.body, dict(prepared.headers))


def fetch(server, machine_token, body=b""):
    return post(server.endpoint + CREDENTIALS, body, {"Authorization": f"Bearer {machine_token}"})


class Agent:
    """A running `portcullis metadata` for one machine."""

    def __init__(self, server, profile, *args, key_id=ROOT_KEY_ID, secret=ROOT_SECRET, expect_start=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret, PORTCULLIS_LOG="warn")
        self.proc = subprocess.Popen(
            [binary(), "metadata", "--endpoint", server.endpoint, "--instance-profile", profile,
             "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, stdin=subprocess.DEVNULL, text=True,
        )
        self.stderr = []
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()
        first = []
        reader = threading.Thread(target=lambda: first.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=60)
        line = first[0] if first else ""
        if not expect_start:
            return
        if " at http://" not in line:
            self.stop()
            raise AssertionError(f"portcullis metadata did not start: {line!r} {''.join(self.stderr)}")
        # "Portcullis metadata for i-… (arn:…) at http://127.0.0.1:PORT"
        self.instance_id = line.split()[3]
        self.endpoint = line.rsplit(" at ", 1)[1].strip()
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    def wait(self, timeout=60):
        self.proc.wait(timeout=timeout)
        time.sleep(0.1)  # let the stderr reader catch up
        return self.proc.returncode, "".join(self.stderr)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)

    def request(self, method, path, headers=None):
        """(status, text) of a request to the metadata service."""
        request = urllib.request.Request(self.endpoint + path, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def token(self, ttl=60):
        status, token = self.request("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": str(ttl)})
        assert status == 200, token
        return token

    def get(self, path, token):
        return self.request("GET", path, {"X-aws-ec2-metadata-token": token})


@pytest.fixture
def agents():
    started = []

    def start(*args, **kwargs):
        agent = Agent(*args, **kwargs)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.stop()


def run_clean(code, env, args=(), timeout=60):
    """Runs Python `code` with only `env` (plus PATH and a fresh HOME); its
    stdout is one JSON document."""
    with tempfile.TemporaryDirectory() as home:
        clean = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            **env,
        }
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, env=clean,
            stdin=subprocess.DEVNULL, timeout=timeout,
        )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


WHO_AM_I = """
import json, sys
import boto3
session = boto3.Session()
who = session.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1").get_caller_identity()
credentials = session.get_credentials()
print(json.dumps({"arn": who["Arn"], "user_id": who["UserId"], "method": credentials.method,
                  "key": credentials.get_frozen_credentials().access_key}))
"""


def session_arn(role, instance_id):
    return f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/{instance_id}"


def test_boto3_default_chain_gets_the_role_through_imds(server, web, agents):
    role, profile = web
    agent = agents(server, PROFILE, "--instance-id", "i-0a1b2c3d4e5f60718")
    assert agent.instance_id == "i-0a1b2c3d4e5f60718"
    out = run_clean(WHO_AM_I, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": agent.endpoint}, [server.endpoint])
    assert out["method"] == "iam-role"
    assert out["arn"] == session_arn(ROLE, "i-0a1b2c3d4e5f60718")
    assert out["user_id"] == f"{role['RoleId']}:i-0a1b2c3d4e5f60718"
    assert out["key"].startswith("ASIA")


def test_aws_cli_default_chain_gets_the_role_through_imds(server, web, agents):
    agent = agents(server, PROFILE)
    with tempfile.TemporaryDirectory() as home:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": agent.endpoint, "AWS_DEFAULT_REGION": REGION,
        }
        proc = subprocess.run(
            ["aws", "--endpoint-url", server.endpoint, "--output", "json", "sts", "get-caller-identity"],
            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["Arn"] == session_arn(ROLE, agent.instance_id)


def test_imds_protocol(server, web, agents):
    role, profile = web
    agent = agents(server, PROFILE, "--region", "eu-central-1")
    # IMDSv1 (no token) is refused unless enabled; so is a token not from this service.
    assert agent.request("GET", "/latest/meta-data/instance-id")[0] == 401
    assert agent.get("/latest/meta-data/instance-id", "AQAEAE-not-a-token")[0] == 401
    # Token lifetimes are 1 to 21600 seconds.
    for ttl in ("0", "21601", "x"):
        status, _ = agent.request("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        assert status == 400, ttl
    assert agent.request("PUT", "/latest/api/token")[0] == 400

    token = agent.token()
    assert agent.get("/latest/meta-data/instance-id", token) == (200, agent.instance_id)
    assert agent.get("/latest/meta-data/placement/region", token) == (200, "eu-central-1")
    status, info = agent.get("/latest/meta-data/iam/info", token)
    assert status == 200
    info = json.loads(info)
    assert info["Code"] == "Success"
    assert info["InstanceProfileArn"] == profile["Arn"]
    assert info["InstanceProfileId"] == profile["InstanceProfileId"]
    assert agent.get("/latest/meta-data/iam/security-credentials/", token) == (200, ROLE)
    status, creds = agent.get(f"/latest/meta-data/iam/security-credentials/{ROLE}", token)
    assert status == 200
    creds = json.loads(creds)
    assert (creds["Code"], creds["Type"]) == ("Success", "AWS-HMAC")
    assert creds["AccessKeyId"].startswith("ASIA")
    time.strptime(creds["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
    assert agent.get("/latest/meta-data/iam/security-credentials/SomeOtherRole", token)[0] == 404
    status, document = agent.get("/latest/dynamic/instance-identity/document", token)
    document = json.loads(document)
    assert (document["accountId"], document["instanceId"], document["region"]) == (
        ACCOUNT_ID, agent.instance_id, "eu-central-1")

    # A token past its TTL is refused.
    short = agent.token(ttl=1)
    assert agent.get("/latest/meta-data/instance-id", short)[0] == 200
    time.sleep(2.1)
    assert agent.get("/latest/meta-data/instance-id", short)[0] == 401
    assert agent.get("/latest/meta-data/instance-id", token)[0] == 200


def test_imdsv1_only_when_enabled(server, web, agents):
    agent = agents(server, PROFILE, "--imdsv1")
    assert agent.request("GET", "/latest/meta-data/iam/security-credentials/") == (200, ROLE)
    # boto3 told that IMDSv1 is off still gets a token and the credentials.
    out = run_clean(WHO_AM_I, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": agent.endpoint,
                               "AWS_EC2_METADATA_V1_DISABLED": "true"}, [server.endpoint])
    assert out["arn"] == session_arn(ROLE, agent.instance_id)


def test_container_credentials(server, web, agents):
    agent = agents(server, PROFILE, "--container-token", "container-secret-1")
    status, _ = agent.request("GET", "/v2/credentials", {"Authorization": "container-secret-2"})
    assert status == 401
    status, body = agent.request("GET", "/v2/credentials", {"Authorization": "container-secret-1"})
    assert status == 200
    assert json.loads(body)["RoleArn"] == web[0]["Arn"]
    out = run_clean(WHO_AM_I, {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{agent.endpoint}/v2/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-secret-1",
    }, [server.endpoint])
    assert out["method"] == "container-role"
    assert out["arn"] == session_arn(ROLE, agent.instance_id)


def test_credential_process(server, web, agents, tmp_path):
    agent = agents(server, PROFILE)
    config = tmp_path / "config"
    config.write_text(f"[default]\ncredential_process = {binary()} credential-process --metadata-url {agent.endpoint}\n")
    out = run_clean(WHO_AM_I, {"AWS_CONFIG_FILE": str(config)}, [server.endpoint])
    assert out["method"] == "custom-process"
    assert out["arn"] == session_arn(ROLE, agent.instance_id)


def test_association_needs_pass_role(server, web, make_user, agents):
    body = {"InstanceProfileName": PROFILE}
    reader = make_user({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]})
    status, out = associate(server, body, reader.key_id, reader.secret)
    assert status == 403
    assert out["Code"] == "AccessDenied"
    assert out["Message"].startswith(
        f"User: arn:aws:iam::{ACCOUNT_ID}:user/{reader.name} is not authorized to perform: iam:PassRole "
        f"on resource: {web[0]['Arn']}")
    # The metadata service started with those credentials says why it cannot.
    agent = agents(server, PROFILE, key_id=reader.key_id, secret=reader.secret, expect_start=False)
    code, stderr = agent.wait()
    assert code != 0
    assert "AccessDenied" in stderr and "iam:PassRole" in stderr, stderr

    # PassRole for ECS tasks does not pass the role to EC2.
    ecs_only = make_user({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "iam:PassRole", "Resource": web[0]["Arn"],
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}]})
    status, out = associate(server, body, ecs_only.key_id, ecs_only.secret)
    assert (status, out["Code"]) == (403, "AccessDenied")

    deployer = make_user({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "iam:PassRole", "Resource": web[0]["Arn"],
        "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}]})
    status, out = associate(server, body, deployer.key_id, deployer.secret)
    assert status == 200, out
    assert out["InstanceProfileArn"] == web[1]["Arn"]
    assert out["InstanceId"].startswith("i-")
    # Signed for STS, or not signed at all: refused before anything else.
    assert associate(server, body, deployer.key_id, deployer.secret, service="sts")[0] == 403
    status, out = post(server.endpoint + ASSOCIATE, json.dumps(body).encode())
    assert (status, out["Code"]) == (403, "MissingAuthenticationToken")


def test_association_needs_a_trust_policy_allowing_the_service(server, iam):
    role, profile = make_profile(iam, trust_policy=trust("lambda.amazonaws.com"))
    status, out = associate(server, {"InstanceProfileName": profile["InstanceProfileName"]})
    assert status == 403
    assert out["Code"] == "AssumeRoleUnauthorizedAccess"
    assert out["Message"].startswith(f"EC2 cannot assume the role {role['RoleName']}")
    # The same role trusting EC2 can be associated.
    iam.update_assume_role_policy(RoleName=role["RoleName"], PolicyDocument=trust())
    assert associate(server, {"InstanceProfileName": profile["InstanceProfileName"]})[0] == 200
    status, out = associate(server, {"InstanceProfileName": unique("missing")})
    assert (status, out["Code"]) == (404, "NoSuchEntity")


def test_removing_the_role_from_the_profile_stops_new_credentials(server, iam, agents):
    role, profile = make_profile(iam)
    name = profile["InstanceProfileName"]
    status, association = associate(server, {"InstanceProfileName": name})
    assert status == 200, association
    token = association["MachineToken"]
    status, creds = fetch(server, token)
    assert status == 200, creds
    assert creds["AssumedRoleArn"] == session_arn(role["RoleName"], association["InstanceId"])
    # The metadata service refreshes every second (its window is the
    # credentials' whole life), so it notices the change at once.
    agent = agents(server, name, "--duration-seconds", "900", "--refresh-before", "900")
    t = agent.token()
    assert agent.get("/latest/meta-data/iam/security-credentials/", t) == (200, role["RoleName"])

    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role["RoleName"])
    status, out = fetch(server, token)
    assert (status, out["Code"]) == (404, "NoSuchEntity")
    deadline = time.time() + 15
    while agent.get("/latest/meta-data/iam/security-credentials/", t)[0] != 404:
        assert time.time() < deadline, "the metadata service still serves credentials"
        time.sleep(0.2)
    assert json.loads(agent.get("/latest/meta-data/iam/info", t)[1])["Code"] == "AssumeRoleUnauthorizedAccess"
    # Credentials already issued live until they expire, as in AWS.
    out = run_clean(f"""
import boto3, json
sts = boto3.client("sts", endpoint_url="{server.endpoint}", region_name="us-east-1",
                   aws_access_key_id="{creds['AccessKeyId']}", aws_secret_access_key="{creds['SecretAccessKey']}",
                   aws_session_token="{creds['Token']}")
print(json.dumps(sts.get_caller_identity()))
""", {})
    assert out["Arn"] == creds["AssumedRoleArn"]

    # Back in the profile, the role is served again.
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role["RoleName"])
    assert fetch(server, token)[0] == 200
    deadline = time.time() + 20
    while agent.get("/latest/meta-data/iam/security-credentials/", t)[0] != 200:
        assert time.time() < deadline, "the metadata service did not recover"
        time.sleep(0.2)


def test_a_tampered_machine_token_is_refused(server, web):
    status, association = associate(server, {"InstanceProfileName": PROFILE})
    token = association["MachineToken"]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (tampered, "pcmt1.", token.replace("pcmt1.", "")):
        status, out = fetch(server, bad)
        assert (status, out["Code"]) == (401, "InvalidMachineToken"), bad
    assert post(server.endpoint + CREDENTIALS)[0] == 401
    assert fetch(server, token)[0] == 200


ROTATION = """
import json, sys, time
import boto3
from botocore.exceptions import ClientError

endpoint, seconds = sys.argv[1], float(sys.argv[2])
long_lived = boto3.Session()
long_sts = long_lived.client("sts", endpoint_url=endpoint, region_name="us-east-1")
seen, long_keys, errors, calls, arns = {}, [], [], 0, set()
deadline = time.time() + seconds
while time.time() < deadline:
    # A new session resolves credentials afresh, as a process starting now would.
    fresh = boto3.Session()
    for session, client in ((fresh, fresh.client("sts", endpoint_url=endpoint, region_name="us-east-1")),
                            (long_lived, long_sts)):
        try:
            arns.add(client.get_caller_identity()["Arn"])
            calls += 1
        except ClientError as e:
            errors.append(e.response["Error"]["Code"])
        frozen = session.get_credentials().get_frozen_credentials()
        if session is fresh:
            seen.setdefault(frozen.access_key, [frozen.secret_key, frozen.token])
        elif not long_keys or long_keys[-1] != frozen.access_key:
            long_keys.append(frozen.access_key)
    time.sleep(0.5)
# Every set of credentials handed out during the run is still valid at its
# end: each was replaced before it expired.
still_valid = 0
for key, (secret, token) in seen.items():
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token)
    try:
        sts.get_caller_identity()
        still_valid += 1
    except ClientError as e:
        errors.append(e.response["Error"]["Code"])
print(json.dumps({"keys": list(seen), "long_keys": long_keys, "errors": errors, "calls": calls,
                  "arns": sorted(arns), "still_valid": still_valid}))
"""


@pytest.mark.slow
def test_rotation_during_two_minutes_of_steady_calls(server, web, agents):
    """Credentials of 900 s (AWS's minimum) that the metadata service renews
    when fewer than 880 s remain, i.e. about every 20 s, under two minutes
    of calls.

    How botocore (1.44) decides to refresh, and why the loop makes a new
    session for each call: a client refreshes IMDS credentials when fewer
    than 15 minutes remain (its advisory window; 10 minutes is mandatory),
    but on every fetch of credentials that expire within 17 to 25 minutes
    it extends its own notion of their expiry to now + 17..25 minutes
    ("static stability", `InstanceMetadataFetcher._evaluate_expiration`).
    So one client holding 900 s credentials fetches again only 2 to 10
    minutes later, when they still have at least 280 s to live. A new
    session fetches what the metadata service serves now; the long-lived
    client in the same loop shows that what a client keeps working never
    fails with ExpiredToken.
    """
    agent = agents(server, PROFILE, "--duration-seconds", "900", "--refresh-before", "880")
    out = run_clean(ROTATION, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": agent.endpoint},
                    [server.endpoint, "120"], timeout=300)
    print(f"rotation: {out['calls']} calls, {len(out['keys'])} credential sets seen by new sessions, "
          f"{len(out['long_keys'])} by the long-lived client, errors: {out['errors']}")
    assert out["errors"] == []
    assert out["arns"] == [session_arn(ROLE, agent.instance_id)]
    assert len(out["keys"]) >= 3, out["keys"]
    assert out["still_valid"] == len(out["keys"])
    assert out["calls"] >= 100
