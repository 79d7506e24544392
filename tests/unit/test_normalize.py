"""Questions as gestores write them, rewritten into the documents' words (no model)."""

from __future__ import annotations

from pathlib import Path

from bot.normalize import QuestionNormalizer, Vocabulary

CORPUS_WORDS = [
    "docentes",
    "estudiantes",
    "institucion",
    "educativa",
    "discapacidad",
    "experiencia",
    "lectura",
    "chicos",
]


def normalizer() -> QuestionNormalizer:
    return QuestionNormalizer(CORPUS_WORDS)


def test_shorthand_and_colloquial_words_become_the_documents_words() -> None:
    out = normalizer().normalize("los profes no saben q hacer con los alumnos con discapacidad")
    assert out.text == "los docentes no saben que hacer con los estudiantes con discapacidad"
    assert ("profes", "docentes") in out.changes and ("q", "que") in out.changes


def test_everyday_word_the_documents_also_use_is_kept_beside_the_mapping() -> None:
    out = normalizer().normalize("chicos del cole")
    assert out.text.startswith("chicos estudiantes del institucion educativa")


def test_typos_are_corrected_against_the_corpus_only_when_not_real_words() -> None:
    assert "experiencia" in normalizer().normalize("alguna esperiencia parecida").text
    # «asustan» is a real (inflected) Spanish word, not a typo of a corpus word
    assert normalizer().normalize("los niños se asustan").changes == []


def test_question_without_changes_is_returned_as_written() -> None:
    question = "¿Qué prácticas abordan la lectura?"
    assert normalizer().normalize(question).text == question


def test_vocabulary_is_a_data_file_anyone_can_extend(tmp_path: Path) -> None:
    path = tmp_path / "vocabulary.toml"
    path.write_text('[shorthand]\nxq = "porque"\n[colloquial]\n"aula de innovacion" = "aip"\n', encoding="utf-8")
    vocabulary = Vocabulary.load(path)
    out = QuestionNormalizer(CORPUS_WORDS, vocabulary).normalize("xq el Aula de Innovación no funciona")
    assert out.text == "porque el aip no funciona"


def test_shipped_vocabulary_loads_and_is_folded() -> None:
    vocabulary = Vocabulary.load()
    assert vocabulary.shorthand["q"] == "que"
    assert vocabulary.colloquial["papas"] == "familias"
    assert all(k == k.lower() for k in [*vocabulary.shorthand, *vocabulary.colloquial])
