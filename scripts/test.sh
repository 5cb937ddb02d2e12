#!/usr/bin/env bash
# Runs every test: installs the pinned interop peers (npm and PyPI packages,
# used on 127.0.0.1 only), then the workspace tests (unit, conformance on the
# shared vectors, property tests, CLI, interop against the real peers).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d interop/node_modules ] || [ interop/package-lock.json -nt interop/node_modules ]; then
  (cd interop && npm ci --ignore-scripts --no-audit --no-fund)
fi
if [ ! -x interop/.venv/bin/python ] || [ interop/requirements.txt -nt interop/.venv ]; then
  python3 -m venv interop/.venv
  interop/.venv/bin/pip install --quiet --disable-pip-version-check -r interop/requirements.txt
  touch interop/.venv
fi
node interop/check-vectors.js
node interop/dubbo-check-vectors.js
# The plugin tests load the codec plugins (cdylibs) that this builds.
cargo build --workspace
cargo test --workspace --all-features
