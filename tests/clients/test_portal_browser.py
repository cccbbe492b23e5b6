"""The sign-in portal in a real browser: Debian's chromium driven by playwright-core.

boto3 sets up, as root, a user with a password and a virtual MFA device (its TOTP
codes computed here, RFC 6238 with hmac/hashlib) and two roles, one whose trust
policy names the user and one whose does not. `tests/browser/portal.mjs` then
signs in with the password and a code, is refused with a wrong password and a
wrong code, sees the roles page list the trusting role only, gets credentials for
it and signs out, saving a screenshot of each page into this test's tmp dir.
The credentials the page showed are finally used with the AWS CLI.

Needs /usr/bin/chromium (Debian package `chromium`) and node >= 20 with npm; the
test is skipped, with the reason, where they are missing or npm cannot fetch
playwright-core.
"""

import base64
import hashlib
import hmac
import json
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import time
import warnings

import pytest

from conftest import ACCOUNT_ID, REGION, unique

BROWSER_DIR = pathlib.Path(__file__).resolve().parents[1] / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "Portal-Pw-1234!"


def totp(seed_b32, step):
    """RFC 6238 (SHA-1, 6 digits, 30-second steps) for one time step."""
    key = base64.b32decode(seed_b32 + "=" * (-len(seed_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def test_the_totp_helper_matches_rfc_6238():
    # RFC 6238 appendix B, SHA-1 seed "12345678901234567890", last six digits.
    seed = base64.b32encode(b"12345678901234567890").decode()
    assert totp(seed, 59 // 30) == "287082"
    assert totp(seed, 1111111109 // 30) == "081804"


def skip_loudly(reason):
    message = f"BROWSER TEST NOT RUN: {reason}"
    print(message, file=sys.stderr)
    warnings.warn(message)
    pytest.skip(message)


def browser_tools():
    """node and npm, with playwright-core installed in tests/browser (npm ci when missing)."""
    if not os.access(CHROMIUM, os.X_OK):
        skip_loudly(f"no chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        skip_loudly("node or npm is not on PATH (node >= 20 with npm is needed)")
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=BROWSER_DIR,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
        if proc.returncode != 0:
            skip_loudly(f"`npm ci` in {BROWSER_DIR} failed (offline?): {proc.stderr.strip()[-500:]}")
    return node


def trusting(principal):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})


def test_sign_in_with_password_and_totp_see_roles_get_credentials(server, iam, tmp_path):
    node = browser_tools()

    name = unique("portal")
    user = iam.create_user(UserName=name)["User"]
    iam.create_login_profile(UserName=name, Password=PASSWORD, PasswordResetRequired=False)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    now = int(time.time()) // 30
    # Two consecutive codes that are already past, so that the current step's
    # code is still unused for the sign-in.
    iam.enable_mfa_device(UserName=name, SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp(seed, now - 2), AuthenticationCode2=totp(seed, now - 1))
    role = iam.create_role(RoleName=unique("portal-role"), AssumeRolePolicyDocument=trusting(user["Arn"]),
                           Description="what the portal user may become")["Role"]
    hidden = iam.create_role(RoleName=unique("portal-hidden"),
                             AssumeRolePolicyDocument=trusting(f"arn:aws:iam::{ACCOUNT_ID}:root"))["Role"]

    code = totp(seed, int(time.time()) // 30)
    valid_now = {totp(seed, int(time.time()) // 30 + d) for d in range(-2, 3)}
    wrong = next(c for c in (f"{(int(code) + k * 111_111) % 1_000_000:06d}" for k in range(1, 10))
                 if c not in valid_now)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    config = tmp_path / "portal.json"
    config.write_text(json.dumps({
        "base": server.endpoint, "account": ACCOUNT_ID, "user": name, "password": PASSWORD,
        "wrongPassword": PASSWORD + "-not", "code": code, "wrongCode": wrong,
        "role": role["RoleName"], "hiddenRole": hidden["RoleName"], "shots": str(shots)}))
    proc = subprocess.run([node, str(BROWSER_DIR / "portal.mjs"), str(config)], cwd=BROWSER_DIR,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=180,
                          env={**os.environ, "CHROMIUM": CHROMIUM})
    print(proc.stdout)
    assert proc.returncode == 0, f"portal.mjs failed:\n{proc.stdout}\n{proc.stderr}"

    lines = proc.stdout.strip().splitlines()
    screenshots = [pathlib.Path(line.split(": ", 1)[1]) for line in lines if line.startswith("screenshot: ")]
    assert [p.name for p in screenshots] == [
        "01-signin.png", "02-wrong-password.png", "03-mfa.png", "04-wrong-code.png", "05-roles.png",
        "06-credentials.png", "07-signed-out.png"]
    for p in screenshots:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", p
        print(f"screenshot saved: {p}")
    shown = json.loads(lines[-1])
    assumed = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role['RoleName']}/{name}"
    assert shown["assumedArn"] == assumed

    # The credentials the page showed work with the AWS CLI.
    creds = shown["credentials"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
               AWS_SESSION_TOKEN=creds["SessionToken"], AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_MAX_ATTEMPTS="1")
    cli = subprocess.run(["aws", "sts", "get-caller-identity", "--endpoint-url", server.endpoint, "--output", "json"],
                         capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["Arn"] == assumed

    # The portal sign-in counts as a use of the password, as a console sign-in does.
    assert iam.get_user(UserName=name)["User"].get("PasswordLastUsed") is not None
