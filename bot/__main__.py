"""`python -m bot serve` — build the index if it is missing, then serve the web app (and the Telegram bot
when TELEGRAM_BOT_TOKEN is set)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bpge.settings import Settings
from indexer.build import BuildInProgress, NothingToIndex, build_index
from indexer.store import BadPointer, StoreUnavailable, newest_complete_build, read_pointer
from indexer.topics import BadCatalog

REPAIR = "python -m indexer build --repair"


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.telegram.redact import protect
    from bot.web import create_app

    settings = Settings().with_overrides(corpus_dir=args.corpus, data_dir=args.data, host=args.host, port=args.port)
    for secret in (
        settings.telegram_bot_token,
        settings.telegram_webhook_secret,
        settings.llm_api_key,
        settings.admin_token,
    ):
        protect(secret.get_secret_value() if secret else None)
    log = logging.getLogger("bot")
    try:
        read_pointer(settings.data_dir)
    except BadPointer as exc:
        newest = newest_complete_build(settings.data_dir)
        if newest is not None:  # serve it (bot.service falls back to it); never rebuild or delete here
            log.warning("%s; se sirve el índice completo más reciente, %s. Repare con: %s", exc, newest, REPAIR)
    if newest_complete_build(settings.data_dir) is None or args.reindex:
        log.warning("indexing %s into %s …", settings.corpus_dir, settings.data_dir)
        try:
            summary = build_index(settings, progress=True)
        except (BuildInProgress, NothingToIndex, StoreUnavailable, BadCatalog) as exc:
            print(str(exc), file=sys.stderr)
            if newest_complete_build(settings.data_dir) is None:
                return 1
        else:
            log.warning("index %s: %d practices, %d chunks", summary.build, summary.practices, summary.chunks)
    app = create_app(settings)
    print(f"Asistente BPGE en http://{settings.host}:{settings.port}/", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Asistente BPGE: web y Telegram.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="indexa si hace falta y sirve la web (y el bot de Telegram si hay token)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--corpus", type=Path)
    serve.add_argument("--data", type=Path)
    serve.add_argument("--reindex", action="store_true", help="actualiza el índice antes de servir")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())
