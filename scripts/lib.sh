# What the test commands share (scripts/test.sh, scripts/test-localstack.sh), sourced from
# the repository root: step headings, timed steps, free ports, and the servers a run
# started (`pids+=(PID)`), stopped by PID when the run exits, success or failure.

step() { printf '\n== %s\n' "$*"; }
now_ms() { date +%s%3N; }
run_start=$(now_ms)
# `timed LABEL COMMAND...` runs COMMAND and prints (on standard error, so a command's
# captured output stays its own) LABEL with its wall time; returns COMMAND's status.
timed() {
  local label=$1 start status=0 ms
  shift
  start=$(now_ms)
  "$@" || status=$?
  ms=$(($(now_ms) - start))
  [ "$status" -eq 0 ] || label="$label FAILED"
  printf -- '-- %s: %d.%d s\n' "$label" $((ms / 1000)) $((ms % 1000 / 100)) >&2
  return "$status"
}

# The closing line: the whole run's wall time.
all_passed() {
  local ms=$(($(now_ms) - run_start))
  printf '\n== all passed in %d.%d s\n' $((ms / 1000)) $((ms % 1000 / 100))
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The servers this run started, stopped by PID on exit (and waited for).
pids=()
stop_servers() {
  local pid
  for pid in ${pids[@]+"${pids[@]}"}; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in ${pids[@]+"${pids[@]}"}; do
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_servers EXIT
