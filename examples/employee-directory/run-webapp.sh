#!/usr/bin/env bash
# The Employee Directory web app with its OIDC login through Portcullis, on
# free loopback ports:
#
#   1. `portcullis serve` with a throwaway data directory;
#   2. setup.py --webapp, as root: the scenario of run.sh, plus the employees
#      of employees.json as IAM users with a password, and the web app
#      registered as a client of Portcullis's OIDC issuer;
#   3. webapp.py, which signs people in through Portcullis (authorization
#      code flow with PKCE) and shows them the directory.
#
# Prints where the app is and whom to sign in as, then serves until
# interrupted (Ctrl-C or SIGTERM: exit 0). Exits 1 when something does not
# start, 2 without a portcullis binary.
#
# Usage: run-webapp.sh [PATH-TO-portcullis]   (builds target/debug/portcullis when absent)
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
  echo "run-webapp.sh: no portcullis binary at $bin" >&2
  exit 2
fi

py="$repo/.venv/bin/python"
if [ ! -x "$py" ]; then
  echo "Creating $repo/.venv with boto3..." >&2
  python3 -m venv "$repo/.venv"
  "$repo/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$repo/tests/clients/requirements.txt"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/employee-directory-webapp.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

clean=(env -i "PATH=$PATH" "HOME=$work" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null)

free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
  "$py" - "$1" <<'PY'
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
}

account=123456789012
port="$(free_port)"
endpoint="http://127.0.0.1:$port"
webapp_port="$(free_port)"
webapp_url="http://127.0.0.1:$webapp_port"
root_id="$("$py" -c 'import secrets, string; print("AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)))')"
root_secret="$("$py" -c 'import secrets; print(secrets.token_urlsafe(30))')"
password="$("$py" -c 'import secrets; print(f"Ed-{secrets.token_hex(8)}-Z9")')"

"${clean[@]}" PORTCULLIS_ROOT_ACCESS_KEY_ID="$root_id" PORTCULLIS_ROOT_SECRET_ACCESS_KEY="$root_secret" \
  PORTCULLIS_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/data" --account-id "$account" \
  >"$work/serve.log" 2>&1 &
pids+=($!)
if ! wait_port "$port"; then
  echo "run-webapp.sh: portcullis serve did not start:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi

setup="$("${clean[@]}" AWS_ACCESS_KEY_ID="$root_id" AWS_SECRET_ACCESS_KEY="$root_secret" \
  EMPLOYEE_DIRECTORY_PASSWORD="$password" "$py" "$here/setup.py" "$endpoint" --webapp "$webapp_url")"
field() { "$py" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$setup" "$1"; }

"${clean[@]}" EMPLOYEE_DIRECTORY_CLIENT_SECRET="$(field ClientSecret)" \
  "$py" "$here/webapp.py" --issuer "$endpoint/oidc" --client-id "$(field ClientId)" \
  --listen "127.0.0.1:$webapp_port" >"$work/webapp.out" 2>"$work/webapp.log" &
webapp_pid=$!
pids+=("$webapp_pid")
if ! wait_port "$webapp_port" || ! kill -0 "$webapp_pid" 2>/dev/null; then
  echo "run-webapp.sh: webapp.py did not start:" >&2
  cat "$work/webapp.log" >&2
  exit 1
fi

echo "Employee Directory web app at $webapp_url/"
echo "Portcullis at $endpoint (account $account; OIDC issuer $endpoint/oidc)"
echo "Sign in as jane.doe (or any user of employees.json) with the password $password"
echo "Ready. Ctrl-C stops everything."
wait "$webapp_pid" || true
echo "run-webapp.sh: webapp.py stopped:" >&2
cat "$work/webapp.log" >&2
exit 1
