"""`python -m eval --generated` scores generated answers, here against the fake OpenAI-compatible server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.__main__ import main
from tests.fakes.llm_server import FakeLLM, Reply
from tests.support import CORPUS

HERE = Path(__file__).resolve().parents[1] / "eval"


def test_eval_scores_generated_answers(
    shipped_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [json.loads(line) for line in (HERE / "dev.jsonl").read_text(encoding="utf-8").splitlines()[:2]]
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    with FakeLLM() as llm:
        llm.reply = Reply("La región Ayacucho presenta alta exposición a peligros de origen natural. [1]")
        monkeypatch.setenv("LLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("LLM_MODEL", "fake")
        code = main(
            ["--generated", "--questions", str(questions), "--data", str(shipped_data_dir), "--corpus", str(CORPUS)]
        )
        assert code == 0
        assert len(llm.requests) == len(rows)  # every answer went through the model
    out = capsys.readouterr().out
    assert "generated" in out.splitlines()[2]  # the table has a column for the generated answers


def test_eval_generated_needs_a_model(shipped_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    assert main(["--generated", "--data", str(shipped_data_dir), "--corpus", str(CORPUS)]) == 2
