"""Typed results of the answer pipeline, shared by the web API, the page and the Telegram bot."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field, computed_field, field_validator

from bot.limits import MAX_FIELD_CHARS, clean_text
from bot.sources import Source, sheet_href

MAX_QUESTION_CHARS = 2000


class Filters(BaseModel):
    """Optional restrictions; matching ignores case and accents. `section` is a section type
    (e.g. `expert_recommendations`) or a group: `expert` (all expert commentary)."""

    region: str | None = Field(None, max_length=MAX_FIELD_CHARS)
    office: str | None = Field(None, max_length=MAX_FIELD_CHARS)
    section: str | None = Field(None, max_length=MAX_FIELD_CHARS)
    # one record only: follow-up questions about the practice just discussed
    practice_id: str | None = Field(None, max_length=MAX_FIELD_CHARS)

    @field_validator("region", "office", "section", "practice_id", mode="after")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        """No lone surrogate or control character reaches retrieval (they made it fail)."""
        return None if value is None else (clean_text(value).strip() or None)

    def is_empty(self) -> bool:
        return not (self.region or self.office or self.section or self.practice_id)


class Statement(BaseModel):
    """One sentence of an answer and the sources (their `n`) that back it."""

    text: str
    sources: list[int]


Intent = Literal[
    "similar",
    "what_they_did",
    "how_it_started",
    "results",
    "experts",
    "contact",
    "compare",
    "everything",
    "fact",
    "lookup",
    "other",
]
INTENTS: tuple[Intent, ...] = get_args(Intent)


class Finding(BaseModel):
    """What the answer says about one practice (or event part, or document)."""

    practice_id: str
    title: str
    label: str  # "Title — offices (region)"
    statements: list[Statement]
    url: str | None = None  # the practice's sheet on the web (/practicas/{id})


class PracticeRef(BaseModel):
    """A practice as an answer names it: for its header and its sheet's link or button."""

    practice_id: str
    title: str
    label: str  # "Title — offices (region)"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def href(self) -> str:
        """The practice's sheet (relative to the site)."""
        return sheet_href(self.practice_id)


class ComparedPractice(BaseModel):
    practice_id: str
    label: str


class ComparisonCell(BaseModel):
    text: str
    sources: list[int]


class ComparisonRow(BaseModel):
    section: str  # "Problema", "Estrategias", …
    cells: list[ComparisonCell]  # one per practice, in the order of `Comparison.practices`


class Comparison(BaseModel):
    """Two (or more) practices side by side, section by section: a table on the web."""

    practices: list[ComparedPractice]
    rows: list[ComparisonRow]


class Answer(BaseModel):
    question: str
    answer: str  # plain text, every statement ending in [n]
    abstained: bool
    mode: Literal["extractive", "generated"] = "extractive"
    sources: list[Source] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    intro: str = ""
    outro: str = ""
    intent: Intent = "other"
    answer_id: str = ""
    conversation_id: str | None = None
    comparison: Comparison | None = None
    # a follow-up: the conversation's practice the answer is about ("Sobre la práctica: …"), even when it abstains
    followup_practice: PracticeRef | None = None
