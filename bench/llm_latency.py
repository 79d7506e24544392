"""Latency of generated answers on the dev set: time to first token and total time per question.

    LLM_BASE_URL=http://127.0.0.1:11434/v1 LLM_MODEL=qwen2.5:3b python bench/llm_latency.py
    python bench/llm_latency.py --base-url http://127.0.0.1:8080/v1 --model local --limit 5

For each question of eval/dev.jsonl it retrieves with the extractive `Assistant` (bot.service), then
streams the checked generation (bot.generation) and prints one row: the question id, retrieval time,
time to the model's first token, time to the first checked sentence shown, total generation time,
the mode that came back (generated or extractive) and, on fallback, why. Exits with a message
when no model is configured.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.generation.client import AnswerGenerator  # noqa: E402
from bpge.settings import Settings  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[index]


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


async def run(args: argparse.Namespace) -> int:
    settings = Settings().with_overrides(
        llm_base_url=args.base_url,
        llm_model=args.model,
        llm_timeout_s=args.timeout,
        data_dir=args.data_dir,
    )
    generator = AnswerGenerator.from_settings(settings)
    if generator is None:
        print(
            "No model configured: set LLM_BASE_URL (and LLM_MODEL, LLM_API_KEY, LLM_TIMEOUT_S) "
            "or pass --base-url/--model. Answers are extractive only.",
            file=sys.stderr,
        )
        return 2

    from bot.service import Assistant

    assistant = Assistant.load(settings)
    warm = assistant.ask("prueba")  # load the embedder before timing anything
    if inspect.isawaitable(warm):
        await warm
    import openai  # noqa: F401 - imported before the first timed request

    rows = [json.loads(line) for line in Path(args.dev).read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.ids:
        wanted = set(args.ids.split(","))
        rows = [r for r in rows if r["id"] in wanted]
    if args.limit:
        rows = rows[: args.limit]

    print(
        f"model {settings.llm_model!r} at {settings.llm_base_url}, timeout {settings.llm_timeout_s:g} s, "
        f"{len(rows)} questions"
    )
    header = (
        f"{'id':<6} {'retr ms':>8} {'ttft ms':>8} {'shown ms':>9} {'total ms':>9}  {'mode':<11} {'kept':>5}  reason"
    )
    print(header)
    print("-" * len(header))
    ttfts: list[float] = []
    totals: list[float] = []
    generated = 0
    try:
        for row in rows:
            t0 = time.perf_counter()
            extractive = assistant.ask(row["question"])
            if inspect.isawaitable(extractive):
                extractive = await extractive
            retrieval_ms = (time.perf_counter() - t0) * 1000
            started = time.perf_counter()
            first_shown: float | None = None
            final = None
            async for event in generator.stream(row["question"], extractive):
                if event.type == "delta" and first_shown is None:
                    first_shown = (time.perf_counter() - started) * 1000
                elif event.type == "final":
                    final = event
            assert final is not None and final.answer is not None
            mode = final.answer.mode
            generated += mode == "generated"
            if final.ttft_ms is not None:
                ttfts.append(final.ttft_ms)
            if final.reason not in ("abstained", "no_sources"):
                totals.append(final.total_ms or 0.0)
            kept = f"{final.kept}/{final.total}" if final.total else "-"
            print(
                f"{row['id']:<6} {retrieval_ms:>8.0f} {_fmt(final.ttft_ms):>8} {_fmt(first_shown):>9} "
                f"{_fmt(final.total_ms):>9}  {mode:<11} {kept:>5}  {final.reason or ''}",
                flush=True,
            )
            if args.show:
                print("       " + final.answer.answer.replace("\n", "\n       "))
    finally:
        await generator.aclose()

    print("-" * len(header))
    if ttfts:
        print(f"time to first token: median {statistics.median(ttfts):.0f} ms, p90 {_percentile(ttfts, 0.9):.0f} ms")
    if totals:
        print(f"total generation:    median {statistics.median(totals):.0f} ms, p90 {_percentile(totals, 0.9):.0f} ms")
    print(f"generated answers: {generated}/{len(rows)} (the rest extractive: abstained, or fell back)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dev", default=str(REPO / "eval" / "dev.jsonl"), help="dev set (JSON lines with id, question)"
    )
    parser.add_argument("--base-url", help="overrides LLM_BASE_URL")
    parser.add_argument("--model", help="overrides LLM_MODEL")
    parser.add_argument("--timeout", type=float, help="overrides LLM_TIMEOUT_S")
    parser.add_argument("--data-dir", type=Path, help="overrides BPGE_DATA_DIR (the index)")
    parser.add_argument("--ids", help="only these question ids, comma-separated")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--show", action="store_true", help="print each answer under its row")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
