"""The kind of datum a question asks for, and whether a practice's passages hold one (`bot.datum`)."""

from __future__ import annotations

import pytest

from bot.datum import AskedDatum, asked_datum, lacks_datum
from bot.language import stem

ANGARAES = [
    "Se contrató psicólogos facilitadores para acompañar a las instituciones educativas.",
    "Resultados: 645 docentes capacitados en disciplina positiva; 12 talleres con familias.",
]


def stems(*words: str) -> frozenset[str]:
    return frozenset(stem(w) for w in words)


def count(*words: str, about: tuple[str, ...] = ()) -> AskedDatum:
    return AskedDatum("count", stems(*words), stems(*about))


def share(*about: str) -> AskedDatum:
    return AskedDatum("share", about=stems(*about))


@pytest.mark.parametrize(
    ("question", "asks_figure", "expected"),
    [
        ("¿Cuántos psicólogos contrató la UGEL Angaraes?", True, count("psicologos", "contrato")),
        ("cuantas alertas de emergencia se reportaron", True, count("alertas", "emergencia", about=("reportaron",))),
        (
            "How many brigade members were trained?",
            True,
            count("brigade", "members", about=("how", "many", "were", "trained")),
        ),
        # what says where is not what is counted, nor what it is about
        ("¿Cuántos docentes de la UGEL Angaraes se capacitaron?", True, count("docentes", about=("capacitaron",))),
        ("¿Cuánto presupuesto invirtió la UGEL Nasca en pizarras?", True, AskedDatum("money")),
        ("cuanto costaron las pizarras", True, AskedDatum("money")),
        # how long, or how many of the people paid, is not an amount of money
        ("¿cuánto tiempo duró la capacitación financiada con el presupuesto?", True, None),
        ("¿cuántos docentes reciben su pago a tiempo?", True, count("docentes", "reciben", about=("pago", "tiempo"))),
        ("me pasas el link de la plataforma del PAT?", False, AskedDatum("link")),
        ("¿hay alguna página web de la práctica?", False, AskedDatum("link")),
        # a web page in a problem told at length is not a request for one
        ("había pensado en una página web sencilla donde cada UGEL suba sus avances", False, None),
        ("nadie sabe que es el espacio de enlace para emergencias", False, None),
        # «¿cuántos…?» in the middle of a problem told at length does not ask for a figure (`Query.asks_figure`)
        ("tenemos chicos con discapacidad pero nadie sabe cuantos son", False, None),
        # how much something rose or fell, or a percentage: the change's words say nothing of what changed
        ("¿Cuánto aumentó la cobertura de asistencias técnicas?", True, share("cobertura", "asistencias", "tecnicas")),
        ("en cuanto bajaron los casos de violencia? algun porcentaje?", True, share("casos", "violencia")),
        ("¿qué porcentaje de estudiantes de Nasca aprobó?", True, share("estudiantes", "aprobo")),
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


def test_a_count_answers_only_beside_something_else_the_question_says() -> None:
    """«118 estudiantes incorporados en la estrategia» does not say how many got on the job board; the words may
    differ in their endings («capacitaron», «capacidades»)."""
    huaura = [
        "- 118 estudiantes incorporados en la estrategia Mi Oportunidad Técnica.\n"
        "- Ferias de empleo con 70 a 150 vacantes, y registro de estudiantes en la bolsa de trabajo del MTPE."
    ]
    assert lacks_datum(count("estudiantes", about=("inscritos", "bolsa", "trabajo")), huaura)
    assert not lacks_datum(count("estudiantes", about=("entraron", "oportunidad", "tecnica")), huaura)
    callao = ["Se logró que 6,973 docentes fortalezcan sus capacidades en enfoque DUA."]
    assert not lacks_datum(count("docentes", "capacitaron", about=("diseño", "universal")), callao)
    # «formal» is not «formación»
    assert lacks_datum(count("estudiantes", about=("empleo", "formal")), ["45 estudiantes en formación técnica."])


def test_a_change_needs_a_percentage_beside_most_of_what_changed() -> None:
    """Each word weighs its rarity: «la ECE» must be in the sentence, «los colegios» alone is not enough."""
    pasco = ["Se incrementa la cobertura de las asistencias técnicas de 45% a 72%, beneficiando a especialistas."]
    assert not lacks_datum(share("cobertura", "asistencias", "tecnicas"), pasco)
    assert lacks_datum(share("ece", "estudiantes"), pasco)
    callao = ["El 100% de instituciones educativas no eran autónomas.", "Los resultados de la ECE se analizaron."]
    rarity = {stem("ece"): 4.0, stem("instituciones"): 1.5, stem("educativas"): 0.5}.get
    assert lacks_datum(share("ece", "instituciones", "educativas"), callao, lambda s: rarity(s, 1.0))
    assert not lacks_datum(share("instituciones", "educativas"), callao, lambda s: rarity(s, 1.0))
    assert not lacks_datum(share("casos", "violencia"), ["Los casos de violencia bajaron del 30 por ciento."])


def test_money_and_links_need_an_amount_and_an_address() -> None:
    assert lacks_datum(AskedDatum("money"), ANGARAES)
    assert not lacks_datum(AskedDatum("money"), ["Se invirtió S/ 25 000 en materiales."])
    assert not lacks_datum(AskedDatum("money"), ["con un presupuesto de 1,2 millones de soles"])
    assert lacks_datum(AskedDatum("link"), ["Correo: jortegac@drej.edu.pe"])  # an e-mail address is no link
    assert not lacks_datum(AskedDatum("link"), ["Disponible en https://sites.google.com/view/pat-junin"])
    assert not lacks_datum(AskedDatum("link"), ["Más información en www.gob.pe/minedu"])
