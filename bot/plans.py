"""Intent-aware extractive answers: one plan per intent, every statement a copied sentence or list item with its [n].

`Planner.compose` is given the retrieval, the intent (`bot.intent`) and the practices the question (or the
conversation) is about; it falls back to `AnswerComposer.compose` (two best sentences) for `fact` and `other`,
and whenever a plan has nothing to say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.answer import AnswerComposer, abstention_reason, is_close_only, render_plain, split_sentences
from bot.language import analyze
from bot.retrieve import Retrieval
from bot.schemas import (
    Answer,
    ComparedPractice,
    Comparison,
    ComparisonCell,
    ComparisonRow,
    Finding,
    Intent,
    PracticeRef,
    Statement,
)
from bot.sources import Source, record_label, sheet_href, where_label
from bot.texts import text
from bpge.labels import label
from indexer.models import EXPERT_SECTIONS, SECTION_LABELS, Contact, Passage, Record, Section, parse_contacts
from indexer.text import fold

MAX_LIST_ITEMS = 20
SIMILAR_BUDGET = 1300  # characters of statements in a "similar" answer (a Telegram reply fits ~1,500)
COMPARE_CELL_CHARS = 320
SUMMARY_ITEMS = 3
NEAR_DUPLICATE = 0.8  # token Jaccard above which two items say the same thing

_MARKER = re.compile(r"^[✓✔☑►▪●◦→]\s*|^[a-z]\)\s+")
_EXPERT_KIND = {
    "expert_recommendations": ("recomend", "recomiend", "sugier", "sugerenc"),
    "expert_opportunities": ("oportunidad", "mejorar", "debilidad", "falt"),
    "expert_key_aspects": ("aspecto", "destac", "clave", "fortaleza"),
}
_PRESENTER = re.compile(r"(?i)present|expus|expositor|ponente|a cargo|director|responsable")
_IN_CHARGE = re.compile(r"(?i)presidente|a cargo|expuest|presentad|ponente|expositor")
COMPARE_ROWS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (label("compare", key), frozenset({key})) for key in ("problem", "strategies", "results", "expert_recommendations")
)
# Sections a "similar" answer quotes besides problem, strategies and results when one holds what matched best.
ADVICE_SECTIONS = frozenset({*EXPERT_SECTIONS, "lessons"})
SECTION_OF_INTENT: dict[str, str] = {"what_they_did": "strategies", "how_it_started": "problem", "results": "results"}


def _clean(item: str) -> str:
    return _MARKER.sub("", item.strip()).strip()


def _shorten(sentence: str, limit: int) -> str:
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;: ") + "…"


def items(section: Section) -> list[str]:
    """The sentences or list items of a section, without list markers."""
    out = [_clean(s) for s in split_sentences(section.text)]
    return [s for s in out if len(s) >= 15]


def _holds(text: str, item: str) -> bool:
    """Whether `text` (a source, a retrieved passage) shows `item` (a sentence or list item of its section)."""
    return item[:60] in text


def _tokens(sentence: str) -> set[str]:
    return set(analyze(sentence))


def _similar(a: set[str], b: set[str]) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= NEAR_DUPLICATE


class _Cited:
    """The answer's numbered sources: the retrieved passages first, then whole sections quoted."""

    def __init__(self, sources: list[Source]) -> None:
        self.sources = list(sources)

    def cite(self, record: Record, section: Section, sentence: str) -> int:
        for s in self.sources:
            if s.practice_id == record.id and s.section == section.type and _holds(s.text, sentence):
                return s.n
        for s in self.sources:
            if s.practice_id == record.id and s.document == section.document and s.lines == section.lines:
                return s.n
        score = min((s.score for s in self.sources), default=1.0)
        self.sources.append(Source.from_section(len(self.sources) + 1, record, section, score))
        return len(self.sources)


def number_by_citation(answer: Answer) -> None:
    """Renumber the sources in the order the answer first cites them, the sources it does not cite after: a
    reader meets [1], [2], [3]… in order, and the first sources listed are those the statements stand on (a plan
    cites the sections it quotes after the retrieved passages it started from)."""
    citing: list[Statement | ComparisonCell] = [s for f in answer.findings for s in f.statements]
    citing += [c for row in (answer.comparison.rows if answer.comparison else []) for c in row.cells]
    cited: list[int] = []
    for part in citing:
        cited += [n for n in part.sources if n not in cited]
    order = cited + [s.n for s in answer.sources if s.n not in cited]
    new = {old: i + 1 for i, old in enumerate(order)}
    if all(old == n for old, n in new.items()):
        return
    by_number = {s.n: s for s in answer.sources}
    answer.sources = [by_number[old].model_copy(update={"n": new[old]}) for old in order if old in by_number]
    for part in citing:
        part.sources = [new[n] for n in part.sources if n in new]


class _Statements:
    """Statements of one finding; a near-duplicate of one already there (the same paragraph in another
    document of the practice) adds its source to it instead of repeating it."""

    def __init__(self) -> None:
        self.statements: list[Statement] = []
        self._tokens: list[set[str]] = []

    def add(self, sentence: str, n: int) -> None:
        tokens = _tokens(sentence)
        for statement, seen in zip(self.statements, self._tokens, strict=True):
            if _similar(tokens, seen):
                if n not in statement.sources:
                    statement.sources.append(n)
                return
        self.statements.append(Statement(text=sentence, sources=[n]))
        self._tokens.append(tokens)

    def __len__(self) -> int:
        return len(self.statements)


class Planner:
    """Composes the answer of one intent; `composer` gives the abstentions and the default answer."""

    def __init__(self, composer: AnswerComposer) -> None:
        self.composer = composer

    def compose(
        self,
        question: str,
        retrieval: Retrieval,
        intent: Intent,
        targets: list[Record],
        k: int = 5,
        followup: bool = False,
        section: str | None = None,
        may_abstain: bool = True,
    ) -> Answer:
        """`section`: the section type (or `expert`) a follow-up asks about; the conversation's practice is
        `targets[0]`. A practice without that section gets a plain "its sheet has none" (never another
        section quoted instead), and when the passages found say nothing, the practice's own section is quoted.
        A follow-up's answer names its practice (`followup_practice`) and, for that, not again in its text.
        `may_abstain=False` answers whatever the calibration says (eval decides the abstention apart, per fold)."""
        answer = self._plan(question, retrieval, intent, targets, k, followup, section, may_abstain)
        if followup and targets:
            about = targets[0]
            answer.followup_practice = PracticeRef(practice_id=about.id, title=about.title, label=record_label(about))
        number_by_citation(answer)
        answer.answer = render_plain(answer)
        return answer

    def _plan(
        self,
        question: str,
        retrieval: Retrieval,
        intent: Intent,
        targets: list[Record],
        k: int,
        followup: bool,
        section: str | None,
        may_abstain: bool = True,
    ) -> Answer:
        calibration = self.composer.calibration
        if followup and section and targets and not has_section(targets[0], section):
            return self._missing_section(question, targets[0], section)
        if not followup and may_abstain:
            reason = abstention_reason(retrieval, calibration)
            if reason:
                return self.composer.abstain(question, retrieval, reason)
        base = self.composer.compose(question, retrieval, k=k)
        if base.abstained and not targets:
            return base
        records = targets or [r.record for r in retrieval.records[:1]]
        cited = _Cited(base.sources)
        planned: Answer | None = None
        if intent in SECTION_OF_INTENT:
            planned = self._section_list(question, records[0], section_types(SECTION_OF_INTENT[intent]), cited)
        elif intent == "experts":
            # not named: the best retrieved practice that has expert commentary
            with_experts = records if targets else [r.record for r in retrieval.records if r.record.experts]
            planned = self._experts(question, retrieval, (with_experts or records)[0], cited)
        elif intent == "contact":
            planned = self._contacts(question, records[0], cited)
        elif intent == "compare" and len(records) >= 2:
            planned = self._compare(question, records[:3], cited)
        elif intent == "everything":
            planned = self._everything(question, records[0], cited)
        elif intent == "lookup":
            planned = self._lookup(question, records[0], cited)
        elif intent == "similar" and not targets:
            chosen = [r.record for r in AnswerComposer.chosen_records(retrieval)]
            planned = self._similar(question, retrieval, chosen, cited)
            if planned is not None and is_close_only(retrieval, calibration):
                planned.intro = text("intro_closest")
        if planned is None and followup and section and targets and base.abstained:
            planned = self._section_list(question, targets[0], section_types(section), cited)
        return base if planned is None else planned

    # ------------------------------------------------------------ plans

    @staticmethod
    def _answer(question: str, findings: list[Finding], cited: _Cited, intro: str = "") -> Answer | None:
        findings = [f for f in findings if f.statements]
        if not findings:
            return None
        used = {n for f in findings for s in f.statements for n in s.sources}
        if not used:
            return None
        return Answer(
            question=question, answer="", abstained=False, sources=cited.sources, findings=findings, intro=intro
        )

    @staticmethod
    def _finding(record: Record, statements: _Statements) -> Finding:
        return Finding(
            practice_id=record.id,
            title=record.title,
            label=record_label(record),
            statements=statements.statements,
            url=sheet_href(record.id) if record.kind == "practice" else None,
        )

    @staticmethod
    def _missing_section(question: str, record: Record, section: str) -> Answer:
        """Say plainly that the practice's sheet has no such section (rather than quote another)."""
        if section == "contacts":
            where = ", ".join(record.offices) or record.region or record.title
            message = text("followup_no_contacts", offices=where)
        else:
            name = text("expert_commentary") if section == "expert" else SECTION_LABELS.get(section, section)
            message = text("followup_no_section", section=name)
        return Answer(question=question, answer=message, abstained=True)

    def _section_list(self, question: str, record: Record, types: frozenset[str], cited: _Cited) -> Answer | None:
        """The items of the record's sections of those types (its own, then its expert commentary's)."""
        sections = [s for s in record.all_sections() if s.type in types]
        if not sections:
            return None  # the default answer quotes what the corpus does say
        statements = _Statements()
        for section in sections:
            for item in items(section):
                if len(statements) >= MAX_LIST_ITEMS:
                    break
                statements.add(item, cited.cite(record, section, item))
        return self._answer(question, [self._finding(record, statements)], cited)

    def _experts(self, question: str, retrieval: Retrieval, record: Record, cited: _Cited) -> Answer | None:
        if not record.experts:
            return self.composer.abstain(question, retrieval, "no_experts")
        folded = f" {fold(question)}"
        kinds = {kind for kind, cues in _EXPERT_KIND.items() if any(f" {c}" in folded for c in cues)}
        kinds = kinds or set(EXPERT_SECTIONS)
        statements = _Statements()
        for commentary in record.experts:
            for section in commentary.sections:
                if section.type not in kinds:
                    continue
                for item in items(section):
                    if fold(item) == fold(commentary.expert) or fold(item) == fold(commentary.role):
                        continue  # the name and role lines are not statements
                    if len(statements) >= MAX_LIST_ITEMS:
                        break
                    n = cited.cite(record, section, item)
                    if commentary.role:
                        line = text("expert_says_role", expert=commentary.expert, role=commentary.role, sentence=item)
                    else:
                        line = text("expert_says", expert=commentary.expert, sentence=item)
                    statements.add(line, n)
        return self._answer(question, [self._finding(record, statements)], cited)

    def _contacts(self, question: str, record: Record, cited: _Cited) -> Answer | None:
        sections = [s for s in record.sections if s.type == "contacts"]
        if not sections:
            return None  # the default answer quotes what the corpus does say
        statements = _Statements()
        for section in sections:
            n = cited.cite(record, section, section.text.strip()[:60])
            for contact in parse_contacts(section.text):
                statements.add(contact_line(contact), n)
        return self._answer(question, [self._finding(record, statements)], cited)

    def _compare(self, question: str, records: list[Record], cited: _Cited) -> Answer | None:
        rows: list[ComparisonRow] = []
        findings = {r.id: _Statements() for r in records}
        for row_label, types in COMPARE_ROWS:
            cells: list[ComparisonCell] = []
            for record in records:
                sections = [s for s in record.all_sections() if s.type in types]
                picked = [(s, i) for s in sections for i in items(s)][:2]
                if not picked:
                    cells.append(ComparisonCell(text=text("compare_missing"), sources=[]))
                    continue
                numbers = list(dict.fromkeys(cited.cite(record, s, i) for s, i in picked))
                cell = _shorten(" ".join(i for _, i in picked), COMPARE_CELL_CHARS)
                cells.append(ComparisonCell(text=cell, sources=numbers))
                findings[record.id].add(text("section_line", section=row_label, sentence=cell), numbers[0])
            rows.append(ComparisonRow(section=row_label, cells=cells))
        answer = self._answer(question, [self._finding(r, findings[r.id]) for r in records], cited)
        if answer is not None:
            answer.comparison = Comparison(
                practices=[ComparedPractice(practice_id=r.id, label=record_label(r)) for r in records], rows=rows
            )
        return answer

    def _everything(self, question: str, record: Record, cited: _Cited) -> Answer | None:
        statements = _Statements()
        for section_type in ("problem", "strategies", "results", "expert_recommendations"):
            section_label = SECTION_LABELS.get(section_type, section_type)
            sections = [s for s in record.all_sections() if s.type == section_type]
            picked = [(s, i) for s in sections for i in items(s)][: 1 if section_type == "problem" else SUMMARY_ITEMS]
            for section, item in picked:
                statements.add(text("section_line", section=section_label, sentence=_shorten(item, 360)), 0)
                statements.statements[-1].sources = [cited.cite(record, section, item)]
        return self._answer(question, [self._finding(record, statements)], cited)

    def _lookup(self, question: str, record: Record, cited: _Cited) -> Answer | None:
        """Where the practice is presented (each document's heading: title, offices, page) and, asked «¿quién…?»,
        the person the text names as presenting it, or that it names none."""
        statements = _Statements()
        if not record.sections:
            return None
        offices = ", ".join(record.offices) or record.region or ""
        for heading in record.headings or record.sections[:1]:
            n = cited.cite(record, heading, heading.text.strip()[:60])
            source = cited.sources[n - 1]
            document = source.document_title or source.document
            if record.headings and offices:
                line = text("lookup_heading", offices=offices, document=document, location=source.location())
            else:
                line = text("lookup_document", document=document, location=source.location())
            statements.add(line, n)
        n = statements.statements[0].sources[0]
        sections = record.sections
        presenters = [(s, i) for s in sections for i in items(s) if _PRESENTER.search(i)]
        presenters.sort(key=lambda c: 0 if _IN_CHARGE.search(c[1]) else 1)
        if presenters and re.search(r"(?i)qui[eé]n", question):
            section, sentence = presenters[0]
            named = re.search(
                r"\b[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+\s+[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+\s+[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+", sentence
            )
            line = sentence if named else text("lookup_no_presenter", sentence=_shorten(sentence, 360))
            statements.add(line, cited.cite(record, section, sentence))
        elif re.search(r"(?i)qui[eé]n", question) and (record.offices or record.region):
            # no sentence says who presented it: say whose practice it is (the headings said it), and that no person
            # is named
            if record.headings:
                statements.add(text("lookup_no_person"), n)
            else:
                statements.add(text("lookup_office_only", offices=where_label(record.offices, record.region)), n)
        return self._answer(question, [self._finding(record, statements)], cited)

    def _similar(self, question: str, retrieval: Retrieval, records: list[Record], cited: _Cited) -> Answer | None:
        if not records:
            return None
        tokens = _tokens(question) | {t for h in retrieval.hits(6) for t in _tokens(h.passage.text[:300])}
        found = {r.record.id: [h.passage for h in r.hits] for r in retrieval.records}
        # what matched the question best may be advice (the experts', the lessons): said too, after the results
        advice = {r.id: _advice(r, found.get(r.id, [])) for r in records}
        per_statement = SIMILAR_BUDGET // sum(3 + (advice[r.id] is not None) for r in records)
        findings: list[Finding] = []
        for record in records:
            statements = _Statements()
            for section_type, wants_figure in (("problem", False), ("strategies", False), ("results", True)):
                section_label = SECTION_LABELS.get(section_type, section_type)
                candidates = [(s, i) for s in record.sections if s.type == section_type for i in items(s)]
                # the best passage retrieval found in this section, when it found one: its items first
                best = next((p for p in found.get(record.id, []) if p.section == section_type), None)
                if best is not None:
                    candidates = [c for c in candidates if _holds(best.text, c[1])] or candidates
                if not candidates:
                    continue
                section, item = max(candidates, key=lambda c: _score(c[1], tokens, wants_figure))
                sentence = text("section_line", section=section_label, sentence=_shorten(item, per_statement))
                statements.add(sentence, cited.cite(record, section, item))
            if (found_advice := advice[record.id]) is not None:
                section, inside = found_advice
                item = max(inside, key=lambda i: _score(i, tokens, False))
                line = _shorten(item, per_statement)
                if section.expert:
                    sentence = text("expert_says", expert=section.expert, sentence=line)
                else:
                    sentence = text("section_line", section=SECTION_LABELS.get(section.type), sentence=line)
                statements.add(sentence, cited.cite(record, section, item))
            findings.append(self._finding(record, statements))
        intro = text("intro_many") if len(findings) > 1 else ""
        return self._answer(question, findings, cited, intro=intro)


def _advice(record: Record, found: list[Passage]) -> tuple[Section, list[str]] | None:
    """The section of the best passage retrieval found in the record's advice (`ADVICE_SECTIONS`) and the items
    that passage shows (a passage showing none is passed over)."""
    for passage in found:
        if passage.section not in ADVICE_SECTIONS:
            continue
        for section in record.all_sections():
            inside = [i for i in items(section) if _holds(passage.text, i)] if section.type == passage.section else []
            if inside:
                return section, inside
    return None


def _score(sentence: str, tokens: set[str], wants_figure: bool) -> float:
    own = _tokens(sentence)
    score = len(own & tokens) / (len(own) ** 0.5 or 1.0)
    if wants_figure and re.search(r"\d", sentence):
        score += 10.0
    return score


_PERSON_NAME = re.compile(r"^[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+(\s+(de|del|la)?\s*[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+)+$")


def contact_line(contact: Contact) -> str:
    """'Name, role (correo: …)'; when the corpus gives only a role, it says so."""
    if not _PERSON_NAME.match(contact.name):
        role = ", ".join(p for p in (contact.name, contact.role) if p)
        line = text("contact_role_only", role=role)
        return f"{line} (correo: {contact.email})" if contact.email else line
    if contact.email:
        return text("contact_entry", name=contact.name, role=contact.role, email=contact.email)
    return text("contact_entry_no_email", name=contact.name, role=contact.role)


def section_types(section: str) -> frozenset[str]:
    """The section types a section asked about stands for (`expert` is every kind of expert commentary)."""
    return EXPERT_SECTIONS if section == "expert" else frozenset({section})


def has_section(record: Record, section: str) -> bool:
    """Whether the record's sheet has that section (or, for `expert`, any expert commentary)."""
    if section == "expert" and record.experts:
        return True
    return any(s.type in section_types(section) for s in record.all_sections())


def practice_ids(answer: Answer) -> list[str]:
    """The practices an answer is about, main one first."""
    ids: Iterable[str] = [f.practice_id for f in answer.findings] or [s.practice_id for s in answer.sources[:1]]
    return list(dict.fromkeys(ids))
