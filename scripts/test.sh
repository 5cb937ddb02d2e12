#!/usr/bin/env bash
# Runs every test: installs the pinned interop peers (npm, loopback only), then
# the workspace tests (unit, conformance on the shared vectors, property tests,
# CLI, interop against sofa-bolt-node).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d interop/node_modules ] || [ interop/package-lock.json -nt interop/node_modules ]; then
  (cd interop && npm ci --ignore-scripts --no-audit --no-fund)
fi
node interop/check-vectors.js
cargo test --workspace --all-features
