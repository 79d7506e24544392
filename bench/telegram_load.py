#!/usr/bin/env python
"""Telegram bot load benchmark: many chats asking at once through a local fake Bot API server.

    python bench/telegram_load.py [--chats 50] [--questions 5] [--workers 2] [--data DIR] [--markdown]

The real bot (python-telegram-bot Application, polling) runs over the real Assistant (the shipped
corpus, indexed into a temporary folder unless --data holds an index) against the fake Bot API
server of `tests/fakes/telegram_api.py` on 127.0.0.1. All --chats × --questions questions (eval/dev.jsonl,
cycled) are queued at once, each chat's in order; the bot answers each one quoting it, so every
reply is matched to its question. Reported: replies received, questions with no reply (lost), with
more than one (duplicated), apologies (errors), messages Telegram would have refused, and the time
from an update being queued on the server to the bot's reply reaching it (p50, p95, max).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).parent))
from benchlib import format_table, machine_line

from bot.service import Assistant
from bot.telegram.app import TelegramBot
from bot.telegram.texts import default_texts
from bpge.settings import Settings
from indexer.build import build_index
from indexer.store import current_build_id
from tests.fakes.telegram_api import FakeBotAPI, Harness, bot_settings

REPO = Path(__file__).resolve().parents[1]
HEADERS = [
    "chats",
    "questions",
    "replies",
    "lost",
    "duplicated",
    "errors",
    "refused",
    "p50 ms",
    "p95 ms",
    "max ms",
    "wall s",
]


def questions() -> list[str]:
    with (REPO / "eval" / "dev.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line)["question"] for line in f if line.strip()]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def load_assistant(data: Path | None, tmp: Path) -> Assistant:
    settings = Settings.model_construct().model_copy(
        update={"corpus_dir": REPO / "corpus", "data_dir": data or tmp / "index"}
    )
    if current_build_id(settings.data_dir) is None:
        print(f"indexing {settings.corpus_dir} into {settings.data_dir} …", file=sys.stderr, flush=True)
        build_index(settings)
    assistant = Assistant.load(settings)
    assistant.warm_up()
    return assistant


async def run(args: argparse.Namespace) -> list[object]:
    pool = questions()
    with tempfile.TemporaryDirectory(prefix="bpge-tg-load-") as tmp:
        assistant = await asyncio.to_thread(load_assistant, args.data, Path(tmp))
        async with FakeBotAPI() as api:
            settings = bot_settings(api, Path(tmp), telegram_rate_limit_per_minute=10)
            bot = TelegramBot(settings, assistant, workers=args.workers)
            assert await bot.start(), "the bot did not start"
            harness = Harness(api, bot)
            try:
                asked: dict[tuple[int, int], int] = {}  # (chat, message id) -> update id
                started = time.perf_counter()
                for round_ in range(args.questions):
                    for chat in range(1, args.chats + 1):
                        question = pool[(chat * args.questions + round_) % len(pool)]
                        message_id = api.user_message(1000 + chat, question)
                        asked[(1000 + chat, message_id)] = max(api.update_times)
                await harness.idle(timeout=args.timeout)
                wall = time.perf_counter() - started
            finally:
                await bot.stop()

    apology = default_texts().plain("apology")
    replies = [m for m in api.messages.values() if m.reply_to is not None]
    per_question = Counter((m.chat_id, m.reply_to) for m in replies)
    latencies = []
    for m in replies:
        update_id = asked.get((m.chat_id, m.reply_to)) if m.reply_to is not None else None
        if update_id is not None:
            latencies.append((m.sent_at - api.update_times[update_id]) * 1000)
    lost = sum(1 for key in asked if per_question[key] == 0)
    duplicated = sum(1 for key in asked if per_question[key] > 1)
    errors = sum(1 for m in api.messages.values() if m.plain == apology)
    return [
        args.chats,
        len(asked),
        len(replies),
        lost,
        duplicated,
        errors,
        len(api.rejected),
        round(statistics.median(latencies)) if latencies else "-",
        round(percentile(latencies, 95)) if latencies else "-",
        round(max(latencies)) if latencies else "-",
        round(wall, 1),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--questions", type=int, default=5, help="questions per chat")
    parser.add_argument("--workers", type=int, default=2, help="threads running the Assistant (the bot's default: 2)")
    parser.add_argument("--data", type=Path, help="a data folder with an index (default: index the shipped corpus)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for all replies")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    row = asyncio.run(run(args))
    print(machine_line())
    print(format_table(HEADERS, [row], markdown=args.markdown))
    lost, duplicated, errors, refused = row[3], row[4], row[5], row[6]
    return 0 if (lost, duplicated, errors, refused) == (0, 0, 0, 0) else 1


if __name__ == "__main__":
    sys.exit(main())
