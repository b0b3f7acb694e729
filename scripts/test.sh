#!/usr/bin/env bash
# The whole test suite, from a fresh clone: `make test` (and CI's .ci/run) run exactly this.
# Installs what it needs (.venv with moto and cfn-lint), starts ONE moto server for the run
# on a free 127.0.0.1 port, and stops it by PID on exit, success or failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "tooling (.venv: moto server, cfn-lint)"
scripts/venv.sh

step "format and lint"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
.venv/bin/cfn-lint template.yaml

step "build (one debug build serves every test)"
cargo build --workspace --locked

step "AWS emulator"
port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target
.venv/bin/python scripts/moto_server.py "$port" > target/moto.log 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
.venv/bin/python - "$port" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/moto-api/"
deadline = time.monotonic() + 60
while True:
    try:
        urllib.request.urlopen(url, timeout=1)
        break
    except Exception:
        if time.monotonic() > deadline:
            sys.exit(f"moto server did not come up at {url}")
        time.sleep(0.1)
PY
echo "moto server pid $moto_pid on 127.0.0.1:$port"

step "tests: domain units, handlers, store conformance (SQLite + DynamoDB), end to end (AWS + embedded)"
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export EVREG_DEV_BIN="$PWD/target/debug/evreg-dev"
cargo test --locked -p evreg -p evreg-tests
