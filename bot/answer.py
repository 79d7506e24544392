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
from bot.topics import TopicScores, mix
from bot.windows import SectionWindows
from indexer.calibration import Calibration
from indexer.models import EXPERT_SECTIONS, Record
from indexer.text import fold

LIST_RATIO = 0.7  # other records join a "which practices…" answer when within this share of the best score
MAX_FINDINGS = 3
FULL_COVERAGE = 0.999  # share of the question's topic terms (IDF-weighted) found in the best practice
MAX_SENTENCE_CHARS = 420
# refusals that name the practice lacking what was asked (its experts' comments, contacts, a figure, a link)
PRACTICE_REASONS = frozenset({"no_experts", "no_contacts", "no_figure", "no_link"})
# Passages among the sources: the best practice's first ones, then one of each other practice, so the first five
# sources show what the best practice did and still name the alternatives. A practice answered alone gets more.
BEST_PASSAGES = 3
BEST_PASSAGES_ALONE = 4
OTHER_PASSAGES = 1

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÁÉÍÓÚÑ¿¡\"“(0-9+])")
_NAME_OR_EMAIL = re.compile(r"@|\b[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+\s+[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+")


def practice_cosine(retrieval: Retrieval, calibration: Calibration) -> float:
    """The best record's best cosine, the dense models mixed on the primary's scale (the primary's alone without a
    topic map, which supplies the scale). USE's view counts: «receta de ceviche» is 0.82 from a practice by e5, and
    nothing to USE."""
    if not retrieval.top_cosines:
        return retrieval.top_cosine
    return float(mix(np.array(retrieval.top_cosines), calibration.second_weight))


def relevance(retrieval: Retrieval, calibration: Calibration) -> float:
    return practice_cosine(retrieval, calibration) + calibration.coverage_weight * retrieval.coverage


def named_records(retrieval: Retrieval) -> list[Record]:
    """The retrieved practices the question names: by office or title, else by region («…en el Callao»)."""
    return [r.record for r in retrieval.records if r.record.id in retrieval.named]


def _nearest_uncovered(retrieval: Retrieval, calibration: Calibration) -> tuple[np.ndarray, np.ndarray] | None:
    """The topics the corpus does not cover, nearest to the question first, and how much nearer the question is to
    each than to its best practice — in meaning (the dense models' cosines mixed) and in words; None when the
    corpus covers every topic (or there is no catalog)."""
    key = (calibration.topic_coverage, calibration.topic_terms_weight, calibration.second_weight)
    if key not in retrieval.topic_memo:
        retrieval.topic_memo[key] = _read_topics(retrieval, calibration)
    return retrieval.topic_memo[key]  # type: ignore[return-value]


def _read_topics(retrieval: Retrieval, calibration: Calibration) -> tuple[np.ndarray, np.ndarray] | None:
    scores = retrieval.topics
    if scores is None or not len(scores.labels) or len(retrieval.top_cosines) != scores.cosine.shape[1]:
        return None
    weight = calibration.second_weight
    uncovered = np.flatnonzero(mix(scores.coverage, weight) < calibration.topic_coverage)
    if not len(uncovered):
        return None
    cosines = mix(scores.cosine[uncovered], weight)
    nearest = np.argsort(-cosines, kind="stable")
    order = uncovered[nearest]
    practice = practice_cosine(retrieval, calibration)
    terms = scores.terms[order] - retrieval.coverage
    return order, cosines[nearest] - practice + calibration.topic_terms_weight * terms


def topic_margin(retrieval: Retrieval, calibration: Calibration) -> float | None:
    """How much nearer the question is to the nearest topic the corpus does not cover than to its best practice
    (what `max_topic_margin` bounds); None when no topic is uncovered."""
    found = _nearest_uncovered(retrieval, calibration)
    return None if found is None else float(found[1][0])


def _about(retrieval: Retrieval, calibration: Calibration) -> tuple[TopicScores, np.ndarray, np.ndarray] | None:
    """The question's topic scores with `_nearest_uncovered`'s order and margins when the nearest uncovered topic is
    passed by the margin (the question is about it); None otherwise."""
    found = _nearest_uncovered(retrieval, calibration)
    if found is None or retrieval.topics is None or found[1][0] <= calibration.max_topic_margin:
        return None
    return retrieval.topics, found[0], found[1]


def uncovered_topics(retrieval: Retrieval, calibration: Calibration) -> list[str]:
    """The labels of the topics the corpus does not cover that a question is about, closest first: empty unless the
    nearest uncovered topic of the catalog is nearer to the question than the best practice by the margin; then
    every uncovered topic that is, of the nearest one's kind (outside education management or within it: a refusal
    names one kind)."""
    about = _about(retrieval, calibration)
    if about is None:
        return []
    scores, order, margins = about
    outside = order[0] in scores.outside
    return [
        scores.labels[i]
        for i, m in zip(order, margins, strict=True)
        if m > calibration.max_topic_margin and (i in scores.outside) == outside
    ]


def uncovered_topic(retrieval: Retrieval, calibration: Calibration) -> str | None:
    """The topic a question is about when the corpus does not cover it (the first of `uncovered_topics`)."""
    about = _about(retrieval, calibration)
    if about is None:
        return None
    scores, order, _ = about
    return scores.labels[order[0]]


def _settled(retrieval: Retrieval, calibration: Calibration) -> tuple[bool, str | None]:
    """The checks before the topic check: (whether they settle the question, the abstention reason or None)."""
    query = retrieval.query
    if not retrieval.records:
        return True, "nothing"
    named = named_records(retrieval) if retrieval.named else []
    named_known = bool(named) or any(r not in retrieval.missing_regions for r in query.regions)
    if query.regions and len(retrieval.missing_regions) == len(query.regions) and not query.office_records:
        return True, "region"
    if named and "expert" in query.section_cues and not any(r.has_expert_commentary for r in named):
        return True, "no_experts"
    if (
        named
        and query.section_cues == {"contacts"}
        and not any(s.type == "contacts" for r in named for s in r.sections)
    ):
        return True, "no_contacts"
    if retrieval.lacking_datum == "link":
        return True, "no_link"
    if query.asks_figure and not query.english and retrieval.lacking_datum is not None:
        return True, "no_figure"
    if named_known or retrieval.filtered:
        return True, None
    if query.english and retrieval.top_cosine < calibration.min_english_cosine:
        return True, "nothing"
    return False, None


def topic_check_applies(retrieval: Retrieval, calibration: Calibration) -> bool:
    """Whether the topic check can decide the question: a named practice, a filter, an English question far from
    every passage or a missing figure is settled before it."""
    return not _settled(retrieval, calibration)[0]


def abstention_reason(retrieval: Retrieval, calibration: Calibration) -> str | None:
    """Why the corpus cannot answer (a key of the abstention texts), or None when it can.

    Only when nothing is close: a question in unusual words about a topic the corpus covers is answered with
    the closest practices (see `is_close_only`)."""
    settled, reason = _settled(retrieval, calibration)
    if settled and reason != "no_figure":
        return reason
    about = _about(retrieval, calibration)
    if about is not None and about[1][0] in about[0].outside:
        # also for a figure no practice gives: «¿cuánto cuesta un celular?» is no question for the corpus
        return "outside"
    if about is not None and not named_records(retrieval):
        # about a topic the corpus does not cover (a question that names a practice is settled before); a figure too
        # is refused naming the topic, not the nearest practice («¿cuánto cuesta un certificado de estudios?»)
        return "topic"
    if settled:
        return reason
    if retrieval.query.english:
        return None  # no Spanish words to cover: the cosine alone (`_settled`)
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
        elif reason in {"topic", "outside"} and retrieval is not None:
            labels = uncovered_topics(retrieval, self.calibration)[:2]
            topics = text("topics_two", first=labels[0], second=labels[1]) if len(labels) > 1 else labels[0]
            message = text(f"abstain_{reason}", topics=topics, covered=self._covered())
        elif reason in PRACTICE_REASONS and retrieval is not None and retrieval.records:
            named = named_records(retrieval)
            record = named[0] if named else retrieval.records[0].record
            # a question that names no practice is told which practice was nearest, not as if it had asked for it
            closest = not named and reason in {"no_figure", "no_link"}
            key = f"abstain_{reason}_closest" if closest else f"abstain_{reason}"
            message = text(key, practice=record_label(record), covered=self._covered())
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
