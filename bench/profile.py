"""Where a request's CPU goes: the release binary under callgrind.

    .venv/bin/python bench/profile.py --portcullis target/release/portcullis [--target gci|getuser] [-n 2000]

Starts `portcullis serve` under `valgrind --tool=callgrind`, sets up the same
user as the load benchmark, warms the caches, zeroes the counters, sends N
pre-signed requests over one keep-alive connection, dumps the counters and
prints the instructions per request and the functions that cost the most
(inclusive). Instruction counts do not depend on how busy the machine is,
which makes them a steadier guide than timings on a shared machine.
"""

import argparse
import http.client
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

import boto3
import botocore.config

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import loadbench  # noqa: E402
import presign  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--portcullis", required=True)
    p.add_argument("--target", choices=["gci", "getuser"], default="gci")
    p.add_argument("-n", type=int, default=2000)
    p.add_argument("--top", type=int, default=45)
    args = p.parse_args()
    for tool in ("valgrind", "callgrind_control", "callgrind_annotate"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed")

    work = pathlib.Path(tempfile.mkdtemp(prefix="portcullis-profile-"))
    out_file = work / "callgrind.out"
    port = loadbench.free_port()
    env = dict(os.environ, PORTCULLIS_ROOT_ACCESS_KEY_ID=loadbench.ROOT_KEY_ID,
               PORTCULLIS_ROOT_SECRET_ACCESS_KEY=loadbench.ROOT_SECRET, PORTCULLIS_LOG="warn")
    log = open(work / "server.log", "wb")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", "--dump-instr=no",
         args.portcullis, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(work / "data"),
         "--account-id", loadbench.ACCOUNT_ID],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        loadbench.wait_listening(port, proc, "portcullis under callgrind", timeout=600)
        endpoint = f"http://127.0.0.1:{port}"
        iam = boto3.client("iam", endpoint_url=endpoint, region_name=presign.REGION,
                           aws_access_key_id=loadbench.ROOT_KEY_ID, aws_secret_access_key=loadbench.ROOT_SECRET,
                           config=botocore.config.Config(retries={"max_attempts": 1}, read_timeout=300))
        arn = iam.create_user(UserName="profiled")["User"]["Arn"]
        iam.put_user_policy(UserName="profiled", PolicyName="get-self", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": arn}]}))
        key = iam.create_access_key(UserName="profiled")["AccessKey"]
        service, body = presign.GET_CALLER_IDENTITY if args.target == "gci" else presign.get_user("profiled")
        headers = presign.sign(endpoint, service, body, key["AccessKeyId"], key["SecretAccessKey"])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

        def call():
            conn.request("POST", "/", body=body.encode(), headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise SystemExit(f"answered {resp.status}")

        for _ in range(100):  # warm: key cache, policy cache, connection, last-used write
            call()
        time.sleep(1)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        for _ in range(args.n):
            call()
        time.sleep(1)  # let the audit writer drain what these requests queued
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
        conn.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
    dumps = sorted(work.glob("callgrind.out*"), key=lambda f: f.stat().st_mtime)
    dump = next(d for d in dumps if d.name != "callgrind.out") if len(dumps) > 1 else dumps[0]
    def annotate(inclusive):
        out = subprocess.run(["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
                              "--threshold=100", str(dump)], capture_output=True, text=True, check=True).stdout
        return out, [line for line in out.splitlines() if re.match(r"\s*[\d,]+ \(", line)]

    text, exclusive = annotate(False)
    total = re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", text)
    per_request = int(total.group(1).replace(",", "")) / args.n if total else 0
    print(f"{args.target}: {per_request:,.0f} instructions per request (all threads) over {args.n} requests\n")
    print("== self cost (exclusive), top functions")
    print("\n".join(exclusive[1:args.top + 1]))
    _, inclusive = annotate(True)
    ours = [line for line in inclusive if re.search(r"portcullis_|sigv4|audit", line)]
    print("\n== inclusive cost of the service's own functions")
    print("\n".join(ours[:args.top]))
    print(f"\nfull profile: {dump}")


if __name__ == "__main__":
    main()
