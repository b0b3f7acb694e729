#!/usr/bin/env bash
# Creates .venv-localstack with LocalStack's Python package (host mode, no Docker), once,
# through scripts/venv.sh: localstack-core needs Python 3.13 or newer, found as
# `python3.14`/`python3.13` on the PATH or among pyenv's versions (LOCALSTACK_PYTHON names
# another).
set -euo pipefail
cd "$(dirname "$0")/.."

recent_enough() {
  "$1" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null
}
pyenv_pythons=()
if command -v pyenv >/dev/null 2>&1; then
  pyenv_pythons=("$(pyenv root)"/versions/3.1[3-9]*/bin/python3)
fi
for candidate in ${LOCALSTACK_PYTHON:-} python3.14 python3.13 ${pyenv_pythons[@]+"${pyenv_pythons[@]}"}; do
  if recent_enough "$candidate"; then
    exec scripts/venv.sh .venv-localstack scripts/requirements-localstack.txt "$candidate"
  fi
done
echo "LocalStack needs Python 3.13 or newer: install one (e.g. pyenv install 3.13) or set LOCALSTACK_PYTHON" >&2
exit 1
