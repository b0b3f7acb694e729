#!/usr/bin/env bash
# `make build` / `make sam-build`: `sam build` of every function, as a deployer runs it, into
# .aws-sam/build (one arm64 bootstrap per function, the template rewritten to point at them,
# ready for `sam deploy`). Installs what it needs itself: cargo-lambda and zig (PyPI, into
# .venv with sam-cli) and the aarch64-unknown-linux-gnu target (rustup).
#
#   scripts/sam-build.sh [SAM BUILD ARGUMENTS...]      e.g. --config-env prod
#
# SAM_BUILD_DIR (default .aws-sam/build) is where the built template and bootstraps go;
# LAMBDA_PROFILE (default release) the Cargo profile: make test builds with lambda-check
# (unoptimised) into target/sam-check/build, never over a deployable .aws-sam/build.
#
# Every function is `BuildMethod: makefile`: SAM runs the Makefile's build-<LogicalId> per
# function; the first runs one cargo-lambda build of all binaries, the rest link or copy its
# bootstrap. Prints the wall time, then each function's bootstrap size and zipped size.
set -euo pipefail
cd "$(dirname "$0")/.."
now_ms() { date +%s%3N; }

scripts/venv.sh .venv scripts/requirements-build.txt
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
  rustup target add aarch64-unknown-linux-gnu
export PATH="$PWD/.venv/bin:$PATH" SAM_CLI_TELEMETRY=0

build_dir=${SAM_BUILD_DIR:-.aws-sam/build}
start=$(now_ms)
sam build --build-in-source --build-dir "$build_dir" "$@"
ms=$(($(now_ms) - start))
printf -- '-- sam build: %d.%d s\n' $((ms / 1000)) $((ms % 1000 / 100)) >&2
# Zipped sizes (as `sam deploy` zips) only for builds meant to be deployed.
report=()
[ "${LAMBDA_PROFILE:-release}" != lambda-check ] || report=(--no-zip)
python scripts/bench_build_report.py ${report[@]+"${report[@]}"} "$build_dir"
