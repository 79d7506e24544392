#!/usr/bin/env bash
# Run every test on a fresh machine: install what is missing, then pytest. Flags go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
. .venv/bin/activate
exec python -m pytest "$@"
