#!/usr/bin/env bash
# Create or refresh the control node's virtualenv (.venv) with the pinned tools and the
# bundled Django project's test requirements. A no-op when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=.venv
stamp=$venv/.requirements.sha256
want=$(cat requirements.txt django_app/requirements.txt django_app/requirements-dev.txt | sha256sum | cut -d' ' -f1)

command -v "$python" >/dev/null 2>&1 || { echo "setup: $python not found (Python 3.10 or newer is needed)" >&2; exit 2; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { echo "setup: Python 3.10 or newer is needed ($("$python" --version))" >&2; exit 2; }

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/ansible-playbook" ]; then
  exit 0
fi
echo "setup: installing the control-node tools into $venv (a minute or two)" >&2
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv" \
  || { echo "setup: cannot create a virtualenv: install python3-venv" >&2; exit 2; }
"$venv/bin/pip" install -q --disable-pip-version-check -r requirements.txt -r django_app/requirements-dev.txt
echo "$want" >"$stamp"
