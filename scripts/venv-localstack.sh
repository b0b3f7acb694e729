#!/usr/bin/env bash
# Creates .venv-localstack with LocalStack's Python package (host mode, no Docker), once:
# localstack-core needs Python 3.13 or newer, found as `python3.13`/`python3.14` on the PATH
# or among pyenv's versions (LOCALSTACK_PYTHON names another). Re-runs are cheap: a stamp file
# records the requirements that were installed.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=scripts/requirements-localstack.txt
venv=.venv-localstack
stamp=$venv/.installed
if [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi

recent_enough() {
  "$1" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null
}
python=
pyenv_pythons=()
if command -v pyenv >/dev/null 2>&1; then
  pyenv_pythons=("$(pyenv root)"/versions/3.1[3-9]*/bin/python3)
fi
for candidate in ${LOCALSTACK_PYTHON:-} python3.14 python3.13 ${pyenv_pythons[@]+"${pyenv_pythons[@]}"}; do
  if recent_enough "$candidate"; then
    python=$candidate
    break
  fi
done
[ -n "$python" ] || {
  echo "LocalStack needs Python 3.13 or newer: install one (e.g. pyenv install 3.13) or set LOCALSTACK_PYTHON" >&2
  exit 1
}

rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
