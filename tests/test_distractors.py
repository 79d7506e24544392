"""Other documents in the corpus folder change no answer: the practices are ranked, measured and judged as before.

Eight of the 40 documents of `eval/distractors` (an office memo, a TUPA with fees in soles, a SIAGIE FAQ, an opinion
article on reading, a thesis on coexistence, a municipal disaster plan, another sector's good practice, recipes; as
.txt, .docx and .pdf) are added to a copy of the corpus and indexed with the real models and a real Chroma. Each
question below gets the same refusal or the same first practice as over the corpus alone (`python -m eval
--with-documents eval/distractors` measures the whole set: eval/README.md).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.service import Assistant
from tests.support import CORPUS, build_assistant

DISTRACTORS = Path(__file__).resolve().parents[1] / "eval" / "distractors"
CHOSEN = (
    "adm-03-acta-reunion-especialistas.txt",
    "adm-06-tupa-tramites.txt",
    "edu-05-preguntas-frecuentes-siagie.docx",
    "edu-02-articulo-comprension-lectora-finlandia.txt",
    "edu-08-resumen-tesis-convivencia.pdf",
    "sec-09-plan-gestion-riesgo-municipal.txt",
    "sec-05-buena-practica-registro-civil.docx",
    "otr-01-recetario-platos-peruanos.txt",
)
QUESTIONS = (
    "en las comunidades rurales los niños leen poco y no entienden",  # the reading article is near
    "hay mucho bullying en los colegios y los papás no se involucran",  # the thesis on coexistence is near
    "los coles se inundan cada vez q llueve fuerte y se pierden clases",  # the municipal flood plan is near
    "¿cómo registro la matrícula de los estudiantes en el SIAGIE?",  # a topic the FAQ covers, no practice does
    "¿cuánto cuesta un certificado de estudios en la UGEL?",  # the TUPA has the fee: not a practice's figure
    "receta de ceviche",  # the recipes are in the folder: still outside education management
    "¿Cuántos dispositivos de seguridad se distribuyeron en Ayacucho?",
    "la de gestion educativa con impacto q region la presento? y hay algun contacto?",  # the UGEL's minutes are near
)


@pytest.fixture(scope="module")
def with_documents(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    folder = tmp_path_factory.mktemp("with-documents")
    corpus = folder / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "otros").mkdir()
    for name in CHOSEN:
        shutil.copy(DISTRACTORS / name, corpus / "otros" / name)
    return build_assistant(corpus, folder / "data")


def test_the_documents_are_indexed_as_documents(with_documents: Assistant):
    kinds = [r.kind for r in with_documents.retriever.records.values()]
    assert kinds.count("document") == len(CHOSEN)
    assert kinds.count("practice") == 10  # another sector's good practice is not one of the corpus's


@pytest.mark.parametrize("question", QUESTIONS)
def test_other_documents_change_no_answer(assistant: Assistant, with_documents: Assistant, question: str):
    alone, beside = assistant.ask(question), with_documents.ask(question)
    assert beside.abstained == alone.abstained
    assert beside.answer == alone.answer
    # the same sources, in the same order: no memo or other sector's report beside the practices
    assert [(s.practice, s.section) for s in beside.sources] == [(s.practice, s.section) for s in alone.sources]
