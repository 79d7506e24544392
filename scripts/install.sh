#!/usr/bin/env bash
# Create .venv (if needed) and install the assistant with its pinned CPU torch. Idempotent.
#   scripts/install.sh          runtime dependencies
#   scripts/install.sh test     plus the test tools (and Debian's Chromium for the browser test)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${1:-run}"
if [ ! -f "$stamp" ]; then
  python -m pip install --quiet --upgrade pip
  # torch first, pinned: an unpinned torch pulls a multi-GB CUDA build.
  python -m pip install --quiet "torch==2.13.0"
  if [ "${1:-}" = "test" ]; then
    python -m pip install --quiet -e ".[test]"
  else
    python -m pip install --quiet -e .
  fi
  touch "$stamp"
fi
if [ "${1:-}" = "test" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }) \
      || echo "Chromium no se pudo instalar: la prueba del navegador se omitirá." >&2
  else
    echo "Chromium no está instalado (apt-get install chromium): la prueba del navegador se omitirá." >&2
  fi
fi
