"""Scoring a run of questions: practice hit@1/hit@5/MRR, evidence@5, facts, abstention, latency."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from indexer.text import fold


@dataclass
class Gold:
    id: str
    kind: str
    question: str
    expected_practices: list[str]
    evidence_any: list[str]
    answer_any: list[str]
    expect_abstain: bool

    @classmethod
    def from_json(cls, data: dict) -> Gold:
        return cls(
            id=data["id"],
            kind=data.get("kind", ""),
            question=data["question"],
            expected_practices=data.get("expected_practices", []),
            evidence_any=data.get("evidence_any", []),
            answer_any=data.get("answer_any", []),
            expect_abstain=bool(data.get("expect_abstain", False)),
        )


@dataclass
class Outcome:
    """What one system returned for one question."""

    practices: list[str]  # record titles, best first, each once
    texts: list[str]  # source texts, best first
    answer: str = ""
    abstained: bool = False
    latency_ms: float = 0.0


def same_practice(expected: str, title: str) -> bool:
    """Gold names read 'Title (offices, region)'; compare titles accent- and case-insensitively."""
    a, b = fold(expected.split(" (")[0]), fold(title)
    if not a or not b:
        return False
    if a.startswith(b[:40]) or b.startswith(a[:40]):
        return True
    wa, wb = set(a.split()), set(b.split())
    return len(wa & wb) / max(1, min(len(wa), len(wb))) >= 0.8


def _digits(text: str) -> str:
    return re.sub(r"(?<=\d)[\s.,](?=\d)", "", text)


@dataclass
class Scores:
    hit1: list[float] = field(default_factory=list)
    hit5: list[float] = field(default_factory=list)
    rr: list[float] = field(default_factory=list)
    evidence: list[float] = field(default_factory=list)
    facts: list[float] = field(default_factory=list)
    abstain_ok: list[float] = field(default_factory=list)
    false_abstain: list[float] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    by_kind: dict[str, Scores] = field(default_factory=dict)

    def add(self, gold: Gold, out: Outcome, per_kind: bool = True) -> None:
        if per_kind:
            self.by_kind.setdefault(gold.kind, Scores()).add(gold, out, per_kind=False)
        self.latency.append(out.latency_ms)
        if gold.expect_abstain:
            self.abstain_ok.append(float(out.abstained))
            if not out.abstained:
                self.misses.append(f"{gold.id}: should abstain")
            return
        self.false_abstain.append(float(out.abstained))
        if gold.expected_practices:
            rank = next(
                (
                    i + 1
                    for i, t in enumerate(out.practices)
                    if any(same_practice(e, t) for e in gold.expected_practices)
                ),
                None,
            )
            self.hit1.append(float(rank == 1))
            self.hit5.append(float(rank is not None and rank <= 5))
            self.rr.append(1.0 / rank if rank else 0.0)
            if rank != 1:
                self.misses.append(f"{gold.id}: expected practice at rank {rank}")
        if gold.evidence_any:
            text = fold(" ".join(out.texts[:5]))
            ok = any(fold(e) in text for e in gold.evidence_any)
            self.evidence.append(float(ok))
            if not ok:
                self.misses.append(f"{gold.id}: evidence not in top 5")
        if gold.answer_any:
            answer = _digits(fold(out.answer))
            ok = any(_digits(fold(a)) in answer for a in gold.answer_any)
            self.facts.append(float(ok))
            if not ok:
                self.misses.append(f"{gold.id}: answer lacks {gold.answer_any}")

    @staticmethod
    def _mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    def table(self) -> dict[str, float | None]:
        lat = sorted(self.latency)

        def pct(p: float) -> float | None:
            return lat[min(len(lat) - 1, round(p * (len(lat) - 1)))] if lat else None

        return {
            "hit@1": self._mean(self.hit1),
            "hit@5": self._mean(self.hit5),
            "MRR": self._mean(self.rr),
            "evidence@5": self._mean(self.evidence),
            "fact accuracy": self._mean(self.facts),
            "abstention accuracy": self._mean(self.abstain_ok),
            "false abstention": self._mean(self.false_abstain),
            "latency p50 ms": pct(0.5),
            "latency p95 ms": pct(0.95),
            "latency mean ms": statistics.fmean(lat) if lat else None,
        }
