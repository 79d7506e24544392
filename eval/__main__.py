"""`python -m eval` — run the gold questions through the assistant and through BM25-only and dense-only
baselines over the same chunks, and print the scores side by side.

    python -m eval [--questions eval/dev.jsonl] [--data DIR] [--corpus DIR] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from bot.lexical import analyze
from bot.service import Assistant
from eval.score import Gold, Outcome, Scores
from indexer.build import build_index
from indexer.settings import Settings
from indexer.store import current_build_id

HERE = Path(__file__).resolve().parent
TARGETS = {
    "hit@1": ">= 0.95",
    "MRR": ">= 0.97",
    "evidence@5": ">= 0.95",
    "fact accuracy": ">= 0.90",
    "abstention accuracy": ">= 0.90",
    "false abstention": "<= 0.05",
    "latency p50 ms": "<= 200",
    "latency p95 ms": "<= 500",
}


def load_gold(path: Path) -> list[Gold]:
    return [Gold.from_json(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_assistant(assistant: Assistant, gold: list[Gold]) -> Scores:
    scores = Scores()
    for g in gold:
        started = time.perf_counter()
        answer = assistant.ask(g.question)
        elapsed = (time.perf_counter() - started) * 1000
        titles: list[str] = []
        for s in answer.sources:
            if s.practice not in titles:
                titles.append(s.practice)
        scores.add(g, Outcome(titles, [s.text for s in answer.sources], answer.answer, answer.abstained, elapsed))
    return scores


def run_baseline(assistant: Assistant, gold: list[Gold], kind: str) -> Scores:
    """Plain BM25 or plain dense ranking of the same passages, grouped by record; never abstains."""
    retriever = assistant._ensure_current().retriever
    passages = retriever.passages
    scores = Scores()
    for g in gold:
        started = time.perf_counter()
        if kind == "bm25":
            values = retriever.lexical.scores(analyze(g.question))
            order = [int(i) for i in np.argsort(-values)[:50]]
        else:
            dense = retriever._dense(g.question, None)
            order = sorted(dense, key=lambda i: -dense[i])
        elapsed = (time.perf_counter() - started) * 1000
        titles: list[str] = []
        for i in order:
            if passages[i].practice not in titles:
                titles.append(passages[i].practice)
        texts = [passages[i].text for i in order]
        scores.add(g, Outcome(titles, texts, " ".join(texts[:1]), False, elapsed))
    return scores


def _fmt(value: float | None, latency: bool) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" if latency else f"{value:.3f}"


def print_table(results: dict[str, Scores]) -> None:
    tables = {name: s.table() for name, s in results.items()}
    metrics = list(next(iter(tables.values())).keys())
    names = list(tables)
    header = f"{'metric':<22}" + "".join(f"{n:>14}" for n in names) + f"{'target':>12}"
    print(header)
    print("-" * len(header))
    for m in metrics:
        row = f"{m:<22}" + "".join(f"{_fmt(tables[n][m], 'ms' in m):>14}" for n in names)
        print(row + f"{TARGETS.get(m, ''):>12}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__)
    parser.add_argument("--questions", type=Path, default=HERE / "dev.jsonl")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--verbose", action="store_true", help="list the questions each system missed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = Settings().with_overrides(data_dir=args.data, corpus_dir=args.corpus)
    if current_build_id(settings.data_dir) is None:
        print(f"Indexando {settings.corpus_dir} en {settings.data_dir} …", file=sys.stderr)
    build_index(settings)  # no-op when the index is up to date
    assistant = Assistant.load(settings)
    assistant.warm_up()
    gold = load_gold(args.questions)
    results = {
        "assistant": run_assistant(assistant, gold),
        "bm25 only": run_baseline(assistant, gold, "bm25"),
        "dense only": run_baseline(assistant, gold, "dense"),
    }
    print(f"{len(gold)} preguntas de {args.questions}")
    print_table(results)
    if args.verbose:
        for name, s in results.items():
            print(f"\n{name}: " + ("; ".join(s.misses) or "sin fallos"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
