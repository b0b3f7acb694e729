#!/usr/bin/env bash
# Creates a virtual environment and installs a requirements file into it, once.
#   scripts/venv.sh [DIR [REQUIREMENTS [PYTHON]]]
# Default: .venv with scripts/requirements-dev.txt (the AWS emulator (moto server), cfn-lint
# and sam-cli). Others: .venv with scripts/requirements-build.txt (the same plus cargo-lambda
# and zig, for `make build`), the fuzzer's .venv-fuzz, LocalStack's .venv-localstack on a
# newer PYTHON than the default python3. Re-runs are cheap: a stamp file per requirements
# file records what was installed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
requirements=${2:-scripts/requirements-dev.txt}
python=${3:-python3}
stamp="$venv/.installed-$(basename "$requirements")"
if [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
