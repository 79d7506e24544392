#!/usr/bin/env python
"""Web API latency benchmark: `POST /api/ask` against `python -m bot serve`.

    python bench/api_bench.py [--requests 200] [--warmup 10] [--markdown] [--practices 800] [--no-synthetic]

For the shipped corpus and a synthetic corpus of 800 practices (bench/synthetic.py), each in turn:
builds the index first with the indexer CLI (`python -m indexer build --corpus DIR --data DIR`),
starts `python -m bot serve --port P --data DIR --corpus DIR`, waits for `GET /healthz` to answer
200, sends --warmup questions and then --requests questions sequentially (the questions of
eval/dev.jsonl, cycled) as `{"question": ...}`, and measures client-side latency. The server's RSS
(the server process and its children, summed) is polled every 0.1 s during the measured requests;
the peak is reported. The server is always stopped at the end, also on error or Ctrl-C.

LLM_* variables are removed from the server's environment (extractive answers: retrieval latency,
not a remote model's), unless --keep-llm-env; TELEGRAM_* ones always (no Telegram bot is started).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import (
    OUT,
    REPO,
    RssSampler,
    build_cmd,
    format_table,
    kill_tree,
    machine_line,
    run_measured,
    synthetic_corpus,
)

P50_TARGET_MS, P95_TARGET_MS, RSS_TARGET_MB = 200, 500, 1536
HEADERS = [
    "corpus",
    "requests",
    "errors",
    "abstained",
    "p50 ms",
    "p95 ms",
    "max ms",
    "server RSS MB",
    "load",
    "target",
    "met",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def load_questions(path: Path) -> list[str]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line).get("question")
            if q:
                questions.append(q)
    if not questions:
        raise SystemExit(f"no questions in {path}")
    return questions


class Server:
    """`python -m bot serve` as a subprocess in its own session; stop() always ends the whole tree."""

    def __init__(self, corpus: Path, data: Path, port: int, log_path: Path, env: dict[str, str]) -> None:
        self.port = port
        self.log_path = log_path
        self.cmd = [
            sys.executable,
            "-m",
            "bot",
            "serve",
            "--port",
            str(port),
            "--data",
            str(data),
            "--corpus",
            str(corpus),
        ]
        self.log = log_path.open("w")
        self.proc = subprocess.Popen(
            self.cmd, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        self.url = f"http://127.0.0.1:{port}"

    def wait_healthy(self, timeout_s: float) -> float:
        t0 = time.perf_counter()
        with httpx.Client(timeout=5) as client:
            while time.perf_counter() - t0 < timeout_s:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"server exited with {self.proc.returncode} before /healthz answered; "
                        f"log: {self.log_path}\n{self.log_tail()}"
                    )
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return time.perf_counter() - t0
                except httpx.HTTPError:
                    pass
                time.sleep(0.25)
        raise RuntimeError(
            f"/healthz did not answer 200 within {timeout_s:.0f} s; log: {self.log_path}\n{self.log_tail()}"
        )

    def log_tail(self, chars: int = 3000) -> str:
        self.log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            kill_tree(self.proc.pid, signal.SIGTERM, grace_s=10)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_tree(self.proc.pid, signal.SIGKILL, grace_s=5)
        self.log.close()


def bench_corpus(
    label: str, corpus: Path, data: Path, questions: list[str], args: argparse.Namespace, env: dict[str, str]
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "corpus": label,
        "requests": 0,
        "errors": 0,
        "abstained": 0,
        "latencies": [],
        "rss_mb": 0.0,
        "failed": None,
        "load": None,
    }
    print(f"[bench] {label}: building the index in {data}", file=sys.stderr, flush=True)
    build = run_measured(build_cmd(corpus, data), timeout_s=args.build_timeout)
    if build.returncode != 0:
        row["failed"] = f"index build failed (exit {build.returncode})"
        print(f"[bench] {label}: {row['failed']}:\n{(build.stderr or build.stdout)[-2000:]}", file=sys.stderr)
        return row
    summary = build.last_json() or {}
    print(
        f"[bench] {label}: index built in {build.seconds:.1f} s ({summary.get('practices', '?')} practices, "
        f"{summary.get('chunks', '?')} chunks)",
        file=sys.stderr,
    )

    server = Server(corpus, data, free_port(), OUT / f"api-bench-{label.split()[0]}.log", env)
    try:
        waited = server.wait_healthy(args.start_timeout)
        print(f"[bench] {label}: server healthy after {waited:.1f} s (pid {server.proc.pid})", file=sys.stderr)
        with httpx.Client(base_url=server.url, timeout=args.request_timeout) as client:
            for i in range(args.warmup):
                client.post("/api/ask", json={"question": questions[i % len(questions)]})
            sampler = RssSampler(server.proc.pid)
            try:
                for i in range(args.requests):
                    q = questions[(args.warmup + i) % len(questions)]
                    t0 = time.perf_counter()
                    response: httpx.Response | Exception
                    try:
                        response = client.post("/api/ask", json={"question": q})
                        ok = response.status_code == 200
                        if ok and response.json().get("abstained"):
                            row["abstained"] += 1
                    except (httpx.HTTPError, ValueError) as exc:
                        ok = False
                        response = exc
                    elapsed_ms = (time.perf_counter() - t0) * 1000
                    row["requests"] += 1
                    if ok:
                        row["latencies"].append(elapsed_ms)
                    else:
                        row["errors"] += 1
                        if row["errors"] <= 3:
                            detail = (
                                f"HTTP {response.status_code}: {response.text[:300]}"
                                if isinstance(response, httpx.Response)
                                else repr(response)
                            )
                            print(f"[bench] {label}: request {i} failed: {detail}", file=sys.stderr)
            finally:
                row["rss_mb"] = sampler.stop() / 2**20
                row["load"] = sampler.mean_load
    except RuntimeError as exc:
        row["failed"] = "server did not start"
        print(f"[bench] {label}: {exc}", file=sys.stderr)
    finally:
        server.stop()
    return row


def table_rows(rows: list[dict]) -> list[list[object]]:
    out = []
    for r in rows:
        lat = r["latencies"]
        if lat:
            p50, p95, mx = percentile(lat, 50), percentile(lat, 95), max(lat)
            cells = [f"{p50:.0f}", f"{p95:.0f}", f"{mx:.0f}", f"{r['rss_mb']:.0f}"]
        else:
            p50 = p95 = math.inf
            cells = ["—", "—", "—", f"{r['rss_mb']:.0f}" if r["rss_mb"] else "—"]
        missed = []
        if r["failed"]:
            missed.append(r["failed"])
        if r["errors"]:
            missed.append(f"{r['errors']} errors")
        if lat and p50 > P50_TARGET_MS:
            missed.append("p50")
        if lat and p95 > P95_TARGET_MS:
            missed.append("p95")
        if r["rss_mb"] > RSS_TARGET_MB:
            missed.append("RSS")
        load = f"{r['load']:.1f}" if r["load"] is not None else "—"
        out.append(
            [
                r["corpus"],
                r["requests"],
                r["errors"],
                r["abstained"],
                *cells,
                load,
                f"p50 ≤ {P50_TARGET_MS}, p95 ≤ {P95_TARGET_MS}, ≤ {RSS_TARGET_MB} MB",
                "yes" if not missed else "NO (" + ", ".join(missed) + ")",
            ]
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--questions", type=Path, default=REPO / "eval" / "dev.jsonl")
    ap.add_argument("--corpus", type=Path, default=REPO / "corpus", help="the shipped corpus")
    ap.add_argument("--practices", type=int, default=800, help="size of the synthetic corpus")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-synthetic", action="store_true", help="only the shipped corpus")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--build-timeout", type=float, default=3600)
    ap.add_argument("--start-timeout", type=float, default=600, help="seconds to wait for /healthz")
    ap.add_argument("--request-timeout", type=float, default=60)
    ap.add_argument("--keep-llm-env", action="store_true", help="let the server see LLM_* variables")
    ap.add_argument("--keep", action="store_true", help="keep the index folders under bench/out/")
    args = ap.parse_args(argv)

    questions = load_questions(args.questions)
    env = dict(os.environ)
    if not args.keep_llm_env:
        for key in [k for k in env if k.startswith("LLM_")]:
            del env[key]
    for key in [k for k in env if k.startswith("TELEGRAM_")]:  # no Telegram bot beside the web app
        del env[key]
    for key in ("BPGE_PORT", "BPGE_DATA_DIR", "BPGE_CORPUS_DIR"):
        env.pop(key, None)

    # SIGTERM to this script must still stop the server (the finally blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    data_root = OUT / "api-bench"
    if data_root.exists():
        shutil.rmtree(data_root)
    data_root.mkdir(parents=True)
    rows = []
    try:
        rows.append(bench_corpus("shipped", args.corpus.resolve(), data_root / "shipped", questions, args, env))
        if not args.no_synthetic:
            corpus = synthetic_corpus(args.practices, args.seed)
            rows.append(
                bench_corpus(
                    f"synthetic {args.practices}", corpus, data_root / f"syn{args.practices}", questions, args, env
                )
            )
    finally:
        if not args.keep:
            shutil.rmtree(data_root, ignore_errors=True)

    print(f"\nAPI latency benchmark — {datetime.now():%Y-%m-%d %H:%M} — {machine_line()}")
    print(
        f"{args.requests} sequential POST /api/ask after {args.warmup} warm-up requests; questions of "
        f"{args.questions.relative_to(REPO) if args.questions.is_relative_to(REPO) else args.questions}, cycled; "
        f"latency measured by the client; abstained: answers that found no support (sanity check);\n"
        f"server RSS: peak of the server process tree during the measured requests; load: mean 1-minute load "
        f"average meanwhile ({os.cpu_count()} CPUs; the server and this client count ~1)\n"
    )
    print(format_table(HEADERS, table_rows(rows), markdown=args.markdown))
    return 0 if all(not r["failed"] and not r["errors"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
