"""Shared helpers of the benchmark scripts: measured subprocesses, synthetic corpora, tables."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"  # git-ignored
POLL_S = 0.1


def tree_rss(proc: psutil.Process) -> int:
    """RSS of a process and all its descendants, in bytes (processes that vanish count 0)."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


class RssSampler:
    """Polls the summed RSS of a process tree every POLL_S seconds in a thread; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.last = 0
        self.loads: list[float] = []  # the 1-minute load average, sampled: how busy the machine was
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = tree_rss(self.proc)
            if rss:
                self.last = rss
                self.peak = max(self.peak, rss)
            self.loads.append(os.getloadavg()[0])
            self._stop.wait(POLL_S)

    @property
    def mean_load(self) -> float:
        return sum(self.loads) / len(self.loads) if self.loads else os.getloadavg()[0]

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


@dataclass
class RunResult:
    cmd: list[str]
    returncode: int
    seconds: float
    peak_rss_mb: float  # max(polled peak of the tree's summed RSS, the kernel's max RSS of the child)
    stdout: str
    stderr: str
    timed_out: bool = False
    mean_load: float = 0.0  # mean 1-minute load average during the run (the run itself counts ~1–2)

    def last_json(self) -> dict | None:
        """The last stdout line that parses as a JSON object (the CLI's --json-summary)."""
        for line in reversed(self.stdout.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    return json.loads(line)
                except json.JSONDecodeError:
                    continue
        return None


def kill_tree(pid: int, sig: int = signal.SIGTERM, grace_s: float = 5.0) -> None:
    """Stop a process and its descendants (the ones this script started), politely then firmly."""
    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.send_signal(sig)
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()


def run_measured(cmd: list[str], timeout_s: float = 3600, env: dict[str, str] | None = None) -> RunResult:
    """Run `cmd` in the repo root; wall time and peak RSS of its process tree.

    Peak RSS is the larger of (a) the summed RSS of the process and its children, polled every 0.1 s,
    and (b) the child's own maximum RSS as the kernel accounts it (os.wait4's rusage, in KiB on Linux),
    which catches a peak shorter than the polling interval.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err, env=env, text=True)
        sampler = RssSampler(proc.pid)
        deadline = t0 + timeout_s
        timed_out = False
        status = None
        rusage = None
        try:
            while True:
                pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    timed_out = True
                    kill_tree(proc.pid)
                    _, status, rusage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.02)
        except BaseException:
            kill_tree(proc.pid)
            raise
        finally:
            polled = sampler.stop()
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        kernel_peak = rusage.ru_maxrss * 1024 if rusage else 0
        out.seek(0)
        err.seek(0)
        return RunResult(
            cmd=cmd,
            returncode=proc.returncode,
            seconds=seconds,
            peak_rss_mb=max(polled, kernel_peak) / 2**20,
            stdout=out.read(),
            stderr=err.read(),
            timed_out=timed_out,
            mean_load=sampler.mean_load,
        )


def synthetic_corpus(practices: int, seed: int = 1, root: Path = OUT) -> Path:
    """A synthetic corpus of `practices` sheets under bench/out (generated once per size and seed)."""
    folder = root / f"corpus-syn{practices}-seed{seed}"
    marker = folder / ".complete"  # hidden: not indexed
    generator = Path(__file__).with_name("synthetic.py")
    stamp = f"{practices} {seed} {hashlib.sha256(generator.read_bytes()).hexdigest()}\n"
    if not marker.exists() or marker.read_text() != stamp:
        sys.path.insert(0, str(Path(__file__).parent))
        import synthetic

        t0 = time.perf_counter()
        synthetic.generate(practices, folder, seed=seed)
        marker.write_text(stamp)
        print(
            f"[bench] generated {practices} synthetic practices in {folder} ({time.perf_counter() - t0:.1f} s)",
            file=sys.stderr,
        )
    return folder


def format_table(headers: list[str], rows: list[list[object]], markdown: bool = False) -> str:
    cells = [[str(c) for c in row] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*headers), "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*row) for row in cells]
    return "\n".join(lines)


def machine_line() -> str:
    import platform

    cpus = os.cpu_count()
    mem = psutil.virtual_memory().total / 2**30
    gpu = ""
    if shutil.which("nvidia-smi"):
        try:
            names = subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=20
            ).stdout.strip()
            gpu = f", GPU {names.splitlines()[0]}" if names else ""
        except (OSError, subprocess.SubprocessError):
            pass
    return f"{platform.node()}: {cpus} CPUs, {mem:.0f} GiB RAM, Python {platform.python_version()}{gpu}"


def build_cmd(corpus: Path, data: Path, rebuild: bool = False) -> list[str]:
    """`python -m indexer build` of `corpus` into `data`, quiet, with its JSON summary on stdout."""
    cmd = [
        sys.executable,
        "-m",
        "indexer",
        "build",
        "--corpus",
        str(corpus),
        "--data",
        str(data),
        "--quiet",
        "--json-summary",
    ]
    return cmd + (["--rebuild"] if rebuild else [])
