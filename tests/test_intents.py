"""Intent-aware answers over the shipped corpus (real index): each intent gets its own extractive plan."""

from __future__ import annotations

import re

import pytest

from bot.conversation import ConversationStore
from bot.schemas import Answer, Filters
from bot.service import Assistant
from indexer.models import parse_contacts


def cites_only_sources(answer: Answer) -> None:
    """Every statement cites sources the answer lists, numbered in the order the answer first cites them."""
    numbers = {s.n for s in answer.sources}
    order = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)]
    cited = set(order)
    assert cited and cited <= numbers
    first_seen = list(dict.fromkeys(order))
    assert first_seen == list(range(1, len(first_seen) + 1))
    for finding in answer.findings:
        for statement in finding.statements:
            assert statement.sources and set(statement.sources) <= numbers


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("Tenemos muchos casos de violencia escolar y no hay psicólogos en los colegios", "similar"),
        ("¿Qué hicieron en la práctica de Pasco?", "what_they_did"),
        ("¿Cómo surgió la práctica de la UGEL Huaura?", "how_it_started"),
        ("¿Qué resultados tuvo la práctica de Ayacucho?", "results"),
        ("¿Qué recomendaron los expertos a la UGEL Huaura?", "experts"),
        ("¿A quién contacto sobre la práctica de Pasco?", "contact"),
        ("Compara la práctica de Pasco con la de Junín", "compare"),
        ("dame el problema, las estrategias y los resultados de la práctica de Pasco", "everything"),
        ("¿Cuántas instituciones educativas conformaron brigadas en Ayacucho?", "fact"),
        ("la presentación de la UGEL 07, ¿quién la expuso?", "lookup"),
    ],
)
def test_intent_is_read(assistant: Assistant, question: str, intent: str) -> None:
    answer = assistant.ask(question)
    assert answer.intent == intent
    assert answer.answer_id and answer.conversation_id
    if not answer.abstained:
        cites_only_sources(answer)


def test_results_lists_the_practice_results(assistant: Assistant) -> None:
    answer = assistant.ask("¿Qué resultados tuvo la práctica de Ayacucho?")
    assert len(answer.findings) == 1 and "Ayacucho" in answer.findings[0].label
    assert len(answer.findings[0].statements) >= 5  # the list, not two sentences
    assert any("345" in s.text for s in answer.findings[0].statements)
    assert all(s.section == "results" for s in answer.sources if s.n in answer.findings[0].statements[0].sources)


def test_experts_lists_every_recommendation_with_name_and_role(assistant: Assistant) -> None:
    answer = assistant.ask("¿Qué recomendaron los expertos a la UGEL Huaura?")
    statements = answer.findings[0].statements
    assert len(statements) >= 5
    assert all("Jorge Chávez Escobar" in s.text and "CNE" in s.text for s in statements)
    cited = {n for s in statements for n in s.sources}
    assert all(s.expert == "Jorge Chávez Escobar" for s in answer.sources if s.n in cited)


def test_contacts_give_names_roles_and_emails(assistant: Assistant) -> None:
    answer = assistant.ask("¿A quién contacto sobre la práctica de Pasco?")
    text = answer.answer
    assert "Ada Liz Valentín León" in text and "Especialista de Educación Secundaria" in text
    assert "ingles@drepassco.gob.pe" in text and "Director de la DRE Pasco" in text


def test_contacts_asked_in_the_words_of_a_sheet_give_names(assistant: Assistant) -> None:
    """«…de la ficha de Junín» asks for the contacts, not the whole sheet; «¿quién aparece como director…?» gets
    the person's name with the role, not the role line alone."""
    answer = assistant.ask("oye quien es el contacto de la ficha de Junin sobre el seguimiento del plan anual?")
    assert answer.intent == "contact"
    assert "Jaime Ortega" in answer.answer and "jortegac@drej.edu.pe" in answer.answer
    answer = assistant.ask("en la ficha de las redes de Lima Metropolitana quien aparece como director de la DRELM?")
    assert "Tupayachi" in answer.answer
    cites_only_sources(answer)


def test_compare_gives_a_table(assistant: Assistant) -> None:
    answer = assistant.ask("Compara la práctica de Pasco con la de Junín")
    assert answer.comparison is not None
    labels = [p.label for p in answer.comparison.practices]
    assert "Pasco" in labels[0] and "Junín" in labels[1]
    assert [r.section for r in answer.comparison.rows][:3] == ["Problema", "Estrategias", "Resultados"]
    numbers = {s.n for s in answer.sources}
    for row in answer.comparison.rows:
        assert len(row.cells) == 2
        for cell in row.cells:
            assert set(cell.sources) <= numbers


def test_everything_summarises_each_section_with_the_sheet_link(assistant: Assistant) -> None:
    answer = assistant.ask("dame el problema, las estrategias y los resultados de la práctica de Pasco")
    finding = answer.findings[0]
    assert finding.url == f"/practicas/{finding.practice_id}"
    texts = " ".join(s.text for s in finding.statements)
    assert "Problema:" in texts and "Estrategias:" in texts and "Resultados:" in texts


def test_similar_is_short_with_office_problem_strategy_result_and_link(assistant: Assistant) -> None:
    answer = assistant.ask("¿Qué prácticas abordan el riesgo de desastres en escuelas rurales?")
    assert answer.intent == "similar" and len(answer.answer) <= 1500
    first = answer.findings[0]
    assert "Ayacucho" in first.label and first.url
    texts = [s.text for s in first.statements]
    assert texts[0].startswith("Problema:") and any(t.startswith("Resultados:") and re.search(r"\d", t) for t in texts)


def test_lookup_says_the_corpus_names_only_the_role(assistant: Assistant) -> None:
    answer = assistant.ask("la presentación de la UGEL 07, ¿quién la expuso?")
    assert "UGEL 07" in answer.findings[0].label
    assert "no nombra" in answer.answer and "Directora de la UGEL" in answer.answer
    assert "líneas" in answer.answer or "página" in answer.answer or "diapositiva" in answer.answer


def test_lookup_cites_each_heading_that_presents_the_practice(assistant: Assistant) -> None:
    """Which offices presented a practice, in which document and where: its headings, every office named."""
    answer = assistant.ask("¿Qué instancias presentaron la práctica de gestión del riesgo de desastres de Ayacucho?")
    assert answer.intent == "lookup" and "Ayacucho" in answer.findings[0].label
    assert answer.sources[0].section == "heading" and "UGEL Vilcashuamán" in answer.sources[0].text
    assert "UGEL Vilcashuamán" in answer.answer and "Reporte de sistematización" in answer.answer
    cites_only_sources(answer)
    named = assistant.ask("como se llamaba completita la practica de Junín del PAT? necesito el nombre exacto")
    assert named.intent == "lookup"
    assert [s.section for s in named.sources[:2]] == ["heading", "heading"]  # its sheet and the report
    assert len({s.document for s in named.sources[:2]}) == 2
    cites_only_sources(named)


def test_an_expert_named_gets_that_experts_commentary(assistant: Assistant) -> None:
    answer = assistant.ask("Según Sofía Meza Durán, ¿qué le falta a la práctica en su trabajo con las familias?")
    assert answer.intent == "experts" and "Angaraes" in answer.findings[0].label
    assert answer.sources[0].section == "expert_opportunities" and "familias y comunidades" in answer.answer
    by_office = assistant.ask("q dijo la especialista de odenaged sobre lo de riesgo de desastres? q tenian q mejorar")
    assert by_office.intent == "experts" and "Indira Judhit Alvarez Ascencio" in by_office.answer
    cites_only_sources(answer)


def test_a_similar_answer_adds_the_advice_that_matched_best(assistant: Assistant) -> None:
    """When what matched the question best is the experts' advice, the answer says it besides problem, strategies
    and results, citing it."""
    answer = assistant.ask(
        "atendemos mas o menos bien a los chicos con discapacidad pero y los q son super pilas, talentosos? "
        "tb deberian entrar en lo de inclusion no? xq nadie los ve"
    )
    assert answer.intent == "similar" and "Callao" in answer.findings[0].label
    said = [s for s in answer.findings[0].statements if s.text.startswith("Según ")]
    assert said and any("altas capacidades" in answer.sources[n - 1].text for n in said[0].sources)
    cites_only_sources(answer)


def test_the_exchange_visit_is_told_from_the_exchange(assistant: Assistant) -> None:
    answer = assistant.ask("¿Dónde fue la pasantía del segundo día del intercambio y qué práctica se visitó?")
    assert answer.intent == "other" and answer.sources[0].section == "event"
    assert "Huaura" in answer.answer


def test_lookup_without_a_presenter_names_the_office(assistant: Assistant) -> None:
    """Who presented a practice the corpus names no presenter for: its office, and that no person is named."""
    first = assistant.ask("los profes no saben qué hacer con los estudiantes con discapacidad")
    assert "Callao" in first.findings[0].label
    who = assistant.ask("¿quién la presentó?", conversation_id=first.conversation_id)
    assert who.intent == "lookup" and who.followup_practice is not None
    assert "DRE Callao" in who.answer and "no nombra a la persona" in who.answer
    cites_only_sources(who)


def test_followups_resolve_in_the_conversation(assistant: Assistant) -> None:
    first = assistant.ask("¿Qué prácticas abordan el riesgo de desastres en escuelas rurales?")
    practice = first.findings[0].practice_id
    results = assistant.ask("¿y qué resultados tuvo?", conversation_id=first.conversation_id)
    assert results.conversation_id == first.conversation_id and results.intent == "results"
    assert results.findings[0].practice_id == practice and len(results.findings[0].statements) >= 5
    # named once, by the follow-up line, not again at the head of the answer
    assert results.followup_practice is not None and results.followup_practice.label not in results.answer
    compared = assistant.ask("compárala con la de Junín", conversation_id=first.conversation_id)
    assert compared.comparison is not None
    assert compared.comparison.practices[0].practice_id == practice
    fresh = assistant.ask("¿y qué resultados tuvo?", conversation_id="unknown")
    assert fresh.conversation_id != "unknown"


def test_followup_quotes_the_practice_own_section_when_no_passage_is_found(assistant: Assistant) -> None:
    mancomunidad = assistant.find_practice("Mancomunidad Educativa")
    assert mancomunidad is not None
    question = "¿y cuáles eran sus objetivos?"
    answer = assistant.ask(question, conversation_id=assistant.discuss(mancomunidad.id))
    assert answer.followup_practice is not None and answer.followup_practice.practice_id == mancomunidad.id
    assert {(s.practice_id, s.section) for s in answer.sources} == {(mancomunidad.id, "objectives")}
    # the passages found say nothing: the practice's own objectives are quoted, each item with its source
    nothing = assistant.retriever.search(question, Filters(practice_id="no-such-practice"))
    assert not nothing.records
    planner = assistant.planner
    quoted = planner.compose(question, nothing, "other", [mancomunidad], followup=True, section="objectives")
    assert not quoted.abstained and quoted.findings[0].practice_id == mancomunidad.id
    assert {s.section for s in quoted.sources} == {"objectives"}
    cites_only_sources(quoted)


def test_conversations_expire_and_are_bounded() -> None:
    now = [0.0]
    store = ConversationStore(ttl_s=10, max_conversations=2, clock=lambda: now[0])
    a, b, c = store.open(None), store.open(None), store.open(None)
    for conversation in (a, b, c):
        store.remember(conversation, practice_ids=["p"], question="q", intent="other")
    assert store.get(a.id) is None and store.get(c.id) is not None and len(store) == 2
    now[0] = 11
    assert store.get(c.id) is None


def test_contacts_are_parsed() -> None:
    contacts = parse_contacts("Ana Pérez Soto\nEspecialista\nCorreo: ana@x.pe\n\nDirector de la UGEL\n")
    assert contacts[0].name == "Ana Pérez Soto" and contacts[0].role == "Especialista"
    assert contacts[0].email == "ana@x.pe" and contacts[1].name == "Director de la UGEL"
    # the sheets' layout: name, role and e-mail separated by blank lines is one person
    sheet = "Jaime Ortega Cárdenas\n\nEspecialista DRE Junín\n\nCorreo: [jo@drej.pe](mailto:jo@drej.pe)\n"
    spaced = [(c.name, c.role, c.email) for c in parse_contacts(sheet)]
    assert spaced == [("Jaime Ortega Cárdenas", "Especialista DRE Junín", "jo@drej.pe")]


def test_sources_show_the_found_passage_with_its_section_neighbours_once(assistant: Assistant) -> None:
    answer = assistant.ask(
        "en mi ugel el PAT se hace x cumplir, se copia del año pasado, se sube y nadie lo vuelve a mirar hasta "
        "diciembre. todo el año es apagar incendios"
    )
    assert "Junín" in answer.findings[0].label
    # the sentence naming Junín's problem ("gestión desarticulada") lies in the chunk after the one found
    assert any("desarticulada" in s.text for s in answer.sources[:5])
    windows = [s for s in answer.sources if s.section not in {"contacts"}][:5]
    for i, first in enumerate(windows):
        for second in windows[i + 1 :]:
            if (first.document, first.section) == (second.document, second.section):
                a, b = first.lines
                c, d = second.lines
                assert not (a < d and c < b), "a chunk shown in two sources"


def test_a_passage_shown_inside_another_source_is_still_quoted_and_cites_that_source(assistant: Assistant) -> None:
    """The passage with Pasco's 72 % is found but lies in the window of a source shown before it: its sentence is
    still a candidate and cites the source that shows it."""
    answer = assistant.ask("¿Cuánto aumentó la cobertura de asistencias técnicas en Pasco?")
    statements = [s for f in answer.findings for s in f.statements if "72" in s.text]
    assert statements
    by_number = {s.n: s for s in answer.sources}
    assert all("72" in by_number[n].text for s in statements for n in s.sources)
