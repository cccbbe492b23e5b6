"""Terraform with the hashicorp/aws provider against Portcullis:
`tests/terraform/main.tf` creates users, a group with its members, a
customer managed policy, a role with a trust policy and attached and inline
policies, an instance profile and an access key; a plan right after apply
shows no change; destroy removes everything (checked with boto3).

Needs `terraform` on PATH and the provider in a local filesystem mirror (a
directory holding `registry.terraform.io/hashicorp/aws/VERSION/OS_ARCH/`,
found under / at depth 4 or named by PORTCULLIS_TF_MIRROR). Without them the
test is skipped, loudly. Nothing is downloaded: the CLI configuration the
test writes allows the mirror only."""

import os
import pathlib
import shutil
import subprocess
import warnings

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, ROOT_KEY_ID, ROOT_SECRET, client, error_code, unique

CONFIG_DIR = pathlib.Path(__file__).resolve().parents[1] / "terraform"
PROVIDER = "registry.terraform.io/hashicorp/aws"


def find_mirror():
    """The mirror directory: the parent of a `registry.terraform.io` folder that holds the provider."""
    candidates = []
    if os.environ.get("PORTCULLIS_TF_MIRROR"):
        candidates.append(pathlib.Path(os.environ["PORTCULLIS_TF_MIRROR"]))
    try:
        found = subprocess.run(
            ["find", "/", "-maxdepth", "4", "-type", "d", "-name", "registry.terraform.io"],
            capture_output=True, text=True, timeout=60,
        ).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        found = []
    candidates += [pathlib.Path(p).parent for p in found]
    for mirror in candidates:
        if any((mirror / PROVIDER).glob("*/*/terraform-provider-aws*")):
            return mirror
    return None


def skip_loudly(reason):
    message = f"TERRAFORM TEST SKIPPED: {reason}"
    warnings.warn(message)
    print(f"\n*** {message} ***\n")
    pytest.skip(message)


@pytest.fixture(scope="module")
def terraform_env(tmp_path_factory):
    binary = shutil.which("terraform")
    if binary is None:
        skip_loudly("no `terraform` binary on PATH")
    mirror = find_mirror()
    if mirror is None:
        skip_loudly(f"no filesystem mirror holding {PROVIDER} (set PORTCULLIS_TF_MIRROR)")
    work = tmp_path_factory.mktemp("terraform")
    shutil.copy(CONFIG_DIR / "main.tf", work / "main.tf")
    cli_config = work / "terraformrc"
    cli_config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{PROVIDER}"]\n  }}\n'
        f'  direct {{\n    exclude = ["{PROVIDER}"]\n  }}\n'
        "}\n"
    )
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("AWS_", "TF_")) and k != "CHECKPOINT_DISABLE"
    }
    env.update(
        TF_CLI_CONFIG_FILE=str(cli_config),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
        TF_DATA_DIR=str(work / ".terraform"),
    )
    return binary, work, env


def run(terraform_env, *args, ok=(0,), timeout=600):
    binary, work, env = terraform_env
    proc = subprocess.run(
        [binary, args[0], "-no-color", *args[1:]], cwd=work, env=env, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=timeout,
    )
    if proc.returncode not in ok:
        raise AssertionError(
            f"terraform {' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}"
            f"\n--- stderr\n{proc.stderr[-6000:]}"
        )
    return proc


def gone(call):
    with pytest.raises(ClientError) as e:
        call()
    return error_code(e) == "NoSuchEntity"


def test_apply_plan_destroy(server, iam, terraform_env):
    prefix = unique("tf")
    _, _, env = terraform_env
    env.update(
        TF_VAR_endpoint=server.endpoint,
        TF_VAR_access_key=ROOT_KEY_ID,
        TF_VAR_secret_key=ROOT_SECRET,
        TF_VAR_prefix=prefix,
    )
    run(terraform_env, "init", "-input=false")
    applied = False
    try:
        run(terraform_env, "apply", "-auto-approve", "-input=false")
        applied = True

        # Everything exists as configured.
        alice, bob = f"{prefix}-alice", f"{prefix}-bob"
        user = iam.get_user(UserName=alice)["User"]
        assert user["Path"] == "/engineering/" and user["Tags"] == [{"Key": "team", "Value": "platform"}]
        members = iam.get_group(GroupName=f"{prefix}-developers")["Users"]
        assert sorted(u["UserName"] for u in members) == [alice, bob]
        policy_arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/engineering/{prefix}-read-logs"
        assert iam.get_policy(PolicyArn=policy_arn)["Policy"]["Description"] == "Read the application's log bucket"
        role = iam.get_role(RoleName=f"{prefix}-app")["Role"]
        assert role["MaxSessionDuration"] == 7200
        services = [s["Principal"].get("Service") for s in role["AssumeRolePolicyDocument"]["Statement"]]
        assert "ec2.amazonaws.com" in services
        attached = iam.list_attached_role_policies(RoleName=f"{prefix}-app")["AttachedPolicies"]
        assert sorted(a["PolicyArn"] for a in attached) == sorted(
            [policy_arn, "arn:aws:iam::aws:policy/ReadOnlyAccess"]
        )
        assert iam.list_role_policies(RoleName=f"{prefix}-app")["PolicyNames"] == ["queue"]
        profile = iam.get_instance_profile(InstanceProfileName=f"{prefix}-app")["InstanceProfile"]
        assert [r["RoleName"] for r in profile["Roles"]] == [f"{prefix}-app"]
        key_id = run(terraform_env, "output", "-raw", "access_key_id").stdout.strip()
        secret = run(terraform_env, "output", "-raw", "access_key_secret").stdout.strip()
        who = client(server.endpoint, "sts", key_id, secret).get_caller_identity()
        assert who["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{bob}"
        assert run(terraform_env, "output", "-raw", "account_id").stdout.strip() == ACCOUNT_ID

        # What Terraform reads back is what it wrote: nothing to change.
        plan = run(terraform_env, "plan", "-detailed-exitcode", "-input=false", ok=(0, 2))
        assert plan.returncode == 0, f"plan after apply wants changes:\n{plan.stdout[-6000:]}"

        run(terraform_env, "destroy", "-auto-approve", "-input=false")
        applied = False
    finally:
        if applied:
            run(terraform_env, "destroy", "-auto-approve", "-input=false", ok=(0, 1))

    assert gone(lambda: iam.get_user(UserName=f"{prefix}-alice"))
    assert gone(lambda: iam.get_user(UserName=f"{prefix}-bob"))
    assert gone(lambda: iam.get_group(GroupName=f"{prefix}-developers"))
    assert gone(lambda: iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT_ID}:policy/engineering/{prefix}-read-logs"))
    assert gone(lambda: iam.get_role(RoleName=f"{prefix}-app"))
    assert gone(lambda: iam.get_instance_profile(InstanceProfileName=f"{prefix}-app"))
    with pytest.raises(ClientError) as e:
        client(server.endpoint, "sts", key_id, secret).get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"
