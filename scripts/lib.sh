# What the test commands share (scripts/test.sh, scripts/test-localstack.sh,
# scripts/test-browser.sh and the setup scripts), sourced from the repository root: step
# headings, timed steps, free ports, the servers a run started (`pids+=(PID)`), stopped by
# PID when the run exits, success or failure, and the two installers (apt-get, npm ci).

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

# `apt_install PACKAGE...`: Debian packages through apt-get (sudo when not root), its
# output on standard error so that a setup script's standard output stays its answer. It
# waits up to 5 minutes for another apt-get holding the lock rather than failing at once.
apt_install() {
  local as_root=() lock=(-o DPkg::Lock::Timeout=300)
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  echo "installing $* (apt-get)" >&2
  "${as_root[@]}" apt-get "${lock[@]}" update -qq >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${lock[@]}" install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "$@" >&2
}

# node_modules/ exactly as package-lock.json pins it (DynamoDB Local, playwright-core): one
# `npm ci` for every tool that needs it, redone only when the lockfile changed (a stamp
# records the lockfile that was installed). No install scripts run: nothing downloads.
node_modules_install() {
  local stamp=node_modules/.evreg-installed
  if ! { [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; }; then
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2
    cp package-lock.json "$stamp"
  fi
}
