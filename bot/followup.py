"""Is a message a follow-up about the practice just discussed, and about which section?

"¿y qué resultados tuvo?", "¿quién es el contacto?", "¿qué recomendaron los expertos?" right after
an answer refer to that answer's practice; "¿qué prácticas hay en Junín?" or "resultados en
comprensión lectora" do not.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.language import FOLLOWUP_FILLERS, fold, followup_section, is_section_word, is_stop_word

# Words that point back at what was just said.
_BACK = re.compile(
    r"\b(esa|esta|dicha|aquella|misma) (practica|experiencia|estrategia|iniciativa)\b"
    r"|\bla (practica|experiencia)\b(?! de)"
    r"|\b(ellos|ellas|ella)\b"
    # a pronoun standing for the practice before its verb: «¿quién la presentó?», «¿cómo lo lograron?»
    r"|^(quien|quienes|como|cuando|donde|por que|para que)( la| lo)? (la|lo) [a-z]+(o|aron|ieron|an|en)\b"
)
_LEADING = re.compile(r"^(y|e|tambien|ademas|entonces|y de|y sobre|y en cuanto a)\b")

MAX_WORDS = 16


def asked_section(text: str) -> str | None:
    """The section type (or `expert`) the message asks about, if any."""
    return followup_section(fold(text))


def topic_words(text: str) -> list[str]:
    """Words left once question words, pronouns and section words are removed: what the
    message is about besides 'that practice'."""
    return [
        w
        for w in fold(text).split()
        if not is_stop_word(w) and w not in FOLLOWUP_FILLERS and not is_section_word(w) and not w.isdigit()
    ]


def is_followup(text: str, names_other_practice: Callable[[str], bool]) -> bool:
    """True when `text` is about the practice in context.

    It is if it points back at it ("¿y...?", "esa práctica", "ellos") or asks about one of its
    sections without a topic of its own ("¿qué resultados tuvo?"), and does not name another
    practice, office or region (`names_other_practice` is asked only when there are topic words).
    """
    norm = fold(text)
    words = norm.split()
    if not words or len(words) > MAX_WORDS:
        return False
    topic = topic_words(text)
    if topic and names_other_practice(text):
        return False
    if _BACK.search(norm):
        return True
    if _LEADING.match(norm):
        return len(topic) <= 3
    return asked_section(text) is not None and len(topic) <= 1
