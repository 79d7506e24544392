"""Follow-up reading: which messages are about the practice just discussed, and which section they ask for."""

from __future__ import annotations

import pytest

from bot.followup import asked_section, is_followup, topic_words


@pytest.mark.parametrize(
    ("text", "section"),
    [
        ("¿y qué resultados tuvo?", "results"),
        ("¿quién es el contacto?", "contacts"),
        ("¿Qué recomendaron los expertos?", "expert"),
        ("¿Cómo lo hicieron?", "strategies"),
        ("¿y cuál era el problema?", "problem"),
    ],
)
def test_followups_are_recognised(text: str, section: str) -> None:
    assert is_followup(text, lambda _: False)
    assert asked_section(text) == section


@pytest.mark.parametrize("text", ["¿quién la presentó?", "quien la presento", "¿cómo lo lograron?"])
def test_a_pronoun_for_the_practice_makes_a_followup(text: str) -> None:
    assert is_followup(text, lambda _: False)


@pytest.mark.parametrize(
    "text",
    [
        "resultados en comprensión lectora",
        "Tenemos muchos casos de violencia escolar y no hay psicólogos, ¿alguna experiencia que haya funcionado?",
        "¿Qué práctica tiene buenos resultados en violencia escolar?",
        "¿Quién preside la Mancomunidad Educativa de la UGEL 07?",
    ],
)
def test_new_questions_are_not_followups(text: str) -> None:
    assert not is_followup(text, lambda _: False)


def test_naming_another_practice_is_not_a_followup() -> None:
    assert is_followup("¿y en Ayacucho?", lambda _: False)
    assert not is_followup("¿y en Ayacucho?", lambda _: True)


@pytest.mark.parametrize(
    ("text", "section"),
    [
        ("¿quién es el responsable?", "contacts"),
        ("¿y sus objetivos?", "objectives"),
        ("¿cómo funciona?", "strategies"),
        ("¿cuántos docentes participaron?", "results"),
        ("¿qué dificultades tuvieron?", "lessons"),
    ],
)
def test_followup_only_cues_name_a_section(text: str, section: str) -> None:
    assert asked_section(text) == section


def test_topic_words_leave_out_fillers_section_words_and_numbers() -> None:
    assert topic_words("¿Y qué resultados obtuvo esa iniciativa en 2019?") == []
    assert topic_words("¿y los resultados en comprensión lectora?") == ["comprension", "lectora"]
