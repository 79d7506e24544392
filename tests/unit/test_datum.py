"""The kind of datum a question asks for, and whether a practice's passages hold one (`bot.datum`)."""

from __future__ import annotations

import pytest

from bot.datum import AskedDatum, asked_datum, lacks_datum
from bot.language import stem

ANGARAES = [
    "Se contrató psicólogos facilitadores para acompañar a las instituciones educativas.",
    "Resultados: 645 docentes capacitados en disciplina positiva; 12 talleres con familias.",
]


def count(*words: str) -> AskedDatum:
    return AskedDatum("count", frozenset(stem(w) for w in words))


@pytest.mark.parametrize(
    ("question", "asks_figure", "expected"),
    [
        ("¿Cuántos psicólogos contrató la UGEL Angaraes?", True, count("psicologos", "contrato")),
        ("cuantas alertas de emergencia se reportaron", True, count("alertas", "emergencia")),
        ("How many brigade members did the practice train?", True, count("brigade", "members")),
        # what says where is not what is counted
        ("¿Cuántos docentes de la UGEL Angaraes se capacitaron?", True, count("docentes")),
        ("¿Cuánto presupuesto invirtió la UGEL Nasca en pizarras?", True, AskedDatum("money")),
        ("cuanto costaron las pizarras", True, AskedDatum("money")),
        # how long, or how many of the people paid, is not an amount of money
        ("¿cuánto tiempo duró la capacitación financiada con el presupuesto?", True, None),
        ("¿cuántos docentes reciben su pago a tiempo?", True, count("docentes", "reciben")),
        ("me pasas el link de la plataforma del PAT?", False, AskedDatum("link")),
        ("¿hay alguna página web de la práctica?", False, AskedDatum("link")),
        # a web page in a problem told at length is not a request for one
        ("había pensado en una página web sencilla donde cada UGEL suba sus avances", False, None),
        ("nadie sabe que es el espacio de enlace para emergencias", False, None),
        # «¿cuántos…?» in the middle of a problem told at length does not ask for a figure (`Query.asks_figure`)
        ("tenemos chicos con discapacidad pero nadie sabe cuantos son", False, None),
        ("¿Cuánto aumentó la cobertura de asistencias técnicas?", True, None),
    ],
)
def test_the_datum_asked_for(question: str, asks_figure: bool, expected: AskedDatum | None) -> None:
    assert asked_datum(question, asks_figure, {"ugel", "angaraes", "nasca"}) == expected


def test_a_count_is_lacking_when_the_practice_names_the_thing_and_never_counts_it() -> None:
    assert lacks_datum(count("psicologos"), ANGARAES)
    assert not lacks_datum(count("docentes"), ANGARAES)  # «645 docentes»
    assert not lacks_datum(count("talleres"), ANGARAES)  # «12 talleres»
    # a word the practice never uses may stand for one it does («equipos» for «dispositivos»): not judged here
    assert not lacks_datum(count("equipos"), ANGARAES)


def test_money_and_links_need_an_amount_and_an_address() -> None:
    assert lacks_datum(AskedDatum("money"), ANGARAES)
    assert not lacks_datum(AskedDatum("money"), ["Se invirtió S/ 25 000 en materiales."])
    assert not lacks_datum(AskedDatum("money"), ["con un presupuesto de 1,2 millones de soles"])
    assert lacks_datum(AskedDatum("link"), ["Correo: jortegac@drej.edu.pe"])  # an e-mail address is no link
    assert not lacks_datum(AskedDatum("link"), ["Disponible en https://sites.google.com/view/pat-junin"])
    assert not lacks_datum(AskedDatum("link"), ["Más información en www.gob.pe/minedu"])
