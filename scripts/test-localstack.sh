#!/usr/bin/env bash
# The AWS-mode test suite against LocalStack: `make test-localstack`. Not part of
# `make test` (see README, Tests › LocalStack).
#
# LOCALSTACK_ENDPOINT (default http://127.0.0.1:4566, where LocalStack's Docker image
# listens: `docker run -p 127.0.0.1:4566:4566 localstack/localstack`). When a LocalStack
# answers there, every AWS call of the tests goes to it. When nothing answers, this script
# runs LocalStack itself on that address, in host mode (scripts/localstack_server.py):
# .venv-localstack (Python >= 3.13, localstack-core pinned by
# scripts/requirements-localstack.txt) serves SNS, SQS, S3, SES, SSM and DynamoDB, its
# DynamoDB on the project's DynamoDB Local (node_modules, as in `make test`) instead of the
# jar, Java and patch agent LocalStack would download. The LocalStack this run starts is
# stopped by PID on exit, success or failure; every step prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# Offline, dummy credentials: nothing in the test command talks to real AWS.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1

# The filter of the AWS-mode suite: every test that reaches the emulator; the embedded and
# SQLite variants, the embedded bus, local files and mailbox, the OpenAPI document and the
# dev-server binary need no emulator and run in `make test`.
aws_mode_only=(--skip embedded --skip sqlite --skip bus:: --skip blobs::files
  --skip mail::the_mailbox_dir --skip openapi:: --skip dev_server:: --skip local_database)

step "build the test binary (and evreg-dev, whose create-admin --aws writes to DynamoDB)"
timed "cargo build" cargo build --locked -p evreg-dev --features aws
timed "cargo test --no-run" cargo test --locked -p evreg -p evreg-tests --test integration --no-run
export EVREG_DEV_BIN="$PWD/target/debug/evreg-dev"

endpoint=${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}
endpoint=${endpoint%/}
if python3 scripts/localstack_health.py --answers "$endpoint"; then
  step "LocalStack at $endpoint (already running: every service there)"
else
  # Host mode binds 127.0.0.1 only, so it can stand in for a local endpoint alone.
  [[ $endpoint =~ ^http://(127\.0\.0\.1|localhost):([0-9]+)$ ]] || {
    echo "no LocalStack answers at $endpoint, and host mode serves http://127.0.0.1:PORT only" >&2
    exit 1
  }
  port=${BASH_REMATCH[2]}
  endpoint="http://127.0.0.1:$port"

  step "tooling (.venv-localstack: localstack-core; node_modules: DynamoDB Local; Java)"
  timed "LocalStack venv" scripts/venv-localstack.sh
  ddb_lib=$(timed "DynamoDB Local install" scripts/dynamodb_local_setup.sh)

  step "LocalStack in host mode (SNS, SQS, S3, SES, SSM, DynamoDB) at $endpoint"
  rm -rf target/localstack
  .venv-localstack/bin/python scripts/localstack_server.py "$port" target/localstack "$ddb_lib" \
    > target/localstack.log 2>&1 &
  pid=$!
  pids+=("$pid")
  timed "LocalStack start" python3 scripts/wait_http.py LocalStack \
    "$endpoint/_localstack/health" "$pid" ||
    { cat target/localstack.log >&2; exit 1; }
fi
python3 scripts/localstack_health.py "$endpoint"

step "tests: the AWS-mode suite against LocalStack"
export AWS_ENDPOINT_URL=$endpoint EVREG_EMULATOR=localstack
timed "tests against LocalStack" cargo test --locked -p evreg -p evreg-tests --test integration \
  -- "${aws_mode_only[@]}"

all_passed
