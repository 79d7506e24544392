"""Extractive answers: the sentences of the retrieved passages that answer the question, each with its [n].

No sentence is written without a source: every statement is a sentence (or list item) copied from a
passage that is returned among the sources, followed by that source's number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bot.language import analyze
from bot.retrieve import Hit, RecordHits, Retrieval
from bot.schemas import Answer, Finding, Statement
from bot.sources import Source, record_label
from bot.texts import text
from bot.topics import TopicMatch
from bot.windows import SectionWindows
from indexer.calibration import Calibration
from indexer.models import EXPERT_SECTIONS, Record
from indexer.text import fold

LIST_RATIO = 0.7  # other records join a "which practices…" answer when within this share of the best score
MAX_FINDINGS = 3
FULL_COVERAGE = 0.999  # share of the question's topic terms (IDF-weighted) found in the best practice
MAX_SENTENCE_CHARS = 420
# Passages among the sources: the best practice's first ones, then one of each other practice, so the first five
# sources show what the best practice did and still name the alternatives. A practice answered alone gets more.
BEST_PASSAGES = 3
BEST_PASSAGES_ALONE = 4
OTHER_PASSAGES = 1

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÁÉÍÓÚÑ¿¡\"“(0-9+])")
_NAME_OR_EMAIL = re.compile(r"@|\b[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+\s+[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+")


def relevance(retrieval: Retrieval, calibration: Calibration) -> float:
    return retrieval.top_cosine + calibration.coverage_weight * retrieval.coverage


def named_records(retrieval: Retrieval) -> list[Record]:
    """The retrieved practices the question names: by office or title, else by region («…en el Callao»)."""
    return [r.record for r in retrieval.records if r.record.id in retrieval.named]


def topic_margin(match: TopicMatch, retrieval: Retrieval, calibration: Calibration) -> float:
    """How much nearer the question is to a topic than to its best practice: in meaning (e5) and in words."""
    terms = match.terms - retrieval.coverage
    return match.cosine - retrieval.top_cosine + calibration.topic_terms_weight * terms


def uncovered_topics(retrieval: Retrieval, calibration: Calibration) -> list[TopicMatch]:
    """The topics the corpus does not cover that a question is about, closest first: empty unless the nearest
    uncovered topic of the field's catalog is nearer to the question than the best practice by the margin; then
    every uncovered topic that is (what a refusal names)."""
    uncovered = [m for m in retrieval.topics if m.coverage < calibration.topic_coverage]  # closest first
    about = [m for m in uncovered if topic_margin(m, retrieval, calibration) > calibration.max_topic_margin]
    return about if about and about[0] is uncovered[0] else []


def uncovered_topic(retrieval: Retrieval, calibration: Calibration) -> TopicMatch | None:
    """The topic a question is about when the corpus does not cover it (the first of `uncovered_topics`)."""
    about = uncovered_topics(retrieval, calibration)
    return about[0] if about else None


def abstention_reason(retrieval: Retrieval, calibration: Calibration) -> str | None:
    """Why the corpus cannot answer (a key of the abstention texts), or None when it can.

    Only when nothing is close: a question in unusual words about a topic the corpus covers is answered with
    the closest practices (see `is_close_only`)."""
    query = retrieval.query
    if not retrieval.records:
        return "nothing"
    named = named_records(retrieval)
    named_known = bool(named) or any(r not in retrieval.missing_regions for r in query.regions)
    if query.regions and len(retrieval.missing_regions) == len(query.regions) and not query.office_records:
        return "region"
    if named and "expert" in query.section_cues and not any(r.has_expert_commentary for r in named):
        return "no_experts"
    if (
        named
        and query.section_cues == {"contacts"}
        and not any(s.type == "contacts" for r in named for s in r.sections)
    ):
        return "no_contacts"
    if query.asks_figure and not query.english and retrieval.passage_coverage < calibration.min_figure_coverage:
        return "no_figure"
    if named_known or retrieval.filtered:
        return None
    if query.english:
        return None if retrieval.top_cosine >= calibration.min_english_cosine else "nothing"
    if uncovered_topic(retrieval, calibration) is not None:
        return "topic"
    if retrieval.coverage >= FULL_COVERAGE:
        return None  # every topic word is in the best practice (a person's full name, a title): it is about it
    return None if relevance(retrieval, calibration) >= calibration.min_relevance else "nothing"


def is_close_only(retrieval: Retrieval, calibration: Calibration) -> bool:
    """Relevant enough to show, not enough to say a practice addresses exactly this."""
    query = retrieval.query
    if query.office_records or query.regions or retrieval.filtered or query.english:
        return False
    return relevance(retrieval, calibration) < calibration.close_relevance


def split_sentences(passage_text: str) -> list[str]:
    """Sentences of a passage (list items split too), without list markers or lead-ins ending in ':'."""
    out: list[str] = []
    for line in passage_text.split("\n"):
        item = re.sub(r"^[-•]\s*", "", line.strip())
        out.extend(s.strip() for s in _SENTENCE_END.split(item) if s.strip() and not s.strip().endswith(":"))
    return out


def contact_entries(passage_text: str) -> list[str]:
    """'Name, role (correo: x@y)' for each contact of a contacts passage."""
    entries: list[str] = []
    current: list[str] = []
    for line in (raw.strip() for raw in passage_text.split("\n")):
        if not line:
            continue
        if "@" in line:
            email = re.sub(r"(?i)^correo\s*:?\s*", "", line)
            entries.append(f"{', '.join(current)} (correo: {email})" if current else email)
            current = []
        else:
            current.append(line)
    if current:
        entries.append(", ".join(current))
    return entries


def _shorten(sentence: str) -> str:
    sentence = sentence.strip().rstrip(":")
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return sentence
    cut = sentence[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;: ") + "…"


@dataclass
class _Candidate:
    sentence: str
    hit: Hit
    score: float


class AnswerComposer:
    """Turns a retrieval into an Answer; `encode` embeds sentences to compare them with the question, `windows`
    widens the passages cited into their sources."""

    def __init__(
        self,
        encode: Callable[[list[str]], np.ndarray],
        covered: Callable[[], str],
        calibration: Calibration,
        windows: SectionWindows,
    ) -> None:
        self._encode = encode
        self._windows = windows
        self._covered = covered
        self.calibration = calibration

    def abstain(self, question: str, retrieval: Retrieval | None, reason: str) -> Answer:
        if reason == "region" and retrieval is not None:
            message = text("abstain_region", regions=", ".join(retrieval.missing_regions), covered=self._covered())
        elif reason == "topic" and retrieval is not None:
            labels = [m.label for m in uncovered_topics(retrieval, self.calibration)][:2]
            topics = text("topics_two", first=labels[0], second=labels[1]) if len(labels) > 1 else labels[0]
            message = text("abstain_topic", topics=topics, covered=self._covered())
        elif reason in {"no_experts", "no_contacts", "no_figure"} and retrieval is not None and retrieval.records:
            named = named_records(retrieval)
            record = named[0] if named else retrieval.records[0].record
            message = text(f"abstain_{reason}", practice=record_label(record), covered=self._covered())
        else:
            message = text("abstain", covered=self._covered())
        return Answer(question=question, answer=message, abstained=True)

    def compose(self, question: str, retrieval: Retrieval, k: int = 5) -> Answer:
        reason = abstention_reason(retrieval, self.calibration)
        if reason:
            return self.abstain(question, retrieval, reason)
        chosen = self._chosen_records(retrieval)
        sources, cited = self._sources(retrieval, chosen, k)
        hits = [h for h, _ in cited]
        number = {id(h): n for h, n in cited}
        findings: list[Finding] = []
        for i, record_hits in enumerate(chosen):
            own = [h for h in hits if h.passage.record_id == record_hits.record.id]
            limit = 2 if (i == 0 and len(chosen) == 1) or retrieval.query.wants_person else 1
            statements = self._statements(retrieval, own, number, limit)
            if statements:
                findings.append(
                    Finding(
                        practice_id=record_hits.record.id,
                        title=record_hits.record.title,
                        label=record_label(record_hits.record),
                        statements=statements,
                    )
                )
        if not findings:
            return self.abstain(question, retrieval, "nothing")
        if is_close_only(retrieval, self.calibration):
            intro = text("intro_closest")
        else:
            intro = text("intro_many") if len(findings) > 1 else ""
        answer = Answer(question=question, answer="", abstained=False, sources=sources, findings=findings, intro=intro)
        answer.answer = render_plain(answer)
        return answer

    # ------------------------------------------------------------ choosing

    @staticmethod
    def _chosen_records(retrieval: Retrieval) -> list[RecordHits]:
        query = retrieval.query
        records = retrieval.records
        single = (
            bool(query.office_records)
            or query.wants_figure
            or (query.wants_person and not query.section_cues - {"contacts", "expert"})
        )
        if single or len(records) == 1:
            return records[:1]
        best = records[0]
        return [best] + [r for r in records[1:MAX_FINDINGS] if r.score >= LIST_RATIO * best.score]

    chosen_records = _chosen_records  # the practices an answer is about (public for bot.plans)

    def sources(self, retrieval: Retrieval, k: int = 5) -> list[Source]:
        """The sources an answer to `retrieval` cites first (eval scores them without composing)."""
        return self._sources(retrieval, self._chosen_records(retrieval), k)[0]

    def _sources(
        self, retrieval: Retrieval, chosen: list[RecordHits], k: int
    ) -> tuple[list[Source], list[tuple[Hit, int]]]:
        """The chosen records' passages first, in their order, then the others'; each widened to its window
        (`bot.windows`), a passage already inside an earlier source's window not shown again. Returned with every
        retrieved passage the sources hold and the number of the source that holds it: statements are taken from
        the passages that were found, and cite the source that shows them."""
        size = max(k, len(chosen))
        sources: list[Source] = []
        held: dict[str, int] = {}  # passage id → number of the source whose window holds it
        cited: list[tuple[Hit, int]] = []

        def take(hit: Hit, may_add: bool = True) -> bool:
            """Cite `hit`; True when it became a new source."""
            if any(hit is h for h, _ in cited):
                return False
            if hit.passage.id in held:
                cited.append((hit, held[hit.passage.id]))
                return False
            if not may_add or len(sources) >= size:
                return False
            window = self._windows.around(hit.passage, held.keys())
            n = len(sources) + 1
            sources.append(Source.from_passage(n, window.passage, hit.score))
            held.update(dict.fromkeys(window.members, n))
            cited.append((hit, n))
            return True

        best = BEST_PASSAGES_ALONE if len(chosen) == 1 else BEST_PASSAGES
        for i, r in enumerate(chosen):
            quota = best if i == 0 else OTHER_PASSAGES
            for hit in r.hits:
                quota -= take(hit, may_add=quota > 0)
        for hit in retrieval.hits(k + len(sources), per_record=best):
            take(hit)
        return sources, cited

    def _statements(self, retrieval: Retrieval, hits: list[Hit], number: dict[int, int], limit: int) -> list[Statement]:
        query = retrieval.query
        tokens = set(analyze(query.text))
        candidates: list[_Candidate] = []
        wants_contacts = "contacts" in query.section_cues
        for rank, hit in enumerate(hits):
            passage = hit.passage
            if passage.section == "contacts":  # a contact is its name, role and mail together, never one line
                sentences = contact_entries(passage.text)
            else:
                sentences = split_sentences(passage.text)
            meta = {fold(passage.expert or ""), fold(passage.heading)}
            for sentence in sentences:
                if len(sentence) < 20 and not (query.wants_figure and any(c.isdigit() for c in sentence)):
                    continue
                if fold(sentence) in meta or (passage.expert and fold(sentence).startswith(fold(passage.expert))):
                    continue  # the expert's name line or a heading is not a statement
                if (
                    passage.expert
                    and not sentence.endswith((".", "…"))
                    and len(sentence) < 160
                    and not re.search(r"\d", sentence)
                ):
                    continue  # the expert's role line
                overlap = len(tokens & set(analyze(sentence))) / (len(tokens) or 1)
                score = overlap + 0.15 * hit.score - 0.05 * rank
                if passage.section in EXPERT_SECTIONS and "expert" not in query.section_cues and not query.wants_person:
                    score -= 0.15  # describe the practice itself unless the experts are asked about
                if passage.section == "contacts" and wants_contacts:
                    score += 0.5
                if query.wants_figure and re.search(r"\d", sentence):
                    score += 0.3
                if (
                    query.wants_person
                    and (hit.passage.section in {"contacts"} | EXPERT_SECTIONS)
                    and _NAME_OR_EMAIL.search(sentence)
                ):
                    score += 0.3
                candidates.append(_Candidate(sentence, hit, score))
        if not candidates:
            return []
        if "expert" not in query.section_cues and not query.wants_person:
            # describe the practice in its own words unless the experts are asked about
            own = [c for c in candidates if c.hit.passage.section not in EXPERT_SECTIONS]
            candidates = own or candidates
        vectors = self._encode([c.sentence for c in candidates] + [query.text])
        similarity = vectors[:-1] @ vectors[-1]
        for c, sim in zip(candidates, similarity, strict=True):
            c.score += 0.8 * float(sim)
        candidates.sort(key=lambda c: -c.score)
        statements: list[Statement] = []
        seen: set[str] = set()
        for c in candidates:
            if len(statements) >= limit:
                break
            if c.sentence in seen:
                continue
            seen.add(c.sentence)
            sentence = _shorten(c.sentence)
            if c.hit.passage.section in EXPERT_SECTIONS and c.hit.passage.expert:
                sentence = text("expert_says", expert=c.hit.passage.expert, sentence=sentence)
            elif c.hit.passage.section == "contacts" and "contacts" in query.section_cues:
                sentence = text("contact_is", contact=sentence)
            statements.append(Statement(text=sentence, sources=[number[id(c.hit)]]))
        return statements


def render_plain(answer: Answer) -> str:
    """The answer as plain text, every statement followed by its [n]."""
    if answer.abstained:
        return answer.answer
    parts: list[str] = [answer.intro] if answer.intro else []
    many = len(answer.findings) > 1
    for i, finding in enumerate(answer.findings, start=1):
        cites = [f"{s.text} {''.join(f'[{n}]' for n in s.sources)}" for s in finding.statements]
        body = "\n".join(f"- {c}" for c in cites) if len(cites) > 2 else " ".join(cites)
        if many:
            parts.append(f"{i}. {finding.label}:{chr(10) if len(cites) > 2 else ' '}{body}")
        elif answer.followup_practice and answer.followup_practice.practice_id == finding.practice_id:
            parts.append(body)  # the follow-up's "Sobre la práctica: …" line already names it
        else:
            parts.append(f"{finding.label}:\n{body}")
    if answer.outro:
        parts.append(answer.outro)
    return "\n\n".join(parts)
