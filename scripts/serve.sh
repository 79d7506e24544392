#!/usr/bin/env bash
# Bring the assistant up: install, index corpus/ if needed, serve the page and API
# (and the Telegram bot when TELEGRAM_BOT_TOKEN is set). Flags go to `python -m bot serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
. .venv/bin/activate
exec python -m bot serve "$@"
