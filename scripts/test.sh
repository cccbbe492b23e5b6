#!/usr/bin/env bash
# Runs every test of the repository. Needs only what the repository installs
# itself: cargo fetches crates, a Python virtual environment (.venv) gets the
# real AWS clients, and a throwaway PostgreSQL cluster serves the PostgreSQL
# tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

step() { printf '\n== %s\n' "$*"; }

step "generated protocol code is up to date"
python3 codegen/protocol.py --check

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Python clients (.venv)"
if [ ! -x .venv/bin/python ] || ! cmp -s tests/clients/requirements.txt .venv/requirements.txt; then
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/clients/requirements.txt
  cp tests/clients/requirements.txt .venv/requirements.txt
fi
export PATH="$root/.venv/bin:$PATH"

step "PostgreSQL (throwaway cluster)"
pgdir=$(mktemp -d /tmp/portcullis-pg.XXXXXX)
cleanup() { scripts/pg.sh stop "$pgdir" || true; rm -rf "$pgdir"; }
trap cleanup EXIT
eval "$(scripts/pg.sh start "$pgdir")"
echo "PORTCULLIS_TEST_DATABASE_URL=$PORTCULLIS_TEST_DATABASE_URL"

step "cargo test"
cargo build --locked -p portcullis-cli
export PORTCULLIS_BIN="$root/target/debug/portcullis"
cargo test --workspace --locked

if compgen -G "tests/clients/test_*.py" >/dev/null; then
  step "client tests (boto3, AWS CLI) against the real binary"
  python -m pytest -q tests/clients
fi
