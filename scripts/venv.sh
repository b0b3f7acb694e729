#!/usr/bin/env bash
# Creates .venv with the AWS emulator (moto server), cfn-lint and sam-cli, once.
# Re-runs are cheap: a stamp file records the requirements that were installed.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=scripts/requirements-dev.txt
stamp=.venv/.installed
if [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
