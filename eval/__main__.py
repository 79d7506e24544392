"""`python -m eval` — run the development questions through the assistant and through naive baselines over the
same chunks (BM25 alone, e5 alone, untuned reciprocal-rank fusion), and print the scores side by side, for each
question file separately and per kind of question.

    python -m eval [--questions eval/dev*.jsonl] [--data DIR] [--corpus DIR] [--verbose]
    python -m eval --cross-validate    # 5-fold cross-validated figures of the tuning procedure
    python -m eval --calibrate         # choose thresholds on all questions, write indexer/calibration.json
    python -m eval --generated         # also score generated answers (LLM_BASE_URL: a real or fake model)
    python -m eval --with-documents eval/distractors   # the same over the corpus plus other documents
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from bot.answer import abstention_reason
from bot.generation.client import AnswerGenerator
from bot.generation.events import final_answer
from bot.query import read_query
from bot.ranking import RankingConfig
from bot.retrieve import Retriever
from bot.service import Assistant
from bpge.settings import Settings
from eval.score import Gold, Outcome, Scores
from eval.tuning import Prepared, best_calibration, best_ranking, cross_validate, prepare, rank_all
from indexer.build import build_index
from indexer.calibration import CALIBRATION_PATH
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


def _titles(order: list[str]) -> list[str]:
    titles: list[str] = []
    for t in order:
        if t not in titles:
            titles.append(t)
    return titles


def run_assistant(assistant: Assistant, gold: list[Gold]) -> Scores:
    scores = Scores()
    for g in gold:
        started = time.perf_counter()
        answer = assistant.ask(g.question)
        elapsed = (time.perf_counter() - started) * 1000
        titles = _titles([s.practice for s in answer.sources])
        scores.add(g, Outcome(titles, [s.text for s in answer.sources], answer.answer, answer.abstained, elapsed))
    return scores


def run_generated(assistant: Assistant, gold: list[Gold], generator: AnswerGenerator) -> Scores:
    """The same questions through the whole pipeline with the model (`Assistant.stream`), as users get them."""

    async def run_all() -> Scores:
        scores = Scores()
        try:
            for g in gold:
                started = time.perf_counter()
                answer = await final_answer(assistant.stream(g.question, generator=generator))
                elapsed = (time.perf_counter() - started) * 1000
                titles = _titles([s.practice for s in answer.sources])
                texts = [s.text for s in answer.sources]
                scores.add(g, Outcome(titles, texts, answer.answer, answer.abstained, elapsed))
        finally:
            await generator.aclose()
        return scores

    return asyncio.run(run_all())


def run_baseline(retriever: Retriever, gold: list[Gold], kind: str) -> Scores:
    """Naive rankings of the same passages, by practice, never abstaining, the raw question (no normalisation):
    BM25 alone, the primary dense model alone, or all signals fused by reciprocal rank (k=60, one passage each)."""
    passages = retriever.passages
    naive = RankingConfig(rrf_k=60, passages_per_record=1, named_weight=0, non_practice_prior=1.0, document_prior=1.0)
    scores = Scores()
    for g in gold:
        started = time.perf_counter()
        signals = retriever.signals(g.question, None)
        if kind == "rrf":
            retriever.config, saved = naive, retriever.config
            record_scores = retriever.record_scores(read_query(g.question, retriever.catalog), signals)
            retriever.config = saved
            titles = [retriever.records[retriever.record_ids[i]].title for i in np.argsort(-record_scores)]
            best = [retriever.record_ids[i] for i in np.argsort(-record_scores)[:5]]
            texts = [p.text for rid in best for p in passages if p.record_id == rid][:5]
        else:
            values = signals["bm25" if kind == "bm25" else "dense"]
            order = sorted(values, key=lambda i: -values[i])
            titles = _titles([passages[i].practice for i in order])
            texts = [passages[i].text for i in order]
        elapsed = (time.perf_counter() - started) * 1000
        scores.add(g, Outcome(titles, texts, " ".join(texts[:1]), False, elapsed))
    return scores


def _fmt(value: float | None, latency: bool) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" if latency else f"{value:.3f}"


def print_table(results: dict[str, Scores], targets: bool = True) -> None:
    tables = {name: s.table() for name, s in results.items()}
    metrics = list(next(iter(tables.values())).keys())
    names = list(tables)
    header = f"{'metric':<22}" + "".join(f"{n:>14}" for n in names) + (f"{'target':>12}" if targets else "")
    print(header)
    print("-" * len(header))
    for m in metrics:
        row = f"{m:<22}" + "".join(f"{_fmt(tables[n][m], 'ms' in m):>14}" for n in names)
        print(row + (f"{TARGETS.get(m, ''):>12}" if targets else ""))


def print_by_kind(gold: list[Gold], scores: Scores) -> None:
    kinds = sorted({g.kind for g in gold})
    print(f"{'kind':<12}{'n':>4}{'hit@1':>8}{'MRR':>8}{'abstain ok':>12}{'false abst.':>12}")
    for kind in kinds:
        s = scores.by_kind.get(kind)
        if s is None:
            continue
        t = s.table()
        print(
            f"{kind:<12}{sum(g.kind == kind for g in gold):>4}{_fmt(t['hit@1'], False):>8}{_fmt(t['MRR'], False):>8}"
            f"{_fmt(t['abstention accuracy'], False):>12}{_fmt(t['false abstention'], False):>12}"
        )


def _load(args: argparse.Namespace) -> Assistant:
    settings = Settings().with_overrides(data_dir=args.data, corpus_dir=args.corpus)
    if args.with_documents is not None:
        settings = _with_documents(settings, args.with_documents, args.data)
    if current_build_id(settings.data_dir) is None:
        print(f"Indexando {settings.corpus_dir} en {settings.data_dir} …", file=sys.stderr)
    build_index(settings)  # no-op when the index is up to date
    assistant = Assistant.load(settings)
    assistant.warm_up()
    return assistant


def _with_documents(settings: Settings, documents: Path, data: Path | None) -> Settings:
    """The corpus with `documents` beside it, copied into a temporary folder and indexed there (unless `data` is
    given): the distractor test, where documents that answer none of the questions must change none of the scores."""
    if not documents.is_dir():
        raise SystemExit(f"--with-documents: {documents} no es una carpeta")
    folder = Path(tempfile.mkdtemp(prefix="bpge-eval-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    corpus = folder / "corpus"
    shutil.copytree(settings.corpus_dir, corpus)
    shutil.copytree(documents, corpus / "otros-documentos")
    print(f"Corpus con {documents}: {corpus}", file=sys.stderr)
    return settings.with_overrides(corpus_dir=corpus, data_dir=data or folder / "data")


def _prepared(assistant: Assistant, paths: list[Path]) -> list[Prepared]:
    gold = [(path.name, g) for path in paths for g in load_gold(path)]
    return prepare(assistant.retriever, gold)


def report_cross_validation(assistant: Assistant, paths: list[Path], k: int) -> None:
    retriever = assistant.retriever
    base = retriever.config
    items = _prepared(assistant, paths)
    results = cross_validate(retriever, items, base, k)
    print(f"{k}-fold cross-validation over {len(items)} questions ({', '.join(p.name for p in paths)})")
    columns = ("rrf_k", "per rec", "named", "dense2", "bm25", "core", "min rel", "cov w")
    print(
        f"{'fold':<6}"
        + "".join(f"{c:>9}" for c in columns)
        + f"{'topic cov':>10}{'terms w':>9}{'2nd w':>7}{'topic m':>9}"
    )
    per_source: dict[str, Scores] = {}
    for fold in results:
        c, cal = fold.config, fold.calibration
        print(
            f"{fold.fold:<6}{c.rrf_k:>9.0f}{c.passages_per_record:>9}{c.named_weight:>9.1f}"
            f"{c.signal_weights.get('dense2', 0):>9.1f}{c.signal_weights.get('bm25', 0):>9.1f}{c.core_weight:>9.1f}"
            f"{cal.min_relevance:>9.3f}{cal.coverage_weight:>9.2f}"
            f"{cal.topic_coverage:>10.3f}{cal.topic_terms_weight:>9.2f}{cal.second_weight:>7.1f}"
            f"{cal.max_topic_margin:>9.4f}"
        )
        for retrieval, p in zip(fold.retrievals, fold.items, strict=True):
            abstained = abstention_reason(retrieval, fold.calibration) is not None
            # the sources the answer lists, in its order, as users get them (the abstention is the fold's)
            answer = assistant.answer(assistant.read_turn(p.gold.question), retrieval, may_abstain=False)
            titles = _titles([s.practice for s in answer.sources])
            outcome = Outcome(titles, [s.text for s in answer.sources], "", abstained, 0.0)
            gold = p.gold if p.gold.answer_any == [] else Gold(**{**asdict(p.gold), "answer_any": []})
            per_source.setdefault(p.source, Scores()).add(gold, outcome)
            per_source.setdefault("all", Scores()).add(gold, outcome)
    print("\ncross-validated (each question scored by parameters chosen without it):")
    print_table({name: per_source[name] for name in [*(p.name for p in paths), "all"] if name in per_source}, False)
    for name in (p.name for p in paths):
        if name in per_source:
            print(f"\n{name} by kind (cross-validated)")
            print_by_kind([p.gold for p in items if p.source == name], per_source[name])


def calibrate(assistant: Assistant, paths: list[Path]) -> None:
    """Choose the ranking and the thresholds on all questions; write the model's calibration entry."""
    retriever = assistant.retriever
    items = _prepared(assistant, paths)
    config = best_ranking(retriever, items, retriever.config)
    calibration = best_calibration(rank_all(retriever, items, config), items)
    model = str(assistant.manifest().get("embedding_model"))
    data = json.loads(CALIBRATION_PATH.read_text(encoding="utf-8")) if CALIBRATION_PATH.exists() else {}
    data[model] = {
        **calibration.model_dump(),
        "note": f"python -m eval --calibrate over {len(items)} questions ({', '.join(p.name for p in paths)})",
    }
    CALIBRATION_PATH.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"ranking chosen on all questions: {config}")
    print(f"calibration of {model} written to {CALIBRATION_PATH}: {calibration.model_dump()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__)
    parser.add_argument(
        "--questions",
        type=Path,
        nargs="+",
        default=[HERE / f"{name}.jsonl" for name in ("dev", "dev2", "dev3", "dev4", "dev5", "dev6", "dev7")],
    )
    parser.add_argument("--calibration-questions", type=Path, default=HERE / "calibration.jsonl")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument(
        "--with-documents", type=Path, help="index the corpus plus this folder's documents (a temporary copy)"
    )
    parser.add_argument("--cross-validate", action="store_true", help="report k-fold cross-validated figures")
    parser.add_argument("--calibrate", action="store_true", help="write indexer/calibration.json for the model")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--verbose", action="store_true", help="list the questions each system missed")
    parser.add_argument(
        "--generated", action="store_true", help="also score generated answers (needs LLM_BASE_URL, real or fake)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    assistant = _load(args)
    tuning_paths = [*args.questions, args.calibration_questions]
    if args.calibrate:
        calibrate(assistant, tuning_paths)
        return 0
    if args.cross_validate:
        report_cross_validation(assistant, tuning_paths, args.folds)
        return 0
    generator = AnswerGenerator.from_settings(assistant.settings) if args.generated else None
    if args.generated and generator is None:
        print("--generated necesita LLM_BASE_URL (un modelo compatible con OpenAI)", file=sys.stderr)
        return 2
    for path in args.questions:
        gold = load_gold(path)
        results = {
            "assistant": run_assistant(assistant, gold),
            **({"generated": run_generated(assistant, gold, generator)} if generator is not None else {}),
            "bm25 only": run_baseline(assistant.retriever, gold, "bm25"),
            "e5 only": run_baseline(assistant.retriever, gold, "dense"),
            "naive rrf": run_baseline(assistant.retriever, gold, "rrf"),
        }
        print(f"\n{len(gold)} preguntas de {path}")
        print_table(results)
        print()
        print_by_kind(gold, results["assistant"])
        if args.verbose:
            for name, s in results.items():
                print(f"\n{name}: " + ("; ".join(s.misses) or "sin fallos"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
