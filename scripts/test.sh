#!/usr/bin/env bash
# Run every test: installs the EDA tools if they are missing, then the
# whole workspace's tests in release mode (the co-simulations generate
# millions of vectors; an optimised build runs them in seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh
cargo test --release --workspace "$@"
