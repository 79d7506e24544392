"""The bot's pieces on their own: HTML escaping and splitting, callback data, follow-up
detection (the core's, which the bot relies on), rate limit, the chat → conversation map, feedback store
and API, token redaction, the fake server's validation."""

from __future__ import annotations

import logging
import random

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bot.conversation import ExpiringMap
from bot.feedback import FeedbackStore
from bot.feedback_api import feedback_router
from bot.schemas import Answer, Finding, Statement
from bot.sources import Source
from bot.telegram import callbacks as cb
from bot.telegram.format import (
    render_answer,
    render_sheet_card,
    render_sheet_section,
    split_html,
    strip_tags,
    utf16_len,
)
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.redact import REDACTED, protect
from bot.telegram.texts import default_texts
from bot.views import PracticeSheet
from bpge.settings import Settings
from indexer.models import Record, Section, SectionType
from tests.fakes.telegram_api import ApiError, parse_telegram_html

TEXTS = default_texts()


def _check_parts(parts: list[str], limit: int = 4096) -> str:
    """Every part fits and is valid Telegram HTML; returns the displayed text, parts joined."""
    shown = []
    for part in parts:
        assert utf16_len(part) <= limit
        shown.append(parse_telegram_html(part))  # raises on a broken tag or entity
    return "\n".join(shown)


def _squash(text: str) -> str:
    return "".join(text.split())


# --- splitting ---------------------------------------------------------------------------------


def test_split_prefers_paragraphs_and_keeps_everything() -> None:
    paragraphs = [
        f"<b>Párrafo {i}</b>\n" + ("palabra & otra " * random.Random(i).randint(20, 120)).replace("&", "&amp;")
        for i in range(60)
    ]
    markup = "\n\n".join(paragraphs)
    assert utf16_len(markup) > 10_000
    parts = split_html(markup)
    assert len(parts) >= 3
    shown = _check_parts(parts)
    assert _squash(shown) == _squash(parse_telegram_html(markup))
    for part in parts:  # cut between paragraphs: each part starts with a paragraph's heading
        assert part.startswith("<b>Párrafo ")


def test_split_closes_and_reopens_a_tag_spanning_the_cut() -> None:
    markup = "<i>" + " ".join(f"palabra{i} &lt;x&gt;" for i in range(2500)) + "</i>"
    parts = split_html(markup)
    assert len(parts) >= 3
    _check_parts(parts)
    assert all(p.startswith("<i>") and p.endswith("</i>") for p in parts)
    assert _squash(strip_tags("".join(parts))) == _squash(strip_tags(markup))


def test_split_never_cuts_an_entity_or_a_tag_even_without_spaces() -> None:
    markup = ('<a href="https://example.org/a b">' + "&amp;" * 3000 + "</a>") * 2
    parts = split_html(markup, limit=1000)
    _check_parts(parts, limit=1000)
    assert strip_tags("".join(parts)) == "&" * 6000


def test_split_counts_utf16_units() -> None:
    markup = "👍" * 3000  # 2 UTF-16 units each: 6,000 units
    parts = split_html(markup)
    assert [utf16_len(p) for p in parts] == [4096, 6000 - 4096]
    assert "".join(parts) == markup


# --- rendering ----------------------------------------------------------------------------------


def _record() -> Record:
    def sec(kind: SectionType, text: str) -> Section:
        return Section(type=kind, heading="", text=text, document="ficha <x> & y.txt", lines=(1, 3))

    return Record(
        id="p1",
        kind="practice",
        title="Práctica <b>negrita</b> & cía",
        region="Junín",
        offices=["UGEL <Uno>"],
        documents=["ficha <x> & y.txt"],
        sections=[
            sec("problem", "Problema con <script> y **A & B** en 3 < 4"),
            sec("strategies", "### Fase 1\n- **Estrategia 1:** hacer > decir"),
            sec("results", "100% & más"),
            sec("contacts", "Ana <ana@example.org>"),
        ],
    )


def test_corpus_and_user_text_is_escaped_in_a_sheet() -> None:
    sheet = PracticeSheet.of(_record())
    card = render_sheet_card(sheet, TEXTS.with_site("https://bpge.example"))
    markup = "\n\n".join(
        [card, *(render_sheet_section(sheet, key, TEXTS) for key in ("problem", "strategies", "results", "contacts"))]
    )
    shown = parse_telegram_html(markup)
    for raw in (
        "Práctica <b>negrita</b> & cía",
        "UGEL <Uno>",
        "<script>",
        "3 < 4",
        "hacer > decir",
        "<ana@example.org>",
    ):
        assert raw in shown
    assert "<b>A &amp; B</b>" in markup  # corpus **bold** becomes Telegram bold, its text escaped
    assert '<a href="https://bpge.example/practicas/p1">' in card
    assert ".txt" not in parse_telegram_html(card)


def test_answer_rendering_numbers_statements_and_sources() -> None:
    source = Source(
        n=1,
        practice="P <1>",
        practice_id="p1",
        region="Junín",
        offices=["DRE Junín"],
        section="results",
        document="f&d.txt",
        lines=(5, 9),
        text="t",
        score=0.5,
    )
    answer = Answer(
        question="q",
        answer="Logro <alto> [1]",
        abstained=False,
        sources=[source],
        findings=[
            Finding(
                practice_id="p1",
                title="P <1>",
                label="P <1> — DRE Junín",
                statements=[Statement(text="Logro <alto>", sources=[1])],
            )
        ],
    )
    markup = render_answer(answer, TEXTS.with_site("https://bpge.example"))
    shown = parse_telegram_html(markup)
    assert "• Logro <alto> [1]" in shown
    assert "[1] Junín · Resultados · Ficha de la práctica" in shown  # no file name, no line numbers
    assert shown.count("P <1>") == 1  # the practice is named once
    assert "P <1> — DRE Junín" in shown
    assert 'href="https://bpge.example/practicas/p1?doc=f%26d.txt&amp;lineas=5-9#citado"' in markup


def test_texts_escape_their_values() -> None:
    assert TEXTS.html("search_header", query="<b>x</b> & y") == "<b>Resultados para</b> «&lt;b&gt;x&lt;/b&gt; &amp; y»:"
    parse_telegram_html(TEXTS.html("help"))
    parse_telegram_html(TEXTS.html("start"))


# --- callback data ------------------------------------------------------------------------------


def test_callback_data_fits_in_64_bytes_and_resolves() -> None:
    long_id = "práctica-" + "muy-larga-" * 10
    data = cb.pack(cb.SHEET, long_id)
    assert len(data.encode()) <= 64
    kind, value, hashed = cb.unpack(data)
    assert (kind, hashed) == (cb.SHEET, True)
    assert cb.resolve(value, hashed, ["otra", long_id]) == long_id
    assert cb.unpack(cb.pack(cb.SHEET, "corta")) == (cb.SHEET, "corta", False)


# --- rate limit, context -----------------------------------------------------------


def test_rate_limiter_window() -> None:
    now = [0.0]
    limiter = RateLimiter(3, 60, clock=lambda: now[0])
    assert [limiter.hit(1) for _ in range(3)] == [0, 0, 0]
    assert limiter.hit(1) == 60
    assert limiter.hit(2) == 0  # per user
    now[0] = 30.0
    assert limiter.hit(1) == 30
    now[0] = 60.0
    assert limiter.hit(1) == 0
    assert RateLimiter(0).hit(1) == 0  # disabled


def test_context_expires() -> None:
    """A chat's conversation is forgotten `ttl_s` after its last answer; at most `max_items` chats are kept."""
    now = [0.0]
    chats: ExpiringMap[int, str] = ExpiringMap(ttl_s=900, max_items=2, clock=lambda: now[0])
    chats.put(1, "a")
    now[0] = 899
    assert chats.get(1) == "a"
    now[0] = 901
    assert chats.get(1) is None
    for chat in (1, 2, 3):
        chats.put(chat, str(chat))
    assert chats.get(1) is None and chats.get(3) == "3"


# --- feedback -------------------------------------------------------------------------------------


async def test_feedback_store_and_admin_api(tmp_path) -> None:
    store = FeedbackStore.in_data_dir(tmp_path)
    source = Source(
        n=1,
        practice="P",
        practice_id="p",
        region="R",
        offices=[],
        section="results",
        document="d.txt",
        lines=(1, 2),
        text="t",
        score=1,
    )
    answer_id = store.log_answer(
        chat_id=5, user_id=7, question="¿qué?", answer="x [1]", abstained=False, sources=[source]
    )
    assert store.record_vote(answer_id=answer_id, user_id=7, vote=1)
    assert store.record_vote(answer_id=answer_id, user_id=7, vote=-1)  # a changed vote replaces the first
    assert not store.record_vote(answer_id=999, user_id=7, vote=1)
    [item] = store.list_feedback()
    assert item["vote"] == "down" and item["question"] == "¿qué?" and item["sources"][0]["document"] == "d.txt"

    app = FastAPI()
    app.include_router(feedback_router(Settings(admin_token=SecretStr("s3cret"), data_dir=tmp_path), store))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/api/feedback")).status_code == 401
        assert (await client.get("/api/feedback", headers={"Authorization": "Bearer nope"})).status_code == 401
        ok = await client.get("/api/feedback", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert ok.json()["items"][0]["question"] == "¿qué?"
        assert ok.json()["totals"] == {"up": 0, "down": 1}
        assert (await client.get("/api/feedback?vote=up", headers={"Authorization": "Bearer s3cret"})).json()[
            "items"
        ] == []

    closed = FastAPI()
    closed.include_router(feedback_router(Settings(admin_token=None, data_dir=tmp_path), store))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=closed), base_url="http://t") as client:
        assert (await client.get("/api/feedback", headers={"Authorization": "Bearer "})).status_code == 403
    store.close()


# --- logs ----------------------------------------------------------------------------------------


def test_token_is_redacted_from_any_log_record(caplog: pytest.LogCaptureFixture) -> None:
    token = "424242:AAF-unit-test-secret_token"
    protect(token)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("some.library").info("POST https://api.telegram.org/bot%s/getMe", token)
    try:
        raise RuntimeError(f"failed https://api.telegram.org/bot{token}/getUpdates")
    except RuntimeError:
        logging.getLogger("other").exception("boom")
    assert token not in caplog.text
    assert REDACTED in caplog.text
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


# --- the fake server validates like Telegram -------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "reason"),
    [
        ("<b>sin cerrar", "Can't find end tag"),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("<script>x</script>", "Unsupported start tag"),
        ("A & B", '"&"'),
        ("3 < 4", "Unclosed start tag"),
    ],
)
def test_fake_rejects_bad_html(markup: str, reason: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_telegram_html(markup)
    assert err.value.code == 400 and reason in err.value.description
    assert err.value.description.startswith("Bad Request: can't parse entities")
