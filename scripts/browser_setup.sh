#!/usr/bin/env bash
# Installs what the browser tests (tests/browser/) need, once: Debian's `chromium` package
# through apt-get when /usr/bin/chromium is missing, and node_modules/ (playwright-core, the
# driver, pinned by package-lock.json; the npm package `playwright` is not used because it
# downloads a browser build of its own). Re-runs are cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

[ -x /usr/bin/chromium ] || apt_install chromium
[ -x /usr/bin/chromium ] || { echo "the chromium package did not install /usr/bin/chromium" >&2; exit 1; }
node_modules_install
