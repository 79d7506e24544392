"""The web API end to end: a real uvicorn server over the real index of the shipped corpus."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.service import Assistant
from bot.web import create_app
from tests.support import CORPUS, make_settings, serve


@pytest.fixture(scope="module")
def api(assistant: Assistant, shipped_data_dir: Path) -> Iterator[httpx.Client]:
    app = create_app(make_settings(CORPUS, shipped_data_dir), assistant, start_telegram=False)
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def ask(api: httpx.Client, question: str, **extra: object) -> dict:
    response = api.post("/api/ask", json={"question": question, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def cited(answer: dict) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])}


def test_design_card_question_leads_with_ayacucho(api):
    body = ask(api, "¿Qué prácticas abordan el riesgo de desastres en escuelas rurales?")
    assert not body["abstained"] and body["mode"] == "extractive"
    first = body["sources"][0]
    assert first["practice"].startswith("Fortalecemos la gestión del riesgo de desastres")
    assert first["region"] == "Ayacucho" and "DRE Ayacucho" in first["offices"]
    assert set(first) == {
        "n",
        "practice",
        "practice_id",
        "region",
        "offices",
        "section",
        "document",
        "document_title",
        "lines",
        "page",
        "slide",
        "text",
        "score",
        "expert",
        # computed for display (indexer.models.Source): the page renders them as they come
        "label",
        "where",
        "section_label",
        "place",
        "href",
    }
    assert [s["n"] for s in body["sources"]] == list(range(1, len(body["sources"]) + 1))
    # sources are numbered in the order the answer cites them ([1], then [2]…), the ones it does not cite last
    order = list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", body["answer"])))
    assert order == list(range(1, len(order) + 1))
    assert "Ayacucho" in body["answer"]


@pytest.mark.parametrize(
    "question",
    [
        "¿Qué prácticas abordan el riesgo de desastres en escuelas rurales?",
        "Tenemos muchos casos de violencia escolar y no hay psicólogos en los colegios",
        "¿Qué recomendaron los expertos para la sostenibilidad de la práctica de Ayacucho?",
        "¿A quién contacto sobre la práctica de Pasco?",
        "apoyo emocional a estudiantes, familias y docentes",
        "Which practices address disaster risk in rural schools?",
    ],
)
def test_every_citation_is_a_returned_source_and_every_statement_cites(api, question):
    body = ask(api, question)
    numbers = {s["n"] for s in body["sources"]}
    assert cited(body) and cited(body) <= numbers
    statements = [p for p in body["answer"].split("\n\n")[1:] or [body["answer"]] if p.strip()]
    for paragraph in statements:
        assert re.search(r"\[\d+\]\s*$", paragraph.strip()), paragraph


def test_figure_question_returns_the_figure(api):
    body = ask(
        api, "¿Cuántos estudiantes fueron evaluados en la práctica de evaluación de aprendizajes de Lima Metropolitana?"
    )
    assert "297,961" in body["answer"]
    cited = re.search(r"297,961[^\[]*\[(\d+)\]", body["answer"])
    assert cited, body["answer"]
    n = int(cited.group(1))
    assert "297,961" in next(s for s in body["sources"] if s["n"] == n)["text"]


@pytest.mark.parametrize(
    ("question", "practice", "message"),
    [
        # the practice speaks of its psychologists and never counts them
        ("¿cuántos psicólogos tiene la UGEL Angaraes en su práctica?", "Angaraes", "No encontré esa cifra"),
        ("¿cuánto dinero invirtió la DRE Pasco en su estrategia?", "Pasco", "No encontré esa cifra"),
        ("pásame el link de la plataforma de seguimiento del PAT de la DRE Junín", "Junín", "no incluye enlaces web"),
        # Huaura counts its students in the strategy, not on the job board; Pasco gives no percentage about the ECE
        ("cuantos alumnos de huaura quedaron inscritos en la bolsa de trabajo?", "Huaura", "No encontré esa cifra"),
        ("en cuanto subieron en la ECE los alumnos de pasco? en porcentaje", "Pasco", "No encontré esa cifra"),
    ],
)
def test_a_datum_the_named_practice_lacks_is_not_guessed(api, question, practice, message):
    body = ask(api, question)
    assert body["abstained"] is True and body["sources"] == []
    assert message in body["answer"] and practice in body["answer"]


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("¿en cuánto aumentó la cobertura de las asistencias técnicas en Pasco?", "72%"),
        ("cuántos alumnos entraron al programa ese de oportunidad técnica en Huaura", "118"),
    ],
)
def test_a_figure_the_practice_gives_beside_what_is_asked_is_answered(api, question, figure):
    body = ask(api, question)
    assert body["abstained"] is False and figure in body["answer"]


def test_a_figure_no_practice_gives_names_the_nearest_practice_as_such(api):
    body = ask(api, "¿cuántos psicólogos contrataron para mejorar la convivencia escolar?")
    assert body["abstained"] is True and body["sources"] == []
    assert "No encontré esa cifra" in body["answer"] and "la práctica más cercana a su pregunta" in body["answer"]
    assert "Angaraes" in body["answer"]


def test_a_figure_about_a_topic_the_corpus_lacks_names_the_topic(api):
    """«¿cuánto cuesta un certificado de estudios?» is about certificates, which no practice covers: refused naming
    the topic, not as a figure some practice lacks."""
    body = ask(api, "¿cuánto cuesta un certificado de estudios en la UGEL?")
    assert body["abstained"] is True and body["sources"] == []
    assert "certificados de estudios" in body["answer"] and "No encontré esa cifra" not in body["answer"]


def test_question_without_accents(api):
    body = ask(api, "cuantos dispositivos de seguridad se distribuyeron en ayacucho")
    assert "638" in body["answer"]


def test_a_question_on_a_place_the_corpus_lacks_abstains_and_says_what_is_covered(api):
    body = ask(api, "Dame la lista de plazas docentes vacantes en Cusco para 2027")
    assert body["abstained"] is True and body["sources"] == []
    assert "No encontré" in body["answer"] and "Ayacucho" in body["answer"]


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("¿Cuál es el tipo de cambio del dólar hoy?", "la economía"),
        ("receta de ceviche", "la cocina"),
        ("quien gano el partido de ayer", "los deportes"),
    ],
)
def test_a_question_outside_education_management_is_told_what_the_assistant_is_for(api, question, topic):
    body = ask(api, question)
    assert body["abstained"] is True and body["sources"] == []
    assert "queda fuera de la gestión educativa" in body["answer"] and topic in body["answer"]
    assert "Ayacucho" in body["answer"]  # …and what the corpus covers


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("necesito orientación para tramitar el cese y la pensión de un docente que se jubila", "el cese"),
        ("la ejecución del gasto en el SIAF va lenta y nos van a recortar el presupuesto", "la ejecución del gasto"),
    ],
)
def test_a_topic_of_the_field_the_corpus_does_not_cover_is_named_not_answered(api, question, topic):
    """Other topics of education management read like the corpus's problems; the catalog of topics tells them apart."""
    body = ask(api, question)
    assert body["abstained"] is True and body["sources"] == []
    assert "temas de gestión que el corpus no trata, como" in body["answer"] and topic in body["answer"]
    assert "Ayacucho" in body["answer"]  # …and says what it does cover


@pytest.mark.parametrize(
    "question",
    [
        "los profes no saben q hacer con los chicos con discapacidad",
        "hay mucho bullying en los colegios y los papás no se involucran",
        "en las comunidades rurales los niños leen poco y no entienden",
    ],
)
def test_problems_the_corpus_covers_in_everyday_words_are_answered(api, question):
    body = ask(api, question)
    assert body["abstained"] is False and body["sources"]


def test_expert_question_cites_expert_commentary(api):
    body = ask(api, "¿Quién comentó la práctica de la UGEL Nasca y qué destacó?")
    assert "Coaguila" in body["answer"]
    assert body["sources"][0]["section"].startswith("expert_")


def test_filters(api):
    body = ask(api, "¿qué prácticas hay?", filters={"region": "Callao"})
    assert not body["abstained"] and {s["region"] for s in body["sources"]} == {"Callao"}
    body = ask(api, "sostenibilidad de la práctica", filters={"section": "expert"})
    assert body["sources"] and all(s["section"].startswith("expert_") for s in body["sources"])
    body = ask(api, "resultados", filters={"office": "UGEL Nasca", "section": "results"})
    assert {s["practice_id"] for s in body["sources"]} == {"compartimos-nuestro-amor-por-la-lectura-en"}
    assert {s["section"] for s in body["sources"]} == {"results"}
    body = ask(api, "resultados", filters={"region": "Ica"})
    assert all(s["region"] == "Ica" for s in body["sources"]), "Ica is not Huancavelica"


@pytest.mark.parametrize(
    "payload", [{"question": ""}, {"question": "   "}, {"question": "x" * 2001}, {}, {"question": "ok", "k": 0}]
)
def test_bad_questions_get_422_in_spanish(api, payload):
    response = api.post("/api/ask", json=payload)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    assert "Traceback" not in response.text


def test_empty_and_long_question_messages(api):
    assert api.post("/api/ask", json={"question": ""}).json()["detail"] == "Escriba una pregunta."
    assert "2000 caracteres" in api.post("/api/ask", json={"question": "x" * 2001}).json()["detail"]


def test_search_practices_and_health(api):
    results = api.get("/api/search", params={"q": "biblioteca digital multigrado", "k": 3}).json()["results"]
    assert len(results) == 3 and results[0]["region"] == "Ica"
    practices = api.get("/api/practices").json()["practices"]
    assert len(practices) == 10
    ica = api.get("/api/practices", params={"region": "Ica"}).json()["practices"]
    assert [p["offices"] for p in ica] == [["UGEL Nasca"]]
    record = api.get(f"/api/practices/{ica[0]['id']}").json()
    assert record["experts"][0]["expert"] == "Liliana Coaguila Manero"
    assert {s["type"] for s in record["sections"]} >= {"problem", "strategies", "results"}
    assert api.get("/api/practices/no-existe").status_code == 404
    health = api.get("/healthz").json()
    assert health["status"] == "ok" and health["practices"] == 10 and health["chunks"] > 100


def test_missing_index_answers_503_with_instructions(tmp_path: Path):
    app = create_app(make_settings(CORPUS, tmp_path / "vacio"), start_telegram=False)
    with serve(app) as url:
        for method, path, body in [
            ("post", "/api/ask", {"question": "hola"}),
            ("get", "/healthz", None),
            ("get", "/api/practices", None),
        ]:
            response = httpx.request(method, url + path, json=body, timeout=30)
            assert response.status_code == 503
            assert "python -m indexer build" in response.json()["detail"]


def test_conversation_followups_over_http(api):
    first = ask(api, "¿Qué prácticas abordan el riesgo de desastres en escuelas rurales?")
    assert first["conversation_id"] and first["answer_id"] and first["intent"] == "similar"
    assert first["sources"][0]["expert"] is None or isinstance(first["sources"][0]["expert"], str)
    practice = first["sources"][0]["practice_id"]
    again = ask(api, "¿y qué resultados tuvo?", conversation_id=first["conversation_id"])
    assert again["conversation_id"] == first["conversation_id"] and again["intent"] == "results"
    assert again["answer_id"] != first["answer_id"]
    assert {s["practice_id"] for s in again["sources"] if s["section"] == "results"} == {practice}
    compared = ask(api, "compárala con la de Junín", conversation_id=first["conversation_id"])
    assert compared["intent"] == "compare" and compared["comparison"]["practices"][0]["practice_id"] == practice
    assert compared["comparison"]["rows"][0]["section"] == "Problema"
    unknown = ask(api, "¿y qué resultados tuvo?", conversation_id="no-such-conversation")
    assert unknown["conversation_id"] != "no-such-conversation"
    too_long = api.post("/api/ask", json={"question": "hola", "conversation_id": "x" * 65})
    assert too_long.status_code == 422


def test_stream_final_answer_carries_the_conversation(api):
    with api.stream(
        "POST", "/api/ask/stream", json={"question": "¿Qué recomendaron los expertos a la UGEL Huaura?"}
    ) as r:
        body = "".join(r.iter_text())
    assert "event: answer" in body
    import json as _json

    final = _json.loads(body.split("event: answer\ndata: ", 1)[1].strip())
    assert final["intent"] == "experts" and final["conversation_id"] and final["answer_id"]


def test_followup_about_a_section_the_practice_lacks_over_http(api):
    """As on Telegram: a follow-up asking for a section the practice's sheet does not have says so plainly (and
    names the practice it is about) rather than quoting another section; the conversation keeps the practice."""
    first = ask(api, "¿Qué hicieron en la UGEL Angaraes?")
    practice = first["sources"][0]["practice_id"]
    assert first["followup_practice"] is None
    conversation = first["conversation_id"]
    contact = ask(api, "¿quién es el contacto?", conversation_id=conversation)
    assert contact["abstained"] and contact["sources"] == []
    assert "no registra contactos" in contact["answer"] and "UGEL Angaraes" in contact["answer"]
    about = contact["followup_practice"]
    assert about["practice_id"] == practice and "UGEL Angaraes" in about["label"] and about["title"]
    objectives = ask(api, "¿y cuáles eran sus objetivos?", conversation_id=conversation)
    assert objectives["abstained"] and "no incluye «Objetivos»" in objectives["answer"]
    results = ask(api, "¿y qué resultados tuvo?", conversation_id=conversation)
    assert not results["abstained"] and results["followup_practice"]["practice_id"] == practice
    assert {s["practice_id"] for s in results["sources"]} == {practice}
    assert {s["section"] for s in results["sources"]} == {"results"}
