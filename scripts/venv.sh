#!/usr/bin/env bash
# Creates a virtual environment once: by default .venv with the AWS emulator (moto
# server), cfn-lint and sam-cli; `scripts/venv.sh DIR REQUIREMENTS [PYTHON]` another one
# (the fuzzer's .venv-fuzz; LocalStack's .venv-localstack, on a newer PYTHON than the
# default python3). Re-runs are cheap: a stamp file records the requirements that
# were installed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
requirements=${2:-scripts/requirements-dev.txt}
python=${3:-python3}
stamp=$venv/.installed
if [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
