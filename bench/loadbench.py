"""The load benchmark: the floor, sts:GetCallerIdentity and iam:GetUser side
by side in alternating rounds, then moto_server under the same load.

Run it through `bench/load.sh`, which builds the release binaries and
installs wrk and moto. Everything here is measured on the same machine in
the same run:

- floor: `crates/server/examples/floor.rs`, the same HTTP stack as the
  service with a handler that does nothing;
- gci: `sts:GetCallerIdentity` signed by an IAM user's access key (SigV4,
  key lookup, the authorisation step, XML, audit record);
- getuser: `iam:GetUser` of that user, allowed by the user's inline policy
  (SigV4, the compiled policy set and a decision, the store, XML, audit);
- moto: moto_server answering the same GetCallerIdentity load.

Each request is signed once (botocore) and replayed by wrk from a Lua
script. Server CPU per request is the server's utime+stime (from
/proc/PID/stat) over a round divided by the requests of that round. The
server and wrk are pinned to different cores with taskset.

With `--database-url URL` the service runs on PostgreSQL instead of its
embedded SQLite; with `--nodes 2` as well, a second `portcullis serve` on
the same database (and master key) takes half of the load: each round runs
one wrk per node at the same time, the table sums their requests/s and
divides both nodes' CPU by all requests. moto is skipped in that mode.
"""

import argparse
import base64
import datetime
import json
import os
import pathlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import boto3
import botocore.config

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import presign  # noqa: E402

ACCOUNT_ID = "123456789012"
ROOT_KEY_ID = "AKIAPORTCULLISBENCH1"
ROOT_SECRET = "portcullis-bench-root-secret-0000000000001"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not listen on {port} within {timeout} s")


def cpu_ticks(pid):
    """(utime, stime) of a process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]), int(rest[12])


def pinned(cpu, argv):
    return ["taskset", "-c", str(cpu), *argv]


def run_wrk(args, url, script, duration):
    argv = pinned(args.client_cpu, ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s",
                                    "--latency", "-s", str(script), url])
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def parse_wrk(out):
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
        "p50": latency.get("50"),
        "p99": latency.get("99"),
        "raw": out,
    }


def measured_round(args, target, duration):
    if target.get("more"):
        return measured_round_nodes(args, target, duration)
    user0, sys0 = cpu_ticks(target["pid"])
    result = run_wrk(args, target["url"], target["script"], duration)
    user1, sys1 = cpu_ticks(target["pid"])
    per_request = 1e6 / CLK_TCK / max(result["requests"], 1)
    result["user_us_per_request"] = (user1 - user0) * per_request
    result["sys_us_per_request"] = (sys1 - sys0) * per_request
    result["cpu_us_per_request"] = result["user_us_per_request"] + result["sys_us_per_request"]
    if result["non2xx"] or result["socket_errors"]:
        raise SystemExit(f"{target['name']}: {result['non2xx']} non-2xx answers, {result['socket_errors']} "
                         f"socket errors: the measurement is void\n{result['raw']}")
    return result


def measured_round_nodes(args, target, duration):
    """One round against every node at once: one wrk per node (each with half the
    connections, unpinned: both cores serve), requests/s summed, CPU of all nodes."""
    nodes = [{"url": target["url"], "pid": target["pid"], "script": target["script"]}, *target["more"]]
    before = [cpu_ticks(n["pid"]) for n in nodes]
    conns = max(1, args.connections // len(nodes))
    procs = [subprocess.Popen(["wrk", f"-t{args.threads}", f"-c{conns}", f"-d{duration}s", "--latency",
                               "-s", str(n["script"]), n["url"]], stdout=subprocess.PIPE, text=True)
             for n in nodes]
    outs = [p.communicate()[0] for p in procs]
    after = [cpu_ticks(n["pid"]) for n in nodes]
    parsed = [parse_wrk(out) for out in outs]
    requests = sum(r["requests"] for r in parsed)
    per_request = 1e6 / CLK_TCK / max(requests, 1)
    result = {
        "requests": requests,
        "rps": sum(r["rps"] for r in parsed),
        "non2xx": sum(r["non2xx"] for r in parsed),
        "socket_errors": sum(r["socket_errors"] for r in parsed),
        "p50": " / ".join(str(r["p50"]) for r in parsed),
        "p99": " / ".join(str(r["p99"]) for r in parsed),
        "raw": "\n".join(outs),
        "user_us_per_request": sum(a[0] - b[0] for a, b in zip(after, before)) * per_request,
        "sys_us_per_request": sum(a[1] - b[1] for a, b in zip(after, before)) * per_request,
    }
    result["cpu_us_per_request"] = result["user_us_per_request"] + result["sys_us_per_request"]
    if result["non2xx"] or result["socket_errors"]:
        raise SystemExit(f"{target['name']}: {result['non2xx']} non-2xx answers, {result['socket_errors']} "
                         f"socket errors: the measurement is void\n{result['raw']}")
    return result


def start(argv, cpu, log, env=None):
    return subprocess.Popen(pinned(cpu, argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env)


def machine(load_before):
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} × {model}; 1-minute load average before the run {load_before:.2f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--portcullis", required=True, help="the release portcullis binary")
    p.add_argument("--floor", required=True, help="the release floor example binary")
    p.add_argument("--moto-server", help="moto_server executable (skipped when absent)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--duration", type=int, default=10, help="seconds per round and target")
    p.add_argument("--moto-rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--out", help="write the results as Markdown here")
    p.add_argument("--database-url", help="run the service on this PostgreSQL database instead of SQLite")
    p.add_argument("--nodes", type=int, choices=(1, 2), default=1,
                   help="service nodes on the PostgreSQL database (2 needs --database-url)")
    args = p.parse_args()
    if args.nodes == 2 and not args.database_url:
        p.error("--nodes 2 needs --database-url: nodes share the store through PostgreSQL")
    args.load_before = os.getloadavg()[0]
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed")

    work = pathlib.Path(tempfile.mkdtemp(prefix="portcullis-bench-"))
    procs = []
    try:
        log = open(work / "servers.log", "wb")
        env = dict(os.environ, PORTCULLIS_ROOT_ACCESS_KEY_ID=ROOT_KEY_ID,
                   PORTCULLIS_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET, PORTCULLIS_LOG="warn")
        store_args = []
        if args.database_url:
            store_args = ["--database-url", args.database_url]
            env["PORTCULLIS_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()

        def node(name, cpu):
            node_port = free_port()
            proc = start([args.portcullis, "serve", "--listen", f"127.0.0.1:{node_port}", "--data-dir",
                          str(work / name), "--account-id", ACCOUNT_ID, *store_args], cpu, log, env)
            procs.append(proc)
            wait_listening(node_port, proc, f"portcullis ({name})")
            return node_port, proc

        port, service = node("data", args.server_cpu)
        second = node("data-b", args.client_cpu) if args.nodes == 2 else None
        floor_port = free_port()
        floor = start([args.floor, f"127.0.0.1:{floor_port}"], args.server_cpu, log)
        procs.append(floor)
        wait_listening(floor_port, floor, "floor")
        endpoint = f"http://127.0.0.1:{port}"
        floor_endpoint = f"http://127.0.0.1:{floor_port}"

        # A user whose inline policy allows exactly iam:GetUser on itself.
        iam = boto3.client("iam", endpoint_url=endpoint, region_name=presign.REGION, aws_access_key_id=ROOT_KEY_ID,
                           aws_secret_access_key=ROOT_SECRET,
                           config=botocore.config.Config(retries={"max_attempts": 1}))
        name = "bench-user"
        user_arn = iam.create_user(UserName=name)["User"]["Arn"]
        iam.put_user_policy(UserName=name, PolicyName="get-self", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": user_arn}],
        }))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        kid, secret = key["AccessKeyId"], key["SecretAccessKey"]

        targets = {}

        def target(tname, url, pid, service_name, body, expect):
            headers = presign.sign(url, service_name, body, kid, secret)
            status, text = presign.send_once(url, body, headers)
            if status != 200 or expect not in text:
                raise SystemExit(f"{tname}: the signed request is not answered as expected ({status}): {text}")
            script = work / f"{tname}.lua"
            script.write_text(presign.lua(body, headers))
            targets[tname] = {"name": tname, "url": url, "pid": pid, "script": script, "more": []}
            if second is not None and url == endpoint:
                # The same signed request, answered by the second node too.
                url_b = f"http://127.0.0.1:{second[0]}"
                status, text = presign.send_once(url_b, body, presign.sign(url_b, service_name, body, kid, secret))
                if status != 200 or expect not in text:
                    raise SystemExit(f"{tname} on the second node: not answered as expected ({status}): {text}")
                script_b = work / f"{tname}-b.lua"
                script_b.write_text(presign.lua(body, presign.sign(url_b, service_name, body, kid, secret)))
                targets[tname]["more"].append({"url": url_b, "pid": second[1].pid, "script": script_b})

        target("floor", floor_endpoint, floor.pid, *presign.GET_CALLER_IDENTITY, "GetCallerIdentityResult")
        target("gci", endpoint, service.pid, *presign.GET_CALLER_IDENTITY, user_arn)
        target("getuser", endpoint, service.pid, *presign.get_user(name), user_arn)
        # The same GetUser signed by a user without the permission is refused:
        # the measured path really is the authorised one.
        denied_headers = presign.sign(endpoint, "iam", presign.get_user("someone-else")[1], kid, secret)
        status, _ = presign.send_once(endpoint, presign.get_user("someone-else")[1], denied_headers)
        assert status == 403, status

        order = ["floor", "gci", "getuser"]
        for tname in order:  # warm-up: connections, caches
            run_wrk(args, targets[tname]["url"], targets[tname]["script"], 2)
        results = {t: [] for t in order}
        for r in range(args.rounds):
            for tname in order[r % 3:] + order[:r % 3]:  # alternate which goes first
                res = measured_round(args, targets[tname], args.duration)
                results[tname].append(res)
                print(f"round {r + 1}/{args.rounds} {tname:8} {res['rps']:>10.0f} req/s "
                      f"{res['cpu_us_per_request']:>7.2f} µs CPU/req (user {res['user_us_per_request']:.2f}, "
                      f"sys {res['sys_us_per_request']:.2f})  p50 {res['p50']}  p99 {res['p99']}", flush=True)

        if args.moto_server and not args.database_url:
            moto_port = free_port()
            moto = start([args.moto_server, "-H", "127.0.0.1", "-p", str(moto_port)], args.server_cpu, log)
            procs.append(moto)
            wait_listening(moto_port, moto, "moto_server")
            moto_url = f"http://127.0.0.1:{moto_port}"
            target("moto", moto_url, moto.pid, *presign.GET_CALLER_IDENTITY, "GetCallerIdentityResult")
            run_wrk(args, moto_url, targets["moto"]["script"], 2)
            results["moto"] = []
            for r in range(args.moto_rounds):
                res = measured_round(args, targets["moto"], args.duration)
                results["moto"].append(res)
                print(f"round {r + 1}/{args.moto_rounds} moto     {res['rps']:>10.0f} req/s "
                      f"{res['cpu_us_per_request']:>7.2f} µs CPU/req  p50 {res['p50']}  p99 {res['p99']}",
                      flush=True)

        report(args, results)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


def report(args, results):
    med = {t: statistics.median(r["rps"] for r in rs) for t, rs in results.items()}
    cpu = {t: statistics.median(r["cpu_us_per_request"] for r in rs) for t, rs in results.items()}
    user = {t: statistics.median(r["user_us_per_request"] for r in rs) for t, rs in results.items()}
    system = {t: statistics.median(r["sys_us_per_request"] for r in rs) for t, rs in results.items()}
    rows = [
        ("floor (same HTTP stack, empty handler)", "floor"),
        ("sts:GetCallerIdentity (full path)", "gci"),
        ("iam:GetUser as an allowed user (full path)", "getuser"),
        ("moto_server sts:GetCallerIdentity", "moto"),
    ]
    lines = [
        "| target | median req/s | × floor | server CPU µs/req (median) | user / sys µs | rounds (req/s) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, t in rows:
        if t not in med:
            continue
        rounds = ", ".join(f"{r['rps']:.0f}" for r in results[t])
        lines.append(f"| {label} | {med[t]:.0f} | {med[t] / med['floor']:.2f} | {cpu[t]:.2f} | "
                     f"{user[t]:.2f} / {system[t]:.2f} | {rounds} |")
    goals = [
        f"- GetCallerIdentity ≥ 0.6× floor: {med['gci'] / med['floor']:.2f}× "
        f"({'met' if med['gci'] >= 0.6 * med['floor'] else 'MISSED'})",
        f"- GetUser ≥ 0.6× floor: {med['getuser'] / med['floor']:.2f}× "
        f"({'met' if med['getuser'] >= 0.6 * med['floor'] else 'MISSED'})",
        f"- ≤ 8 µs server CPU per GetCallerIdentity: {cpu['gci']:.2f} µs "
        f"({'met' if cpu['gci'] <= 8 else 'MISSED'})",
    ]
    if "moto" in med:
        goals.append(f"- ≥ 100× moto_server: {med['gci'] / med['moto']:.0f}× "
                     f"({'met' if med['gci'] >= 100 * med['moto'] else 'MISSED'})")
    setup = (f"wrk -t{args.threads} -c{args.connections}, {args.duration} s rounds, {args.rounds} alternating rounds "
             f"per target{f' ({args.moto_rounds} for moto)' if 'moto' in results else ''}; server pinned to CPU {args.server_cpu}, wrk to CPU "
             f"{args.client_cpu} (taskset); {machine(args.load_before)}; {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    store = (f"store: PostgreSQL ({args.nodes} node{'s' if args.nodes > 1 else ''} of portcullis serve on one database"
             f"{'; each round one wrk per node, unpinned, connections split' if args.nodes > 1 else ''})"
             if args.database_url else "store: embedded SQLite")
    setup = store + "; " + setup
    text = "\n".join(lines) + "\n\n" + "\n".join(goals) + "\n\n" + setup + "\n"
    print()
    print(text)
    if args.out:
        pathlib.Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
