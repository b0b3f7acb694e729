#!/usr/bin/env bash
# The AWS-mode test suite against LocalStack: `make test-localstack`. Not part of
# `make test` (see README, Tests › LocalStack).
#
# With LOCALSTACK_ENDPOINT set (a LocalStack container, e.g. `docker run -p
# 127.0.0.1:4566:4566 localstack/localstack` → http://127.0.0.1:4566), every AWS call of
# the tests goes there, DynamoDB included. Without it, this script runs LocalStack itself in
# host mode: .venv-localstack (Python >= 3.13, localstack-core pinned by
# scripts/requirements-localstack.txt) serves SNS, SQS, S3, SES and SSM on a free 127.0.0.1
# port, and DynamoDB goes to the project's DynamoDB Local (node_modules, as in `make test`):
# LocalStack's own DynamoDB is that same DynamoDB Local behind a proxy, but it would download
# its jar, a patch agent and a Java runtime at start (impossible offline) and bind every
# interface. Servers this run starts are stopped by PID on exit, success or failure; every
# step prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# Offline, dummy credentials: nothing in the test command talks to real AWS.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1

# The filter of the AWS-mode suite: every test that reaches the emulator; the embedded and
# SQLite variants, the embedded bus, the OpenAPI document and the dev-server binary need no
# emulator and run in `make test`.
aws_mode_only=(--skip embedded --skip sqlite --skip bus:: --skip openapi:: --skip dev_server::
  --skip local_database)

step "build the test binary"
timed "cargo test --no-run" cargo test --locked -p evreg -p evreg-tests --test integration --no-run

if [ -n "${LOCALSTACK_ENDPOINT:-}" ]; then
  endpoint=${LOCALSTACK_ENDPOINT%/}
  step "LocalStack at $endpoint (given by LOCALSTACK_ENDPOINT; every service there)"
else
  step "tooling (.venv-localstack: localstack-core; node_modules: DynamoDB Local; Java)"
  timed "LocalStack venv" scripts/venv-localstack.sh
  ddb_lib=$(timed "DynamoDB Local install" scripts/dynamodb_local_setup.sh)

  step "LocalStack in host mode (SNS, SQS, S3, SES, SSM) on 127.0.0.1"
  port=$(free_port)
  endpoint="http://127.0.0.1:$port"
  rm -rf target/localstack
  .venv-localstack/bin/python scripts/localstack_server.py "$port" target/localstack \
    > target/localstack.log 2>&1 &
  pid=$!
  pids+=("$pid")
  timed "LocalStack start" python3 scripts/wait_http.py LocalStack \
    "$endpoint/_localstack/health" "$pid" ||
    { cat target/localstack.log >&2; exit 1; }

  step "DynamoDB Local (in memory, one database for every credential and region)"
  start_dynamodb_local "$ddb_lib"
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddb_port"
fi
python3 scripts/localstack_health.py "$endpoint"

step "tests: the AWS-mode suite against LocalStack"
export AWS_ENDPOINT_URL=$endpoint EVREG_EMULATOR=localstack
timed "tests against LocalStack" cargo test --locked -p evreg -p evreg-tests --test integration \
  -- "${aws_mode_only[@]}"

all_passed
