"""What a question asks for, from its words (no model): the plan of the answer depends on it."""

from __future__ import annotations

import pytest

from bot.intent import read_intent
from bot.query import Catalog, read_query
from indexer.models import ExpertCommentary, Record

CATALOG = Catalog(offices={"ugel 07": {"ugel07"}, "dre pasco": {"pasco"}}, regions={"Pasco": {"pasco"}})


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("Compara la práctica de Pasco con la de Junín", "compare"),
        ("¿Qué recomendaron los expertos a la DRE Pasco?", "experts"),
        ("¿A quién contacto sobre la práctica de Pasco? Necesito su correo", "contact"),
        ("¿Cuántos estudiantes participaron en Pasco?", "fact"),
        ("¿Qué lograron en Pasco?", "results"),
        # chat shorthand is read as the words it stands for
        ("q hizo la ugel 07 x sus colegios?", "what_they_did"),
        ("kiero el correo d los de pasco", "contact"),
        ("¿Cómo empezó la práctica de la DRE Pasco?", "how_it_started"),
        # who presented at the exchange is a lookup; a problem in which someone «presenta» something is not
        ("¿Qué UGEL presentó la práctica de lectura?", "lookup"),
        ("¿En qué presentación salen los resultados de Pasco?", "lookup"),
        ("los directores no presentan su plan de trabajo y nadie les hace seguimiento", "similar"),
        # the practice's exact name is its heading's: where and by whom it is presented
        ("como se llamaba completita la practica de pasco? necesito el nombre exacto", "lookup"),
        ("la experta que comentó lo de Pasco, ¿cómo se llama?", "experts"),
        ("¿Qué comentó el experto sobre la práctica de Pasco?", "experts"),
        # «te comento…» opens a story (let me tell you), it does not ask what an expert commented
        (
            "oye te comento: en la pandemia teníamos chicos que desaparecieron, no tenían celular y nosotros "
            "desde la UGEL no teníamos cómo llegar, alguna UGEL los ubicó?",
            "similar",
        ),
        # the exchange itself (its visit, its fair) is told from its own parts, not as a similar problem
        ("¿Dónde fue la pasantía del segundo día del intercambio?", "other"),
        # «la ficha de…» is the whole sheet unless a section of it is asked for
        ("Pásame la ficha de la DRE Pasco", "everything"),
        ("oye quien es el contacto de la ficha de Pasco? necesito su correo", "contact"),
        ("¿Qué recomendaron los expertos en la ficha de Pasco?", "experts"),
        # «¿quién…?» is answered from the text, not from a contacts section
        ("¿Quién preside la Mancomunidad Educativa de la UGEL 07?", "other"),
        # a problem told at length stays a problem description whatever words it contains
        (
            "En el CEBE y en secundaria tenemos chicos con discapacidad pero nadie sabe bien cuantos son ni q "
            "habilidades tienen, recien nos acordamos de ellos cuando ya egresan",
            "similar",
        ),
        (
            "Tenemos una alumna con autismo severo y la profe y el director ya hicieron todo lo q pudieron, "
            "el caso los supera. A quien recurren otras UGEL?",
            "similar",
        ),
    ],
)
def test_intent(question: str, intent: str) -> None:
    assert read_intent(read_query(question, CATALOG)) == intent


def test_a_practice_named_by_its_title_is_named_and_its_words_are_not_cues() -> None:
    """«Estrategia Inclusión Total» names a practice; its «Estrategia» does not ask for the strategies section."""
    catalog = Catalog.from_records(
        [
            Record(id="callao", kind="practice", title="Estrategia Inclusión Total", region="Callao"),
            Record(id="otra", kind="practice", title="Redes", region="Lima Metropolitana"),
        ]
    )
    assert "estrategia inclusion total" in catalog.titles
    assert "redes" not in catalog.titles  # a one-word title is an ordinary word
    query = read_query("¿Me da el correo de contacto de la Estrategia Inclusión Total?", catalog)
    assert query.office_records == {"callao"}
    assert query.section_cues == {"contacts"}
    assert read_query("¿Qué estrategias usaron en el Callao?", catalog).section_cues == {"strategies"}


def test_a_figure_asked_mid_question_about_a_named_practice() -> None:
    named = read_query("De los chicos de la UGEL 07, ¿cuántos consiguieron trabajo?", CATALOG)
    assert named.asks_figure
    problem = read_query(
        "Queremos una alianza con los alcaldes que dure, cuántas veces se reunieron otros y qué aprendieron", CATALOG
    )
    assert problem.wants_figure and not problem.asks_figure  # a problem told at length only mentions it


def test_an_expert_named_by_name_or_by_their_office_asks_what_the_experts_said() -> None:
    """«según Sofía Meza…» names the practice she commented on; «la de ODENAGED» only asks for the experts."""
    commented = Record(
        id="angaraes",
        kind="practice",
        title="Facilitadores del bienestar emocional",
        offices=["UGEL Angaraes"],
        experts=[
            ExpertCommentary(expert="Sofía Meza Durán", role="Miembro de la Red - CoP", document="r.txt"),
            ExpertCommentary(
                expert="Indira Alvarez", role="Especialista de la Oficina (ODENAGED) - MINEDU", document="r.txt"
            ),
        ],
    )
    catalog = Catalog.from_records([commented])
    by_name = read_query("Según Meza Durán, ¿qué le falta a la práctica?", catalog)
    assert by_name.section_cues == {"expert"} and by_name.office_records == {"angaraes"}
    assert read_intent(by_name) == "experts"
    by_office = read_query("q dijo la especialista de odenaged sobre lo de riesgo?", catalog)
    assert by_office.section_cues == {"expert"} and not by_office.office_records
    # neither the CoP (not an acronym in parentheses) nor MINEDU (outside them) nor one word of a name is an expert
    for question in ("los de la CoP hicieron algo?", "el minedu nos pide el PAT", "la profesora Meza no vino"):
        assert "expert" not in read_query(question, catalog).section_cues, question
