#!/usr/bin/env bash
# Runs every test of the repository. Needs only what the repository installs
# itself: cargo fetches crates, a Python virtual environment (.venv) gets the
# real AWS clients, and a throwaway PostgreSQL cluster serves the PostgreSQL
# tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

step() { printf '\n== %s\n' "$*"; }

# A clean CI checkout builds everything once: incremental caches would only
# cost time there.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

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

step "chromium for the sign-in portal's browser test"
if command -v chromium >/dev/null; then
  echo "chromium: $(command -v chromium)"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
    || echo "WARNING: chromium could not be installed: the browser test will be SKIPPED"
else
  echo "WARNING: chromium is missing and cannot be installed here: the browser test will be SKIPPED"
fi

step "PostgreSQL (throwaway cluster)"
pgdir=$(mktemp -d /tmp/portcullis-pg.XXXXXX)
cleanup() { scripts/pg.sh stop "$pgdir" || true; rm -rf "$pgdir"; }
trap cleanup EXIT
eval "$(scripts/pg.sh start "$pgdir")"
echo "PORTCULLIS_TEST_DATABASE_URL=$PORTCULLIS_TEST_DATABASE_URL"

step "cargo test"
# One build for everything. Building a single package (`-p`) would resolve
# the dependencies' features for that package alone and compile a second copy
# of most of them: on a clean checkout that cost CI a quarter of an hour and
# gigabytes of disk. `cargo test --workspace` also builds the `portcullis`
# binary that the SDK and client tests start, before any test runs.
export PORTCULLIS_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/portcullis"
cargo test --workspace --locked

step "the service's in-process behaviour tests again, on PostgreSQL"
# The same test binaries: `--workspace`, not `-p`, so that the features, and
# with them every compiled crate, are the ones just built. Each service gets
# a fresh database of its own on the throwaway cluster
# (crates/server/tests/support).
PORTCULLIS_TEST_BACKEND=postgres cargo test --workspace --locked \
  --test sessions --test tls --test oidc_issuer

if compgen -G "tests/clients/test_*.py" >/dev/null; then
  step "client tests (boto3, AWS CLI) against the real binary, on SQLite"
  # Two workers, each with its own servers; a module stays on one worker.
  # test_multinode.py is PostgreSQL-only: it runs in the PostgreSQL pass.
  python -m pytest -q -rs -n 2 --dist loadfile --ignore tests/clients/test_multinode.py tests/clients

  step "client tests (boto3, AWS CLI) against the real binary, on PostgreSQL"
  # The same tests, every server on a fresh database of its own. `not slow`
  # leaves out only the two minutes of metadata-agent rotation, whose store
  # calls the rest of test_instance_credentials.py makes too.
  PORTCULLIS_TEST_BACKEND=postgres python -m pytest -q -rs -n 2 --dist loadfile -m "not slow" tests/clients
fi
