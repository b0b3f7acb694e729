#!/usr/bin/env bash
# Copies the door app's front-end libraries from node_modules/ (installed by `npm ci`
# exactly as package-lock.json pins them) into shared/door/, where the binaries embed
# them: the app loads nothing from anywhere but its own origin. Run it after changing a
# version in package.json (`npm install --save-exact NAME@VERSION`), then commit both.
# `tests/integration/door.rs` reads the `vendor` lines below and fails when a copy differs
# from node_modules'.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

vendor() { cp "node_modules/$1" "shared/door/$2" && echo "shared/door/$2 <- node_modules/$1"; }

# jsQR: the QR decoder where the browser has no BarcodeDetector (pure JavaScript, so the
# page's policy needs no 'wasm-unsafe-eval'); a UMD build that sets self.jsQR.
vendor jsqr/dist/jsQR.js jsQR.js
# idb-keyval: promises over one IndexedDB object store (the app's session, event and scans).
vendor idb-keyval/dist/index.js idb-keyval.js
