"""The Employee Directory example (examples/employee-directory/run.sh) end to
end: its own server and metadata service on free ports, the setup as root,
and the app with nothing but the metadata endpoint to find credentials."""

import re
import subprocess

from conftest import ROOT, binary

EXPECTED_ALLOWED = ["s3:GetObject", "s3:PutObject", "s3:ListBucket",
                    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
EXPECTED_DENIED = ["iam:CreateUser", "iam:AttachRolePolicy", "iam:PutRolePolicy"]


def test_run_sh_shows_the_role_and_what_it_may_do():
    proc = subprocess.run(
        [str(ROOT / "examples" / "employee-directory" / "run.sh"), binary()],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(re.fullmatch(r"caller: +arn:aws:sts::123456789012:assumed-role/EmployeeWebAppRole/i-[0-9a-f]{17}", l)
               for l in lines), proc.stdout
    assert "via:      iam-role" in lines
    verdicts = dict(reversed(l.split()) for l in lines if l.startswith(("allowed ", "denied ")))
    assert verdicts == {**{a: "allowed" for a in EXPECTED_ALLOWED}, **{a: "denied" for a in EXPECTED_DENIED}}
    assert lines[-1] == "Employee Directory: everything matched."
