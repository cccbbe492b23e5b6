#!/usr/bin/env bash
# The load benchmark (see bench/loadbench.py for what is measured and how).
#
#   bench/load.sh [--rounds 5] [--duration 10] [--connections 32] [--no-moto] [--out FILE]
#   bench/load.sh --postgres [--nodes 2] ...   # on a throwaway PostgreSQL cluster
#
# Builds the release `portcullis` and the floor example, installs wrk with
# apt when it is missing, puts moto[server] in a throwaway virtual
# environment (bench/.venv-moto), and runs the rounds. On a 2-core machine
# the servers get CPU 0 and wrk CPU 1; set SERVER_CPU / CLIENT_CPU to change
# that. Run it on a quiet machine: other builds skew every figure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

moto=1
postgres=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-moto) moto=0 ;;
    --postgres) postgres=1; moto=0 ;;
    *) args+=("$1") ;;
  esac
  shift
done

if ! command -v wrk >/dev/null; then
  echo "installing wrk with apt" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >&2
fi

echo "== building the release binary and the floor" >&2
cargo build --release -j 2 -p portcullis-cli
cargo build --release -j 2 -p portcullis-server --example floor
target=${CARGO_TARGET_DIR:-$root/target}

# botocore (for signing) and boto3 (for the set-up) from the client-test venv.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/clients/requirements.txt
fi

moto_args=()
if [ "$moto" = 1 ]; then
  if [ ! -x bench/.venv-moto/bin/moto_server ]; then
    echo "== installing moto[server] into bench/.venv-moto" >&2
    python3 -m venv bench/.venv-moto
    bench/.venv-moto/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
  fi
  moto_args=(--moto-server "$root/bench/.venv-moto/bin/moto_server")
fi

pg_args=()
if [ "$postgres" = 1 ]; then
  pgdir=$(mktemp -d /tmp/portcullis-bench-pg.XXXXXX)
  trap 'scripts/pg.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
  eval "$(scripts/pg.sh start "$pgdir")"
  pg_args=(--database-url "$PORTCULLIS_TEST_DATABASE_URL")
fi

.venv/bin/python bench/loadbench.py \
  --portcullis "$target/release/portcullis" \
  --floor "$target/release/examples/floor" \
  --server-cpu "${SERVER_CPU:-0}" --client-cpu "${CLIENT_CPU:-1}" \
  "${moto_args[@]}" "${pg_args[@]}" "${args[@]}"
