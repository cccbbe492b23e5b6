#!/usr/bin/env bash
# Runs every test of the repository: lint, unit and behaviour tests.
# Needs only what the repository installs itself (cargo fetches crates).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked
