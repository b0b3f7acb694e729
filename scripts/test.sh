#!/usr/bin/env bash
# The whole test suite, from a fresh clone: `make test` (and CI's .ci/run) run exactly this.
# Installs what it needs (.venv with moto, cfn-lint, sam-cli, cargo-lambda and zig; the
# aarch64 rustup target; .venv-fuzz with schemathesis; node_modules with DynamoDB Local and
# playwright-core; a Java runtime and Debian's chromium only if missing), builds every
# function with `sam build` (unoptimised), starts ONE moto server and ONE DynamoDB Local for
# the run, each on a free 127.0.0.1 port, and stops both by PID on exit, success or
# failure. Every step prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# Offline, dummy credentials: nothing in the test command talks to real AWS.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export SAM_CLI_TELEMETRY=0

step "tooling (.venv: moto server, cfn-lint, sam-cli; node_modules: DynamoDB Local, playwright-core; Java; Chromium)"
timed "venv" scripts/venv.sh
ddb_lib=$(timed "DynamoDB Local install" scripts/dynamodb_local_setup.sh)
timed "Chromium and playwright-core install" scripts/browser_setup.sh

step "format and lint"
timed "cargo fmt" cargo fmt --all --check
# evreg-dev's `aws` feature (its `--aws` commands, which the tests run) in this clippy and
# the build below: `make dev` builds evreg-dev without it, with no AWS SDK crate.
timed "cargo clippy" cargo clippy --workspace --all-targets --locked --features evreg-dev/aws -- -D warnings
timed "cfn-lint" .venv/bin/cfn-lint template.yaml
timed "sam validate --lint" .venv/bin/sam validate --lint -t template.yaml --region us-east-1

# The binaries (the dev server, every Lambda bootstrap) and the examples: building the
# examples activates the dev-dependencies' features as `cargo test` does (proptest turns on
# getrandom's `std`), so the test step below reuses this build instead of compiling half
# the dependencies a second time with other features.
step "build (one debug build serves every test)"
timed "cargo build" cargo build --workspace --locked --bins --examples --features evreg-dev/aws

# The template built the way a deployer builds it: `sam build` of every function through
# template.yaml's `BuildMethod: makefile` and the Makefile's build-<LogicalId> targets, one
# cargo-lambda cross build of all the arm64 bootstraps (cargo-lambda and zig from PyPI into
# .venv, the rustup target), each linked into its function's artifact folder. Compiled with
# the unoptimised lambda-check profile into target/sam-check/ (never over .aws-sam/build):
# the release build compiles the same code with optimisation and LTO, which takes longer than
# the whole of the rest of this run on 2 cores (BENCHMARKS.md, section 5; `make build`).
step "sam build: every function, arm64 (profile lambda-check)"
# SAM's and cargo's output go to the log; its last 40 lines are shown if the build fails.
quietly() {
  local log=$1
  shift
  "$@" > "$log" 2>&1 || { tail -40 "$log" >&2; return 1; }
}
mkdir -p target/sam-check
timed "sam build (every function, lambda-check)" quietly target/sam-check/sam-build.log \
  env LAMBDA_PROFILE=lambda-check SAM_BUILD_DIR=target/sam-check/build scripts/sam-build.sh
tail -1 target/sam-check/sam-build.log

step "AWS emulator (moto server)"
moto_port=$(free_port)
.venv/bin/python scripts/moto_server.py "$moto_port" > target/moto.log 2>&1 &
pids+=($!)
moto_pid=$!
timed "moto start" .venv/bin/python scripts/wait_http.py "moto server" \
  "http://127.0.0.1:$moto_port/moto-api/" "$moto_pid"

step "DynamoDB Local (in memory, one database for every credential and region)"
ddb_port=$(free_port)
java -Djava.library.path="$ddb_lib/DynamoDBLocal_lib" -cp "$ddb_lib/DynamoDBLocal.jar" \
  scripts/DynamoDBLocalLoopback.java -inMemory -sharedDb -disableTelemetry -port "$ddb_port" \
  > target/dynamodb-local.log 2>&1 &
pids+=($!)
ddb_pid=$!
timed "DynamoDB Local start" .venv/bin/python scripts/wait_http.py "DynamoDB Local" \
  "http://127.0.0.1:$ddb_port/" "$ddb_pid" ||
  { cat target/dynamodb-local.log >&2; exit 1; }

step "tests: domain units, handlers, store conformance (SQLite + DynamoDB), end to end (AWS + embedded), every AWS service on moto"
export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
export EVREG_DEV_BIN="$PWD/target/debug/evreg-dev"
# The Lambda bootstraps the build step made, which tests/integration/runtime.rs runs as
# processes against its own Runtime API.
export EVREG_BIN_DIR="$PWD/target/debug"
timed "tests against moto" cargo test --locked -p evreg -p evreg-tests

step "fuzz: schemathesis, openapi.yaml against the dev server, anonymous and as an ADMIN"
timed "schemathesis" scripts/fuzz.sh

# The pages as people use them: tests/browser/ in headless Chromium at a phone's width
# against one more dev server (its own data directory), on the debug build above.
step "browser: the event and attendee pages and the door app in headless Chromium (tests/browser/)"
timed "browser tests" scripts/test-browser.sh

# The AWS-mode suite again with DynamoDB on DynamoDB Local, AWS's own implementation of
# conditions, transactions and indexes, serving requests concurrently (moto runs one at a
# time); SNS/SQS/S3/SES/SSM/CloudFront stay on moto: the SDK takes the service-specific
# AWS_ENDPOINT_URL_DYNAMODB over AWS_ENDPOINT_URL. Skipped: the embedded and SQLite
# variants, and the tests that never touch DynamoDB (the embedded bus, local files, S3,
# SES, SSM, the OpenAPI document, the dev-server binary and its dead-letters command and
# crash test); they ran above.
step "tests: the AWS-mode suite again, DynamoDB on DynamoDB Local"
timed "tests against DynamoDB Local" env AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddb_port" \
  cargo test --locked -p evreg -p evreg-tests --test integration -- \
  --skip embedded --skip sqlite --skip bus:: --skip blobs:: --skip mail:: --skip secrets:: \
  --skip openapi:: --skip dev_server:: --skip dead_letters:: --skip crash:: --skip local_database

# Every function through `sam local invoke` in Docker, built above (lambda-check), against
# this run's moto server: only where a Docker daemon already runs (this never starts one;
# `make sam-local` does, as root). Without one it is skipped, and says so.
step "sam local invoke of every function (Docker)"
if docker info >/dev/null 2>&1; then
  timed "sam local invoke" env MOTO_PORT="$moto_port" LAMBDA_PROFILE=lambda-check \
    SAM_BUILD_DIR=target/sam-check/build scripts/sam-local.sh
else
  echo "skipped: no Docker daemon here (docker info fails); make sam-local runs it where one can start"
fi

all_passed
