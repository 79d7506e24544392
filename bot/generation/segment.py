"""Splitting the model's (growing) reply into sentences, checking each, and assembling the text to show: the
checked sentences with their separators (" ", "\\n- " for list items, "\\n\\n" between paragraphs)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.generation.verify import AnswerChecker, SentenceCheck
from bot.language import fold_keeping_punctuation
from bot.schemas import Answer, Finding, Statement
from bot.sources import Source

log = logging.getLogger(__name__)

MIN_KEPT_RATIO = 0.4  # fewer surviving sentences than this (of those that count) -> extractive

# Words that end with a dot without ending the sentence (folded).
ABBREVIATIONS = frozenset(
    [
        "sr",
        "sra",
        "srta",
        "dr",
        "dra",
        "lic",
        "mg",
        "mag",
        "ing",
        "prof",
        "nro",
        "num",
        "art",
        "pag",
        "pp",
        "ej",
        "aprox",
        "av",
        "jr",
        "mr",
        "mrs",
        "ms",
        "vs",
        "cf",
        "fig",
        "esp",
        "coord",
        "dir",
    ]
)


# A sentence ends at . ! ? … (plus closing quotes and any citations after it), followed by
# whitespace and then something that does not continue the sentence: not lower case, and not "["
# (an unfinished citation that still belongs to it).
_BOUNDARY = re.compile(r"(?P<end>[.!?…]+[\"»”’)]*(?:\s*\[[^\]\n]*\])*)(?P<ws>[ \t]+)(?=[^\s\[a-záéíóúüñ,;:])")
_BULLET = re.compile(r"^\s*(?:[-*•·–—]|\d{1,2}[.)])\s+")
_THINK = re.compile(r"<think>.*?</think>", re.S | re.IGNORECASE)


def visible_text(raw: str) -> str:
    """The reply without reasoning blocks (<think>…</think>); an unfinished one hides the rest."""
    text = _THINK.sub("", raw)
    start = text.lower().find("<think>")
    return text if start < 0 else text[:start]


def _boundary(line: str) -> re.Match[str] | None:
    for m in _BOUNDARY.finditer(line):
        before = re.sub(r"(?:\s*\[[^\]\n]*\])+\s*$", "", line[: m.start("end")])
        last = re.search(r"([^\W_]+)\W*$", before)
        token = last.group(1) if last else ""
        if m.group("end").startswith(".") and (
            (len(token) == 1 and token.isalpha())  # an initial: "J. Pérez"
            or fold_keeping_punctuation(token) in ABBREVIATIONS  # "Sr.", "N.", "p. ej."
            or (token.isdigit() and len(token) <= 2)  # a list number inside a line: "1. Planificar"
        ):
            continue
        return m
    return None


@dataclass
class SentenceAssembler:
    """Turns the growing reply into checked sentences and the text deltas to show."""

    checker: AnswerChecker
    consumed: int = 0  # characters of the visible reply already split off
    line_start: bool = True
    bullet: str = ""
    line_has_output: bool = False
    output: str = ""
    checks: list[SentenceCheck] = field(default_factory=list)

    def feed(self, visible: str, final: bool = False) -> list[str]:
        deltas: list[str] = []
        while True:
            pending = visible[self.consumed :]
            if self.line_start:
                stripped = pending.lstrip(" \t")
                if not final and len(stripped) < 4 and "\n" not in stripped:
                    break  # wait until a bullet marker can be recognised
                b = _BULLET.match(pending)
                if b and not final and "\n" not in pending and len(pending) <= b.end():
                    break  # "- " so far: wait for the item's text
                self.bullet = "- " if b else ""
                if b:
                    self.consumed += b.end()
                    pending = visible[self.consumed :]
                self.line_start = False
            nl = pending.find("\n")
            line = pending if nl < 0 else pending[:nl]
            m = _boundary(line)
            if m:
                unit, used, ends_line = line[: m.end("end")], m.end(), False
            elif nl >= 0:
                unit, used, ends_line = line, nl + 1, True
            elif final and pending.strip():
                unit, used, ends_line = pending, len(pending), True
            else:
                break
            self.consumed += used
            if unit.strip():
                delta = self._sentence(unit)
                if delta:
                    deltas.append(delta)
            if ends_line:
                self.line_start, self.line_has_output, self.bullet = True, False, ""
        return deltas

    def _sentence(self, unit: str) -> str | None:
        check = self.checker.check(unit)
        self.checks.append(check)
        if not check.ok:
            log.info("dropped generated sentence (%s): %s", check.reason, check.text)
            return None
        if not self.output:
            sep = self.bullet
        elif self.line_has_output:
            sep = " "
        else:
            sep = "\n" + self.bullet if self.bullet else "\n\n"
        self.line_has_output = True
        delta = sep + check.text
        self.output += delta
        return delta

    @property
    def kept(self) -> list[SentenceCheck]:
        return [c for c in self.checks if c.ok]

    @property
    def counted(self) -> int:
        return sum(1 for c in self.checks if c.counts or c.ok)

    def acceptable(self) -> bool:
        kept = len(self.kept)
        return kept >= 1 and kept >= MIN_KEPT_RATIO * max(self.counted, 1)


def check_reply(
    reply: str, sources: Sequence[Source], instructions: Iterable[str] = ()
) -> tuple[str, list[SentenceCheck], bool]:
    """Check a whole reply at once: (text that survives, every sentence's verdict, acceptable)."""
    assembler = SentenceAssembler(AnswerChecker(sources, instructions))
    assembler.feed(visible_text(reply), final=True)
    return assembler.output, assembler.checks, assembler.acceptable()


def findings_of(checks: Sequence[SentenceCheck], extractive: Answer) -> list[Finding]:
    """The kept sentences grouped by the practice of their first citation."""
    by_n = {s.n: s for s in extractive.sources}
    labels = {f.practice_id: (f.title, f.label) for f in extractive.findings}
    findings: dict[str, Finding] = {}
    for check in checks:
        if not check.ok:
            continue
        source = by_n[check.citations[0]]
        pid = source.practice_id
        if pid not in findings:
            where = ", ".join(source.offices)
            if source.region and fold_keeping_punctuation(source.region) not in fold_keeping_punctuation(where):
                where = f"{where} ({source.region})" if where else source.region
            default = (source.practice, f"{source.practice} — {where}" if where else source.practice)
            title, label = labels.get(pid, default)
            findings[pid] = Finding(practice_id=pid, title=title, label=label, statements=[])
        text = re.sub(r"\s*\[\d+\]", "", check.text).strip()  # the extractive Statement.text form
        findings[pid].statements.append(Statement(text=text, sources=check.citations))
    return list(findings.values())
