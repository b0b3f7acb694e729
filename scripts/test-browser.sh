#!/usr/bin/env bash
# The browser tests (tests/browser/, `make test-browser`; scripts/test.sh runs them too):
# installs Chromium and playwright-core when missing (scripts/browser_setup.sh), then runs
# every tests/browser/*.test.mjs with Node's test runner against ONE evreg-dev, which
# tests/browser/run.mjs starts on a free 127.0.0.1 port and stops by PID at the end. The
# dev server is target/debug/evreg-dev, which the caller has built (scripts/test.sh's
# build step, or the Makefile's test-browser target). Arguments go to `node --test` (e.g.
# --test-name-pattern=cancel).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/browser_setup.sh
# The previous runs' data directories (each run's evreg-dev log is kept until the next).
rm -rf target/browser.*
exec node tests/browser/run.mjs "$@"
