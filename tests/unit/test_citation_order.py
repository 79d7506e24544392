"""Sources numbered in the order the answer cites them (`bot.plans.number_by_citation`), on a hand-built answer."""

from __future__ import annotations

from bot.plans import number_by_citation
from bot.schemas import Answer, ComparedPractice, Comparison, ComparisonCell, ComparisonRow, Finding, Statement
from bot.sources import Source


def source(n: int) -> Source:
    return Source(
        n=n,
        practice=f"Práctica {n}",
        practice_id=f"p{n}",
        region="Pasco",
        offices=["DRE Pasco"],
        section="problem",
        document="ficha.txt",
        lines=(n, n),
        text=f"texto {n}",
        score=1.0,
    )


def test_cited_sources_come_first_in_citation_order_then_the_others() -> None:
    finding = Finding(
        practice_id="p3",
        title="Práctica 3",
        label="Práctica 3",
        statements=[
            Statement(text="a", sources=[3]),
            Statement(text="b", sources=[5, 3]),
            Statement(text="c", sources=[1]),
        ],
    )
    row = ComparisonRow(section="Problema", cells=[ComparisonCell(text="d", sources=[4])])
    answer = Answer(
        question="q",
        answer="",
        abstained=False,
        sources=[source(n) for n in range(1, 6)],
        findings=[finding],
        comparison=Comparison(practices=[ComparedPractice(practice_id="p3", label="P3")], rows=[row]),
    )
    number_by_citation(answer)
    assert [s.n for s in answer.sources] == [1, 2, 3, 4, 5]
    assert [s.text for s in answer.sources] == ["texto 3", "texto 5", "texto 1", "texto 4", "texto 2"]
    assert [s.sources for s in answer.findings[0].statements] == [[1], [2, 1], [3]]
    assert answer.comparison is not None and answer.comparison.rows[0].cells[0].sources == [4]


def test_an_answer_already_in_order_is_left_as_it_is() -> None:
    sources = [source(1), source(2)]
    finding = Finding(practice_id="p1", title="P", label="P", statements=[Statement(text="a", sources=[1])])
    answer = Answer(question="q", answer="", abstained=False, sources=sources, findings=[finding])
    number_by_citation(answer)
    assert answer.sources == sources and answer.findings[0].statements[0].sources == [1]
