#!/usr/bin/env bash
# The browser the suite's real-browser checks drive (molecule/shared/browser_check.py):
# Debian's headless-capable Chromium and a font for readable screenshots. Playwright's
# own browser download needs the internet; its Python package (requirements.txt) drives
# this system Chromium instead. A no-op when it is installed.
set -euo pipefail

[ -x /usr/bin/chromium ] && exit 0
command -v apt-get >/dev/null 2>&1 \
  || { echo "browser: /usr/bin/chromium is missing and there is no apt-get to install it" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
echo "browser: installing Debian's chromium (a minute)" >&2
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
