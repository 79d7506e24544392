"""What a question asks for, from its words (no model): the plan of the answer depends on it."""

from __future__ import annotations

import pytest

from bot.intent import read_intent
from bot.query import Catalog, read_query

CATALOG = Catalog(offices={"ugel 07": {"ugel07"}, "dre pasco": {"pasco"}}, regions={"Pasco": {"pasco"}})


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("Compara la práctica de Pasco con la de Junín", "compare"),
        ("¿Qué recomendaron los expertos a la DRE Pasco?", "experts"),
        ("¿A quién contacto sobre la práctica de Pasco? Necesito su correo", "contact"),
        ("¿Cuántos estudiantes participaron en Pasco?", "fact"),
        ("¿Qué lograron en Pasco?", "results"),
        ("¿Cómo empezó la práctica de la DRE Pasco?", "how_it_started"),
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
