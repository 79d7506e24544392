"""The chat messages for the model, built from the prompt files in `prompts/` (`system.md`, `answer_template.md`,
`passage.md`), read at start-up; `BPGE_PROMPTS_DIR` points elsewhere."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.sources import Source
from indexer.models import SECTION_LABELS

PROMPTS_DIR = Path(__file__).resolve().parent.parent.parent / "prompts"

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _fill(template: str, values: dict[str, str]) -> str:
    """Replace {{name}} placeholders in one pass (values are never re-parsed)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _neutralise(text: str) -> str:
    """Keep passage text from closing its <pasaje> block or faking another one."""
    return re.sub(r"<\s*(/?)\s*pasaje", r"‹\1pasaje", text, flags=re.IGNORECASE)


@dataclass(frozen=True)
class Prompts:
    system: str
    answer_template: str
    passage: str

    @classmethod
    def load(cls, folder: Path | str | None = None) -> Prompts:
        folder = Path(folder or os.environ.get("BPGE_PROMPTS_DIR") or PROMPTS_DIR)

        def read(name: str) -> str:
            return (folder / name).read_text(encoding="utf-8").strip()

        return cls(read("system.md"), read("answer_template.md"), read("passage.md"))

    def passage_block(self, source: Source) -> str:
        block = _fill(
            self.passage,
            {
                "n": str(source.n),
                "practica": _neutralise(source.practice),
                "instancias": _neutralise(", ".join(source.offices)),
                "region": _neutralise(source.region),
                "seccion": SECTION_LABELS.get(source.section, source.section),
                "experto": _neutralise(getattr(source, "expert", None) or ""),
                "texto": _neutralise(source.text.strip()),
            },
        )
        # A metadata line left empty ("región: ") is left out.
        return re.sub(r"(?m)^(?:práctica|instancias|región|sección|experto):[ \t]*\n", "", block)

    def messages(self, question: str, sources: Sequence[Source]) -> list[dict[str, str]]:
        """The chat messages: the system prompt, then the passages and the question as user data."""
        passages = "\n\n".join(self.passage_block(s) for s in sources)
        user = _fill(self.answer_template, {"pasajes": passages, "pregunta": question.strip()})
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]
