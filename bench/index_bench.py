#!/usr/bin/env python
"""Indexing benchmark: build time, throughput and peak memory of `python -m indexer build`.

    python bench/index_bench.py [--markdown] [--big] [--practices 800] [--seed 1]

Runs, each as a subprocess (`python -m indexer build --corpus DIR --data DIR [--rebuild] --json-summary`):

  (a) the shipped corpus, full build (--rebuild), model load included;
  (b) the shipped corpus again, unchanged (no --rebuild): must reuse everything;
  (c) a synthetic corpus of 800 practices (bench/synthetic.py), full build;
  (d) with --big, a synthetic corpus of 8,000 practices, full build.

Wall time is measured here (process start to exit); peak RSS is the larger of the process tree's
summed RSS polled every 0.1 s and the kernel's max RSS of the child (see benchlib.run_measured).
Corpora and index folders live under bench/out/ (git-ignored). Prints a table (Markdown with
--markdown); exits 1 if a build failed, 0 otherwise (missed targets are shown, not fatal).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import OUT, REPO, build_cmd, format_table, machine_line, run_measured, synthetic_corpus

RSS_TARGET_MB = 2048
# The retrieval issue's targets on 2 cores: shipped corpus ≤ 90 s (first model conversion included), 800 practices
# ≤ 15 min.
SHIPPED_S = 90
SYNTHETIC_800_S = 900
HEADERS = [
    "corpus",
    "documents",
    "practices",
    "chunks",
    "embedded",
    "seconds",
    "chunks/s",
    "peak RSS MB",
    "load",
    "target",
    "met",
]


def bench_build(label: str, corpus: Path, data: Path, rebuild: bool, target_s: float, timeout_s: float) -> dict:
    shown = corpus.relative_to(REPO) if corpus.is_relative_to(REPO) else corpus
    print(
        f"[bench] {label}: indexer build {'--rebuild ' if rebuild else ''}{shown}",
        file=sys.stderr,
        flush=True,
    )
    result = run_measured(build_cmd(corpus, data, rebuild), timeout_s=timeout_s)
    summary = result.last_json() or {}
    ok = result.returncode == 0 and bool(summary)
    row = {
        "corpus": label,
        "documents": summary.get("documents", "?"),
        "practices": summary.get("practices", "?"),
        "chunks": summary.get("chunks", "?"),
        "embedded": summary.get("embedded", "?"),
        "seconds": result.seconds,
        "cli_seconds": summary.get("seconds"),
        "peak_rss_mb": result.peak_rss_mb,
        "target_s": target_s,
        "ok": ok,
        "returncode": result.returncode,
        "timed_out": result.timed_out,
        "load": result.mean_load,
    }
    if not ok:
        tail = (result.stderr.strip() or result.stdout.strip())[-2000:]
        why = "timed out" if result.timed_out else f"exit {result.returncode}"
        print(f"[bench] {label}: build FAILED ({why}); last output:\n{tail}", file=sys.stderr)
    else:
        print(
            f"[bench] {label}: {result.seconds:.1f} s wall (CLI says {summary.get('seconds')} s), "
            f"peak RSS {result.peak_rss_mb:.0f} MB",
            file=sys.stderr,
        )
    return row


def table_rows(rows: list[dict]) -> list[list[object]]:
    out = []
    for r in rows:
        chunks = r["chunks"] if isinstance(r["chunks"], int) else None
        rate = f"{chunks / r['seconds']:.1f}" if chunks is not None and r["seconds"] > 0 else "—"
        missed = []
        if not r["ok"]:
            missed.append("FAILED" if not r["timed_out"] else "TIMEOUT")
        if r["seconds"] > r["target_s"]:
            missed.append("time")
        if r["peak_rss_mb"] > RSS_TARGET_MB:
            missed.append("RSS")
        out.append(
            [
                r["corpus"],
                r["documents"],
                r["practices"],
                r["chunks"],
                r["embedded"],
                f"{r['seconds']:.1f}",
                rate,
                f"{r['peak_rss_mb']:.0f}",
                f"{r['load']:.1f}",
                f"≤ {r['target_s']:g} s, ≤ {RSS_TARGET_MB} MB",
                "yes" if not missed else "NO (" + ", ".join(missed) + ")",
            ]
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--markdown", action="store_true", help="print the table in Markdown (for the README)")
    ap.add_argument("--big", action="store_true", help="also a synthetic corpus of --big-practices (8,000)")
    ap.add_argument("--practices", type=int, default=800, help="size of the synthetic corpus (c)")
    ap.add_argument("--big-practices", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", type=Path, default=REPO / "corpus", help="the shipped corpus")
    ap.add_argument("--no-synthetic", action="store_true", help="only the shipped corpus (a, b)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds allowed per build")
    ap.add_argument("--keep", action="store_true", help="keep the index folders under bench/out/ afterwards")
    args = ap.parse_args(argv)

    # SIGTERM to this script must still stop a running build (run_measured kills it on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    data_root = OUT / "index-bench"
    if data_root.exists():
        shutil.rmtree(data_root)
    data_root.mkdir(parents=True)
    rows: list[dict] = []
    try:
        shipped = data_root / "shipped"
        rows.append(
            bench_build("shipped, full (--rebuild)", args.corpus.resolve(), shipped, True, SHIPPED_S, args.timeout)
        )
        rows.append(bench_build("shipped, unchanged re-run", args.corpus.resolve(), shipped, False, 5, args.timeout))
        if not args.no_synthetic:
            corpus = synthetic_corpus(args.practices, args.seed)
            rows.append(
                bench_build(
                    f"synthetic {args.practices}, full",
                    corpus,
                    data_root / f"syn{args.practices}",
                    True,
                    SYNTHETIC_800_S,
                    args.timeout,
                )
            )
        if args.big:
            corpus = synthetic_corpus(args.big_practices, args.seed)
            # No target was set for 8,000; the 800 target scaled linearly is shown.
            rows.append(
                bench_build(
                    f"synthetic {args.big_practices}, full",
                    corpus,
                    data_root / f"syn{args.big_practices}",
                    True,
                    SYNTHETIC_800_S * args.big_practices / 800,
                    args.timeout,
                )
            )
    finally:
        if not args.keep:
            shutil.rmtree(data_root, ignore_errors=True)

    print(f"\nIndexing benchmark — {datetime.now():%Y-%m-%d %H:%M} — {machine_line()}")
    print("seconds: wall time of the whole `python -m indexer build` process (start-up and model load included);")
    print(f"load: mean 1-minute load average during the build ({os.cpu_count()} CPUs; the build itself counts ~1–2)\n")
    print(format_table(HEADERS, table_rows(rows), markdown=args.markdown))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
