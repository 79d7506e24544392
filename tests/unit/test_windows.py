"""Sources widened to their section's neighbouring chunks (`bot.windows`), on hand-built chunks."""

from __future__ import annotations

from bot.windows import SectionWindows, join_chunks
from indexer.models import Passage


def chunk(n: int, text: str, section: str = "problem", lines: tuple[int, int] | None = None) -> Passage:
    return Passage(
        id=f"{section}-{n}",
        record_id="r1",
        practice="Práctica",
        kind="practice",
        section=section,  # type: ignore[arg-type]
        document="ficha.txt",
        lines=lines or (n * 10, n * 10 + 9),
        text=text,
        page=n + 1,
    )


def test_overlapping_chunks_are_joined_once() -> None:
    assert join_chunks("la UGEL capacitó a los docentes", "a los docentes de primaria") == (
        "la UGEL capacitó a los docentes de primaria"
    )
    assert join_chunks("Primer párrafo.", "Segundo párrafo.") == "Primer párrafo.\nSegundo párrafo."
    assert join_chunks("termina en de", "de nuevo") == "termina en de\nde nuevo"  # a chance overlap is kept


def test_a_chunk_takes_the_following_chunks_then_the_preceding_ones_within_the_limit() -> None:
    parts = [chunk(i, f"Oración número {i} del problema." + " x" * 30) for i in range(5)]
    size = len(parts[0].text)
    windows = SectionWindows(list(reversed(parts)), limit=3 * size)  # reading order comes from the lines
    window = windows.around(parts[3])
    assert window.members == {"problem-2", "problem-3", "problem-4"}
    assert window.passage.text.index("número 2") < window.passage.text.index("número 3")
    assert window.passage.lines == (20, 49)
    assert window.passage.page == 3  # where the window starts
    assert window.passage.id == parts[3].id and window.passage.section == "problem"


def test_a_window_never_crosses_into_another_section() -> None:
    problem = chunk(0, "El problema.")
    results = chunk(1, "Los resultados.", section="results")
    window = SectionWindows([problem, results]).around(problem)
    assert window.passage.text == "El problema."
    assert window.members == {"problem-0"}


def test_a_chunk_longer_than_the_limit_or_unknown_is_shown_as_it_is() -> None:
    long = chunk(0, "a" * 50)
    windows = SectionWindows([long, chunk(1, "b" * 50)], limit=60)
    assert windows.around(long).passage.text == "a" * 50
    stranger = chunk(9, "Una sección citada entera.", section="results")
    assert windows.around(stranger).passage is stranger


def test_a_window_stops_at_a_chunk_another_source_shows() -> None:
    parts = [chunk(i, f"Parte {i}.") for i in range(4)]
    windows = SectionWindows(parts)
    window = windows.around(parts[1], shown={"problem-2"})
    assert window.members == {"problem-0", "problem-1"}
