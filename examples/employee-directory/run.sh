#!/usr/bin/env bash
# The Employee Directory example, end to end, on free loopback ports:
#
#   1. `portcullis serve` with a throwaway data directory;
#   2. setup.py, as root: the role, its instance profile, a deployer user
#      who may pass the role to EC2;
#   3. `portcullis metadata` for one machine, started with the deployer's
#      keys (they associate the profile with the machine; the machine then
#      holds only role credentials, refreshed before they expire);
#   4. app.py with nothing but AWS_EC2_METADATA_SERVICE_ENDPOINT to find
#      credentials (plus the service endpoint and region).
#
# Prints the app's output and exits 0 only when it is what the scenario
# says: the assumed-role ARN of EmployeeWebAppRole, S3 and DynamoDB
# allowed, IAM denied.
#
# Usage: run.sh [PATH-TO-portcullis]   (builds target/debug/portcullis when absent)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [ $# -ge 1 ]; then
  bin="$1"
else
  echo "Building portcullis (cargo build -p portcullis-cli)..." >&2
  (cd "$repo" && cargo build --quiet -p portcullis-cli)
  bin="$repo/target/debug/portcullis"
fi
if [ ! -x "$bin" ]; then
  echo "run.sh: no portcullis binary at $bin" >&2
  exit 2
fi

py="$repo/.venv/bin/python"
if [ ! -x "$py" ]; then
  echo "Creating $repo/.venv with boto3..." >&2
  python3 -m venv "$repo/.venv"
  "$repo/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$repo/tests/clients/requirements.txt"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/employee-directory.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A clean environment for everything we start: no credentials, no AWS
# configuration from the caller's machine.
clean=(env -i "PATH=$PATH" "HOME=$work" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null)

account=123456789012
port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
endpoint="http://127.0.0.1:$port"
root_id="$("$py" -c 'import secrets, string; print("AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)))')"
root_secret="$("$py" -c 'import secrets; print(secrets.token_urlsafe(30))')"

"${clean[@]}" PORTCULLIS_ROOT_ACCESS_KEY_ID="$root_id" PORTCULLIS_ROOT_SECRET_ACCESS_KEY="$root_secret" \
  PORTCULLIS_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/data" --account-id "$account" \
  >"$work/serve.log" 2>&1 &
pids+=($!)
if ! "$py" - "$port" <<'PY'
import socket, sys, time
deadline = time.time() + 60
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
then
  echo "run.sh: portcullis serve did not start:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi

deployer="$("${clean[@]}" AWS_ACCESS_KEY_ID="$root_id" AWS_SECRET_ACCESS_KEY="$root_secret" \
  "$py" "$here/setup.py" "$endpoint")"
field() { "$py" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$deployer" "$1"; }

: >"$work/metadata.out"
"${clean[@]}" AWS_ACCESS_KEY_ID="$(field AccessKeyId)" AWS_SECRET_ACCESS_KEY="$(field SecretAccessKey)" \
  PORTCULLIS_LOG=warn "$bin" metadata --endpoint "$endpoint" --instance-profile "$(field InstanceProfileName)" \
  --listen 127.0.0.1:0 >"$work/metadata.out" 2>"$work/metadata.log" &
metadata_pid=$!
pids+=("$metadata_pid")
imds=""
for _ in $(seq 300); do
  imds="$(sed -n 's/^Portcullis metadata for .* at \(http:[^ ]*\)$/\1/p' "$work/metadata.out")"
  if [ -n "$imds" ] || ! kill -0 "$metadata_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$imds" ]; then
  echo "run.sh: portcullis metadata did not start:" >&2
  cat "$work/metadata.log" >&2
  exit 1
fi

echo "== the app, with AWS_EC2_METADATA_SERVICE_ENDPOINT=$imds and no credentials"
if ! output="$("${clean[@]}" AWS_EC2_METADATA_SERVICE_ENDPOINT="$imds" AWS_ENDPOINT_URL="$endpoint" \
  AWS_DEFAULT_REGION=us-east-1 "$py" "$here/app.py")"; then
  echo "$output"
  echo "run.sh: the app failed" >&2
  exit 1
fi
echo "$output"

failed=0
expect() {
  if ! grep -qE "$1" <<<"$output"; then
    echo "run.sh: no line matches: $1" >&2
    failed=1
  fi
}
expect "^caller: +arn:aws:sts::$account:assumed-role/EmployeeWebAppRole/i-[0-9a-f]{17}\$"
expect "^via: +iam-role\$"
for action in s3:GetObject s3:PutObject s3:ListBucket dynamodb:GetItem dynamodb:PutItem dynamodb:Query; do
  expect "^allowed +$action\$"
done
for action in iam:CreateUser iam:AttachRolePolicy iam:PutRolePolicy; do
  expect "^denied +$action\$"
done
if [ "$failed" -ne 0 ]; then
  echo "Employee Directory: the app's view does not match the scenario." >&2
  exit 1
fi
echo "Employee Directory: everything matched."
