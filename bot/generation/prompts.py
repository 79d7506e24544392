"""The chat messages for the model, built from the prompt files in `prompts/` (`system.md`, `answer_template.md`,
`passage.md`, and `intents/<intent>.md`: how to shape the answer to what the question asks), read at start-up;
`BPGE_PROMPTS_DIR` points elsewhere."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.schemas import INTENTS, Intent
from bot.sources import Source
from indexer.models import SECTION_LABELS

PROMPTS_DIR = Path(__file__).resolve().parent.parent.parent / "prompts"

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_INSTRUCTIONS = re.compile(r"\n*\{\{\s*instrucciones\s*\}\}\n*")


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
    # The answer's shape for each intent (`bot.schemas.Intent`), put where the template says {{instrucciones}};
    # an intent without a file ('other') gets the template's generic instruction alone.
    intents: Mapping[Intent, str] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path | str | None = None) -> Prompts:
        folder = Path(folder or os.environ.get("BPGE_PROMPTS_DIR") or PROMPTS_DIR)

        def read(path: Path) -> str:
            return path.read_text(encoding="utf-8").strip()

        intents = {i: read(path) for i in INTENTS if (path := folder / "intents" / f"{i}.md").is_file()}
        return cls(
            read(folder / "system.md"), read(folder / "answer_template.md"), read(folder / "passage.md"), intents
        )

    def instructions(self, intent: Intent) -> str:
        """How to answer a question of this intent ('' for the generic answer)."""
        return self.intents.get(intent, "")

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
                "documento": _neutralise(source.document_title or source.document),
                "ubicacion": source.location(),
                "texto": _neutralise(source.text.strip()),
            },
        )
        # A metadata line left empty ("región: ") is left out.
        return re.sub(r"(?m)^(?:práctica|instancias|región|sección|experto|documento|ubicación):[ \t]*\n", "", block)

    def messages(self, question: str, sources: Sequence[Source], intent: Intent = "other") -> list[dict[str, str]]:
        """The chat messages: the system prompt, then the passages, the question and how to answer it (its
        intent's instructions) as user data."""
        passages = "\n\n".join(self.passage_block(s) for s in sources)
        instructions = self.instructions(intent)
        template = self.answer_template
        if not instructions:  # the generic answer: no gap where an intent's instructions would go
            template = _INSTRUCTIONS.sub("\n\n", template).strip()
        elif not _INSTRUCTIONS.search(template):  # a custom template without the placeholder
            template = f"{template}\n\n{{{{instrucciones}}}}"
        user = _fill(
            template, {"pasajes": passages, "pregunta": question.strip(), "instrucciones": instructions}
        ).strip()
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]
