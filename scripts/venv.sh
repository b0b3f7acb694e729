#!/usr/bin/env bash
# Creates .venv and installs requirement files into it, once each.
#   scripts/venv.sh [REQUIREMENTS...]   (default: scripts/requirements-dev.txt: the AWS
#                                        emulator (moto server), cfn-lint and sam-cli)
# scripts/requirements-build.txt adds what `make build` needs (cargo-lambda, ziglang).
# Re-runs are cheap: a stamp file per requirements file records what was installed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- scripts/requirements-dev.txt
[ -x .venv/bin/python ] || python3 -m venv .venv
for requirements in "$@"; do
  stamp=".venv/.installed-$(basename "$requirements")"
  if [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
    continue
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
done
