#!/usr/bin/env bash
# The API fuzzer: schemathesis generates requests from openapi.yaml (examples, boundary
# values, random and schema-violating data, and chains along its links) and sends them to
# the embedded dev server (target/debug/evreg-dev, built by `make test`) twice — without
# credentials, then as an ADMIN. It fails on a 5xx, on an answer the document does not
# describe (status, content type, schema, headers), on a valid request refused or an
# invalid one accepted, and (scripts/fuzz_hooks.py) on a 4xx that changed stored state.
# Settings: scripts/schemathesis.toml. `EVREG_FUZZ_EXAMPLES` (default 20) bounds the
# examples per operation and phase; `EVREG_FUZZ_SEED` replays a run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh .venv-fuzz scripts/requirements-fuzz.txt
bin=target/debug/evreg-dev
[ -x "$bin" ] || cargo build -p evreg-dev --locked

rm -rf target/fuzz.*
data=$(mktemp -d "$PWD/target/fuzz.XXXXXX")
port=$(.venv-fuzz/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
admin=fuzz-admin@example.org password='fuzz correct horse'
EVREG_DATA_DIR=$data EVREG_ADMIN_PASSWORD=$password "$bin" create-admin --email "$admin" >/dev/null
# Unthrottled: the fuzzer sends far more than a client may (the throttle has its test).
EVREG_DATA_DIR=$data PORT=$port EVREG_RATE_LIMITS=off "$bin" > "$data/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
.venv-fuzz/bin/python scripts/wait_http.py "dev server" "http://127.0.0.1:$port/health" "$server"

token=$(curl -sf "http://127.0.0.1:$port/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$admin\",\"password\":\"$password\"}" |
  .venv-fuzz/bin/python -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

# One published event with room, so that registrations (and, along the links, the routes
# of a registration) meet an open event rather than only 404s.
event=$(curl -sf "http://127.0.0.1:$port/events" -H 'content-type: application/json' \
  -H "authorization: Bearer $token" -d '{"name": "Fuzz", "date": "2030-01-01T18:00:00Z",
    "venue": "Hall", "max_capacity": 500, "waitlist_enabled": true, "status": "PUBLISHED"}' |
  .venv-fuzz/bin/python -c 'import json, sys; print(json.load(sys.stdin)["id"])')

export EVREG_FUZZ_URL="http://127.0.0.1:$port" EVREG_FUZZ_DATABASE="$data/evreg.sqlite3"
export EVREG_FUZZ_EVENT=$event
export PYTHONPATH="$PWD/scripts"
seed=${EVREG_FUZZ_SEED:-$RANDOM$RANDOM}
status=0
for as in anonymous admin; do
  auth=()
  [ "$as" = admin ] && auth=(-H "Authorization: Bearer $token")
  echo "-- schemathesis as $as (seed $seed)"
  .venv-fuzz/bin/schemathesis --config-file scripts/schemathesis.toml run openapi.yaml \
    --max-examples "${EVREG_FUZZ_EXAMPLES:-20}" --seed "$seed" --no-color \
    ${auth[@]+"${auth[@]}"} > "$data/schemathesis-$as.log" 2>&1 || status=$?
  # The summary, or every failure when there are some.
  if [ "$status" -eq 0 ]; then
    sed -n '/SUMMARY/,$p' "$data/schemathesis-$as.log"
  else
    cat "$data/schemathesis-$as.log"
    echo "the dev server's log: $data/server.log" >&2
    exit "$status"
  fi
done
