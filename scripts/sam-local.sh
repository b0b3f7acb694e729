#!/usr/bin/env bash
# `make sam-local`: every function through `sam local invoke`, the way its users run it.
# Builds (scripts/sam-build.sh); starts ONE moto server on 127.0.0.1 (scripts/moto_server.py,
# as `make test` does: on MOTO_PORT if set, else on a free port; a moto server already
# answering on MOTO_PORT is used instead, which is how `make test` passes its own) and the
# test suite's Stripe stand-in (a free port); provisions the template's tables, topic,
# queues, bucket, SSM parameters, sender identity and an ADMIN in moto
# (tests/examples/sam_local_env.rs: the test suite's own provisioning from template.yaml);
# then invokes every function along a user's journey: routes with their events/ file,
# placeholders filled from earlier answers, workers with the SQS batches SNS delivered to
# their queues, the scheduled ones with a scheduled event (scripts/sam_local.py), checking
# every answer.
# Results: target/sam-local/results.md (and events as sent, logs, results.json).
#
# SAM_BUILD_DIR and LAMBDA_PROFILE pass to scripts/sam-build.sh (default: the release build
# into .aws-sam/build, as `make build`; an unchanged build is only checked, ~1-4 s a function).
#
# Needs Docker. Where `docker info` fails and this runs as root, it installs Docker Engine
# (Debian's docker.io) if missing and starts `dockerd --userland-proxy=false` itself (SAM's
# invoke times out behind the userland proxy), stopping it by PID at the end. The Lambda
# base image is pulled, or built locally where no registry is reachable
# (scripts/lambda-base-image.sh).
#
# The emulator and the stand-in listen on 127.0.0.1 only. Functions run in containers on
# Docker's bridge; on Linux, as root, a DNAT rule per port sends their connections to
# <bridge gateway>:<port> to 127.0.0.1:<port> (with route_localnet on the bridge), removed at
# the end. With Docker Desktop, host.docker.internal reaches the host's loopback already;
# Docker Engine on Linux needs this run as root (for the rules).
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/sam-local
mkdir -p "$out"

# shellcheck source=scripts/lib.sh
. scripts/lib.sh
# Polls COMMAND... every 200 ms until it succeeds or SECONDS pass.
wait_for() {
  local seconds=$1 deadline
  shift
  deadline=$(($(date +%s) + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0
# The stack's parameters for the invocations (samconfig.toml's local_invoke ones).
export SAM_LOCAL_STAGE=dev SAM_LOCAL_MAIL_FROM=tickets@evreg-dev.example.org \
  SAM_LOCAL_PUBLIC_URL=http://127.0.0.1:3000

# What this run changed (besides the servers in `pids`, lib.sh), undone on exit, success or
# failure, before the servers stop.
undo=()
cleanup() {
  local i
  for ((i = ${#undo[@]} - 1; i >= 0; i--)); do eval "${undo[i]}" || true; done
  stop_servers
}
trap cleanup EXIT

step "Docker"
if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Docker is not running and this is not root: start Docker and run again." >&2
    exit 1
  fi
  if ! command -v dockerd >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  dockerd --userland-proxy=false --pidfile "$PWD/$out/dockerd.pid" > "$out/dockerd.log" 2>&1 &
  pids+=($!)
  dockerd_pid=$!
  timed "dockerd start" wait_for 60 docker info ||
    { tail -20 "$out/dockerd.log" >&2; exit 1; }
  echo "dockerd started (pid $dockerd_pid), stopped at the end"
fi

step "Lambda base image (provided.al2023, arm64)"
timed "base image" scripts/lambda-base-image.sh

step "sam build"
# SAM's and cargo's output go to the log; its last 40 lines are shown if the build fails.
timed "sam build" bash -c 'scripts/sam-build.sh > "$1" 2>&1 || { tail -40 "$1" >&2; exit 1; }' \
  sam-build "$out/sam-build.log"
tail -1 "$out/sam-build.log"

step "provisioning tool (tests/examples/sam_local_env.rs)"
timed "cargo build --example sam_local_env" \
  cargo build --quiet --locked -p evreg-tests --example sam_local_env
export SAM_LOCAL_ENV_BIN="$PWD/target/debug/examples/sam_local_env"

step "AWS emulator (moto server on 127.0.0.1)"
port=${MOTO_PORT:-$(free_port)}
if curl -sf -o /dev/null "http://127.0.0.1:$port/moto-api/"; then
  echo "moto server already running on 127.0.0.1:$port: used"
else
  .venv/bin/python scripts/moto_server.py "$port" > "$out/moto.log" 2>&1 &
  pids+=($!)
  timed "moto start" .venv/bin/python scripts/wait_http.py "moto server" \
    "http://127.0.0.1:$port/moto-api/" "$!"
fi

step "provisioning (template.yaml's resources, SSM parameters, an ADMIN)"
timed "provision" env AWS_ENDPOINT_URL="http://127.0.0.1:$port" \
  "$SAM_LOCAL_ENV_BIN" "$SAM_LOCAL_STAGE" "$SAM_LOCAL_MAIL_FROM" \
  > "$out/resources.json"

step "Stripe stand-in (tests/support/stripe.rs on 127.0.0.1)"
secret_key=$(.venv/bin/python -c 'import json, sys; print(json.load(open(sys.argv[1]))["stripe"]["secret_key"])' \
  "$out/resources.json")
"$SAM_LOCAL_ENV_BIN" stripe "$secret_key" > "$out/stripe.url" 2> "$out/stripe.log" &
pids+=($!)
timed "stand-in start" wait_for 30 grep -q '^http://' "$out/stripe.url" ||
  { cat "$out/stripe.log" >&2; exit 1; }
stripe_url=$(head -1 "$out/stripe.url")
stripe_port=${stripe_url##*:}

step "the functions' way to the emulator and the stand-in"
# Prints the URL a container reaches 127.0.0.1:PORT at, making the way there first.
container_url() {
  local port=$1 rule
  if [ -n "${bridge:-}" ]; then
    rule=(PREROUTING -i "$interface" -d "$bridge" -p tcp --dport "$port" -j DNAT --to-destination "127.0.0.1:$port")
    iptables -t nat -I "${rule[@]}"
    undo+=("iptables -t nat -D ${rule[*]}")
    echo "http://$bridge:$port"
  else
    echo "http://host.docker.internal:$port"
  fi
}
if [ "$(uname -s)" = Linux ] && [ "$(id -u)" -eq 0 ]; then
  interface=$(docker network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}')
  interface=${interface:-docker0}
  bridge=$(ip -4 -o addr show dev "$interface" | awk '{ split($4, a, "/"); print a[1]; exit }')
  old_localnet=$(sysctl -n "net.ipv4.conf.$interface.route_localnet")
  sysctl -qw "net.ipv4.conf.$interface.route_localnet=1"
  undo+=("sysctl -qw net.ipv4.conf.$interface.route_localnet=$old_localnet")
fi
# Not in $(…): the rule's undo must be recorded in this shell.
container_url "$port" > "$out/endpoint.url"
container_endpoint=$(cat "$out/endpoint.url")
container_url "$stripe_port" > "$out/endpoint.url"
container_stripe=$(cat "$out/endpoint.url")
echo "functions reach the emulator at $container_endpoint (it listens on 127.0.0.1:$port)"
echo "and the Stripe stand-in at $container_stripe ($stripe_url)"
image=public.ecr.aws/lambda/provided:al2023-arm64
for url in "$container_endpoint" "$container_stripe"; do
  host=${url#http://}
  timed "a container reaches $url" docker run --rm --platform linux/arm64 --entrypoint bash \
    "$image" -c "exec 3<>/dev/tcp/${host%:*}/${host##*:}" ||
    { echo "a container cannot connect to $url" >&2; exit 1; }
done

step "sam local invoke of every function"
status=0
timed "invocations" .venv/bin/python scripts/sam_local.py "$out/resources.json" \
  "http://127.0.0.1:$port" "$container_endpoint" "$container_stripe" "$out" || status=$?

echo "results: $out/results.md"
[ "$status" -eq 0 ] && all_passed
exit "$status"
