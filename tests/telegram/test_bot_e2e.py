"""End to end: the real python-telegram-bot Application polling the fake Bot API server over
127.0.0.1, answering with the real Assistant over the shipped corpus.

The fake server refuses what Telegram refuses (over-long text, bad HTML, over-long callback
data), so every test also checks that nothing the bot sent was refused (`api.rejected`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.feedback_api import feedback_router
from bot.sources import record_label
from bot.telegram.app import SECRET_HEADER, TelegramBot, start_telegram_bot, telegram_webhook_router
from bot.telegram.format import render_answer, split_html, utf16_len
from bot.telegram.replies import reply_with_answer, send_html
from bot.telegram.texts import default_texts
from tests.fakes.telegram_api import FakeBotAPI, Harness, SentMessage, bot_settings, parse_telegram_html

TEXTS = default_texts()
APOLOGY = TEXTS.plain("apology")

Q_JUNIN = "evaluación trimestral con alertas tempranas y planes de mejora"  # DRE Junín, PAT
Q_CALLAO = "Las escuelas regulares derivan a los estudiantes con discapacidad al SAANEE y no se hacen cargo de ellos"
Q_AYACUCHO = "¿Qué prácticas abordan el riesgo de desastres en escuelas rurales?"


def answers(messages: list[SentMessage]) -> list[SentMessage]:
    return [m for m in messages if "Fuentes" in m.plain]


def practice_in_context(harness: Harness, assistant: Any, chat_id: int) -> str | None:
    """The practice the chat's follow-ups refer to: the one the core remembers in the chat's conversation."""
    conversation = assistant.conversations.get(harness.bot.handlers.chats.get(chat_id))
    return conversation.practice_id if conversation is not None else None


def all_buttons_ok(api: FakeBotAPI) -> None:
    for m in api.messages.values():
        for b in m.buttons:
            assert len(b["callback_data"].encode()) <= 64


async def test_start_shows_examples_as_buttons(harness: Harness) -> None:
    [welcome] = await harness.say(1, "/start")
    assert "Buenas Prácticas de Gestión Educativa" in welcome.plain
    assert [b["text"] for b in welcome.buttons] == TEXTS.examples
    replies = await harness.press(welcome, TEXTS.examples[0][:20])
    [answer] = answers(replies)
    assert answer.plain.startswith("Pregunta: " + TEXTS.examples[0])
    assert harness.api.calls_of("answerCallbackQuery")
    assert not harness.api.rejected


async def test_question_answered_with_sources_and_buttons(harness: Harness, assistant: Any) -> None:
    api = harness.api
    replies = await harness.say(7, Q_CALLAO)
    [answer] = replies
    assert answer.reply_to is not None  # quotes the question
    assert "[1]" in answer.plain and "Fuentes" in answer.plain
    callao = assistant.find_practice("Callao")
    assert callao.title in answer.plain
    assert any("DRE Callao" in line or "UGEL Ventanilla" in line for line in answer.plain.splitlines())
    labels = [b["text"] for b in answer.buttons]
    assert any(label.startswith("📄") for label in labels)
    assert TEXTS.plain("buttons.more") in labels and "👍" in labels and "👎" in labels
    assert api.calls_of("sendChatAction")[0].params["action"] == "typing"

    # 👍 is stored with the question and the sources shown, and served to facilitators
    await harness.press(answer, "👍")
    thanks = api.calls_of("answerCallbackQuery")[-1]
    assert thanks.params["text"] == TEXTS.plain("feedback_thanks")
    web = FastAPI()
    web.include_router(feedback_router(harness.bot.settings, harness.bot.store))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://t") as client:
        assert (await client.get("/api/feedback")).status_code == 401
        data = (await client.get("/api/feedback", headers={"Authorization": "Bearer admin-secret"})).json()
    [item] = data["items"]
    assert item["vote"] == "up" and item["question"] == Q_CALLAO
    assert item["sources"] and item["sources"][0]["n"] == 1

    # "Más resultados": further passages, numbered after the answer's sources
    shown = len(item["sources"])
    [more] = await harness.press(answer, TEXTS.plain("buttons.more"))
    assert more.plain.startswith("Más resultados para")
    assert f"[{shown + 1}]" in more.plain
    all_buttons_ok(api)
    assert not api.rejected


async def test_sheet_button_shows_the_practice_sheet(harness: Harness, assistant: Any) -> None:
    [answer] = await harness.say(3, Q_AYACUCHO)
    [sheet] = await harness.press(answer, "📄")  # ONE message
    assert sheet.plain.startswith("📄")
    practice_id = practice_in_context(harness, assistant, 3)
    assert practice_id is not None
    record = assistant.record(practice_id)
    assert record.title in sheet.plain
    assert "El corpus no incluye contactos para esta práctica." in sheet.plain
    assert [b["text"] for b in sheet.buttons] == ["Problema", "Estrategias", "Resultados", "Expertos", "Contactos"]
    [problem] = await harness.press(sheet, "Problema")
    assert "· Problema" in problem.plain and "Estrategias" not in problem.plain
    assert utf16_len(sheet.plain) <= 4096
    all_buttons_ok(harness.api)
    assert not harness.api.rejected


PUBLIC = "https://bpge.example.org"
COLLOQUIAL = "oiga, ¿cómo le hicieron en Ayacucho con lo de los desastres en los colegios del campo?"
INFORMAL = re.compile(r"\b(tú|tu|tus|te|puedes|escribe|prueba|intenta|vuelve|cuéntame|elige|mira|quieres)\b", re.I)


async def test_replies_fit_a_phone_with_links(make_bot: Any, assistant: Any) -> None:
    harness = await make_bot(public_url=PUBLIC + "/")
    [answer] = await harness.say(21, COLLOQUIAL)
    plain = answer.plain
    assert len(plain) <= 1600, len(plain)
    ayacucho = assistant.find_practice("Ayacucho")
    assert plain.count(ayacucho.title) == 1  # the practice is named once
    assert not re.search(r"\.(txt|pdf|docx|pptx)\b", plain) and "línea" not in plain
    assert f'href="{PUBLIC}/practicas/{ayacucho.id}' in answer.text
    assert "#citado" in answer.text
    follow = await harness.say(21, "¿y qué resultados tuvo?")
    assert all(len(m.plain) <= 1600 for m in follow)

    sheet = await harness.say(21, "/practica pasco")
    assert len(sheet) <= 2
    pasco = assistant.find_practice("pasco")
    assert pasco.title in sheet[0].plain and f"{PUBLIC}/practicas/{pasco.id}" in sheet[0].text
    assert "@" in sheet[0].plain  # contacts in the card
    labels = [b["text"] for b in sheet[-1].buttons]
    assert {"Problema", "Estrategias", "Resultados", "Expertos", "Contactos"} <= set(labels)
    [strategies] = await harness.press(sheet[-1], "Estrategias")
    assert "· Estrategias" in strategies.plain and "Resultados" not in strategies.plain.split("\n")[0]
    [experts] = await harness.press(sheet[-1], "Expertos")
    assert experts.plain.count("Juana Sono Hernández") <= 3
    for m in harness.api.messages.values():
        assert not INFORMAL.search(m.plain), m.plain
    all_buttons_ok(harness.api)
    assert not harness.api.rejected


def test_texts_use_usted() -> None:
    for key in ("start", "help", "rate_limited", "apology", "search_usage", "practice_usage", "button_expired"):
        assert not INFORMAL.search(TEXTS.plain(key, limit=1, seconds=1)), key


async def test_practica_and_regiones(harness: Harness, assistant: Any) -> None:
    sheet = await harness.say(4, "/practica UGEL Nasca")
    nasca = assistant.find_practice("UGEL Nasca")
    assert len(sheet) == 1 and nasca.title in sheet[0].plain

    [usage] = await harness.say(4, "/practica")
    assert len(usage.buttons) == len(assistant.practices())

    [regions] = await harness.say(4, "/regiones")
    for region, practices in assistant.regions().items():
        assert region in regions.plain
        for p in practices:
            assert record_label(p) in regions.plain
    sheet = await harness.press(regions, "📄")
    assert sheet[0].plain.startswith("📄")
    all_buttons_ok(harness.api)
    assert not harness.api.rejected


async def test_followups_refer_to_the_practice_just_discussed(harness: Harness, assistant: Any) -> None:
    junin = assistant.find_practice("DRE Junín")
    [_first] = await harness.say(5, Q_JUNIN)
    assert practice_in_context(harness, assistant, 5) == junin.id

    [results] = await harness.say(5, "¿y qué resultados tuvo?")
    assert results.plain.startswith("Sobre la práctica: " + record_label(junin))
    assert results.plain.count(record_label(junin)) == 1  # named once, by the follow-up line
    sources = results.plain.split("Fuentes", 1)[1]
    assert "Resultados" in sources
    assert "Problema ·" not in sources and "Estrategias ·" not in sources

    [contact] = await harness.say(5, "¿quién es el contacto?")
    assert contact.plain.startswith("Sobre la práctica: " + record_label(junin))
    contacts = [s for s in junin.sections if s.type == "contacts"]
    assert contacts and contacts[0].text.split("\n")[0].strip() in contact.plain

    # a practice whose sheet has no contacts: said plainly, with its offices and its sheet
    angaraes = assistant.find_practice("UGEL Angaraes")
    assert not [s for s in angaraes.sections if s.type == "contacts"]
    await harness.say(5, "/practica UGEL Angaraes")
    [none] = await harness.say(5, "¿quién es el contacto?")
    assert "no registra contactos" in none.plain and "UGEL Angaraes" in none.plain
    assert any(b["text"].startswith("📄") for b in none.buttons)

    # a new question about something else is not a follow-up
    [other] = await harness.say(5, Q_CALLAO)
    assert not other.plain.startswith("Sobre la práctica")
    assert not harness.api.rejected


async def test_followup_context_expires(make_bot: Any) -> None:
    harness = await make_bot(telegram_context_ttl_s=0)
    await harness.say(6, Q_JUNIN)
    await asyncio.sleep(0.05)
    [reply] = await harness.say(6, "¿y qué resultados tuvo?")
    assert not reply.plain.startswith("Sobre la práctica")


async def test_long_answer_is_split_on_paragraphs(harness: Harness, assistant: Any) -> None:
    """A >10,000-character answer (several real answers together) reaches the user in parts of
    at most 4,096 characters, each valid HTML, with nothing lost."""
    api = harness.api
    questions = [
        Q_JUNIN,
        Q_CALLAO,
        Q_AYACUCHO,
        "bibliotecas digitales para escuelas rurales",
        "apoyo emocional a estudiantes, familias y docentes",
        "CETPRO y formación técnica para estudiantes de básica",
    ]
    markup = ""
    for q in questions * 3:
        markup += ("\n\n" if markup else "") + render_answer(assistant.ask(q), TEXTS)
        if len(markup) > 10_500:
            break
    assert len(markup) > 10_000
    parts = split_html(markup)
    assert len(parts) >= 3
    sent = await send_html(harness.bot.application.bot, 9, markup, keyboard=None)
    assert len(sent) == len(parts)
    received = api.sent(9)
    assert [m.text for m in received] == parts
    for m in received:
        assert utf16_len(m.plain) <= 4096
        assert m.text.count("<b>") == m.text.count("</b>")
    assert "".join("".join(m.plain.split()) for m in received) == "".join(parse_telegram_html(markup).split())
    # ...and a long practice sheet through the bot itself
    sheet = await harness.say(9, "/practica Junín")
    assert len(sheet) == 1  # the sheet is one card, with a button per section
    assert utf16_len(sheet[0].plain) <= 4096
    assert not api.rejected


async def test_user_text_is_escaped(harness: Harness) -> None:
    api = harness.api
    [results] = await harness.say(8, "/buscar <b>riesgo</b> & desastres")
    assert "&lt;b&gt;riesgo&lt;/b&gt; &amp; desastres" in results.text
    assert "<b>riesgo</b> & desastres" in results.plain
    [missing] = await harness.say(8, "/practica <i>nada</i> & <zz")
    assert "<i>nada</i> & <zz" in missing.plain
    replies = await harness.say(8, "<b>¿riesgo & desastres?</b> <script>")
    assert replies and APOLOGY not in [m.plain for m in replies]
    assert not api.rejected


async def test_rate_limit(make_bot: Any) -> None:
    harness = await make_bot(telegram_rate_limit_per_minute=3)
    api = harness.api
    for _ in range(6):
        api.user_message(11, "simulacros y brigadas en los colegios")
    await harness.idle()
    sent = api.sent(11)
    polite = TEXTS.plain("rate_limited", limit=3, seconds=60).split(";")[0]
    assert len(answers(sent)) == 3
    assert [m.plain.split(";")[0] for m in sent if "Fuentes" not in m.plain] == [polite]
    # another user is not limited
    assert answers(await harness.say(12, "simulacros y brigadas en los colegios"))


async def test_allowlist(make_bot: Any) -> None:
    harness = await make_bot(telegram_allowed_chats="21, -1002")
    [refused] = await harness.say(22, "/start")
    assert refused.plain == TEXTS.plain("not_allowed")
    assert await harness.say(22, Q_JUNIN) == []  # told once, then silence
    assert await harness.say(-1003, "@bpge_test_bot " + Q_JUNIN, chat_type="group", user_id=5) == []
    assert answers(await harness.say(21, Q_JUNIN))
    assert answers(await harness.say(-1002, "@bpge_test_bot " + Q_JUNIN, chat_type="group", user_id=5))


async def test_group_etiquette(harness: Harness) -> None:
    group = -100500
    say = lambda text, **kw: harness.say(group, text, chat_type="supergroup", user_id=77, **kw)  # noqa: E731
    assert await say(Q_JUNIN) == []  # plain chatter: silence
    [answer] = await say(f"@{harness.api.username} {Q_JUNIN}")
    assert "Fuentes" in answer.plain
    [followup] = await say("¿y qué resultados tuvo?", reply_to=answer.message_id)  # a reply to the bot
    assert followup.plain.startswith("Sobre la práctica")
    assert await say("/foo") == []  # unknown command, maybe for another bot
    assert await say("/start@another_bot") == []
    [help_] = await say(f"/foo@{harness.api.username}")
    assert help_.plain.startswith("No conozco el comando /foo")
    [welcome] = await say("/start")
    assert welcome.buttons
    assert not harness.api.rejected


async def test_unknown_command_gets_help(harness: Harness) -> None:
    [reply] = await harness.say(13, "/hola")
    assert reply.plain.startswith("No conozco el comando /hola")
    assert "/buscar" in reply.plain and "/practica" in reply.plain and "/regiones" in reply.plain
    [usage] = await harness.say(13, "/buscar")
    assert usage.plain == TEXTS.plain("search_usage")


class FailingAssistant:
    """The real assistant, except that one question makes it fail."""

    def __init__(self, assistant: Any) -> None:
        self._assistant = assistant

    def __getattr__(self, name: str) -> Any:
        return getattr(self._assistant, name)

    async def stream(self, question: str, *args: Any, **kwargs: Any) -> Any:
        if "explota" in question:
            raise RuntimeError("index unavailable")
        async for event in self._assistant.stream(question, *args, **kwargs):
            yield event


async def test_bot_survives_errors(make_bot: Any, assistant: Any, caplog: pytest.LogCaptureFixture) -> None:
    harness = await make_bot(assistant_override=FailingAssistant(assistant))
    api = harness.api

    # the assistant fails: a short apology, a log line, and the bot goes on
    [sorry] = await harness.say(14, "esto explota")
    assert sorry.plain == APOLOGY
    assert "index unavailable" in caplog.text

    # the Bot API refuses to deliver the answer: an apology instead
    api.fail_next("sendMessage", 1, 500, "Internal Server Error")
    [sorry] = await harness.say(14, Q_JUNIN)
    assert sorry.plain == APOLOGY

    # "typing…" and the button's answer fail: the answer still arrives
    api.fail_next("sendChatAction", 1, 400, "Bad Request: chat not found")
    [answer] = await harness.say(14, Q_JUNIN)
    assert "Fuentes" in answer.plain
    api.fail_next("answerCallbackQuery", 1, 400, "Bad Request: query is too old")
    await harness.press(answer, "👍")

    # everything fails, even the apology: logged, and the bot keeps polling
    api.fail_next("sendMessage", 2, 502, "Bad Gateway")
    assert await harness.say(14, Q_JUNIN) == []
    assert "could not send the apology" in caplog.text

    # getUpdates fails: PTB retries
    api.fail_next("getUpdates", 1, 502, "Bad Gateway")
    await asyncio.sleep(0.2)
    assert answers(await harness.say(14, Q_JUNIN))
    assert harness.bot.application.updater.running


async def test_wrong_token_one_clear_log_line_and_no_token_in_logs(
    api: FakeBotAPI, assistant: Any, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "987654:WRONG-token-never-logged"
    settings = bot_settings(api, tmp_path, telegram_bot_token=wrong)
    assert await start_telegram_bot(settings, assistant) is None
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "rejected TELEGRAM_BOT_TOKEN" in errors[0].getMessage()
    assert wrong not in caplog.text and "WRONG-token" not in caplog.text
    # no token: no bot, no noise
    assert await start_telegram_bot(bot_settings(api, tmp_path, telegram_bot_token=None), assistant) is None


async def test_token_never_logged_while_serving(make_bot: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    harness = await make_bot()
    harness.api.fail_next("sendMessage", 1, 500, "Internal Server Error")
    await harness.say(15, Q_JUNIN)
    await harness.say(15, "/start")
    assert harness.api.token not in caplog.text
    assert harness.api.token.split(":")[1] not in caplog.text


async def test_webhook_mode_checks_the_secret_token(api: FakeBotAPI, assistant: Any, tmp_path: Any) -> None:
    settings = bot_settings(
        api,
        tmp_path,
        telegram_webhook_url="https://bpge.example.org/telegram/webhook",
        telegram_webhook_secret="s3cret-Token_1",
    )
    bot = TelegramBot(settings, assistant)
    assert await bot.start()
    try:
        [hook] = api.calls_of("setWebhook")
        assert hook.params["secret_token"] == "s3cret-Token_1"
        assert hook.params["url"] == "https://bpge.example.org/telegram/webhook"
        web = FastAPI()
        web.include_router(telegram_webhook_router(lambda: bot))
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1, "date": 0, "text": "/start",
                "chat": {"id": 31, "type": "private", "first_name": "G"},
                "from": {"id": 31, "is_bot": False, "first_name": "G"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }  # fmt: skip
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://t") as client:
            assert (await client.post("/telegram/webhook", json=update)).status_code == 403
            assert (
                await client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: "wrong"})
            ).status_code == 403
            assert api.sent(31) == []
            ok = await client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: "s3cret-Token_1"})
            assert ok.status_code == 200
        [welcome] = await api.wait_messages(31, 1)
        assert welcome.buttons
    finally:
        await bot.stop()


async def test_streamed_answer_edits_at_most_once_a_second(harness: Harness, assistant: Any) -> None:
    api = harness.api
    final = assistant.ask(Q_JUNIN)
    words = final.answer.split()

    async def partials():
        for i in range(1, 13):
            await asyncio.sleep(0.2)
            yield " ".join(words[: i * max(1, len(words) // 12)])

    sent = await reply_with_answer(harness.bot.application.bot, 16, final, TEXTS, partials=partials())
    edits = api.calls_of("editMessageText")
    assert len(api.calls_of("sendMessage")) >= 1 and len(edits) >= 2
    times = [c.at for c in edits[:-1]]  # the last edit is the final answer
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(times))
    assert len(edits) <= 1 + 2.4 / 1.0 + 1
    assert api.sent(16)[0].text == split_html(render_answer(final, TEXTS))[0]
    assert sent[0].message_id == api.sent(16)[0].message_id
    assert not api.rejected


async def test_generated_answer_is_streamed_into_one_message(make_bot: Any, assistant: Any) -> None:
    """With LLM_BASE_URL set, the bot uses the web endpoint's pipeline: the model's checked answer
    appears as it is written (one message, edited at most once a second), then the final answer
    with its sources and buttons replaces it."""
    from tests.fakes.llm_server import FakeLLM, Reply

    extractive = assistant.ask(Q_JUNIN)
    statements = [st for f in extractive.findings for st in f.statements][:2]
    generated = " ".join(f"{st.text.rstrip('.')} [{st.sources[0]}]." for st in statements)
    with FakeLLM() as llm:
        llm.reply = Reply(generated, chunk_chars=6, chunk_delay_s=0.06)
        harness = await make_bot(llm_base_url=llm.base_url, llm_model="fake-model", llm_timeout_s=15)
        [answer] = await harness.say(41, Q_JUNIN)
        assert llm.requests, "the model was not called"
    api = harness.api
    edits = api.calls_of("editMessageText")
    assert edits, "the answer was not streamed"
    times = [c.at for c in edits[:-1]]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(times))
    assert answer.reply_to is not None and "Fuentes" in answer.plain
    assert any(b["text"] == "👍" for b in answer.buttons)
    vote = next(b["callback_data"] for b in answer.buttons if b["text"] == "👍")
    logged = harness.bot.store.get_answer(harness.bot.store.answer_for_token(vote.split(":")[1], 41))
    assert logged["answer"] in answer.plain  # the feedback log holds the text shown...
    assert logged["answer"] != extractive.answer  # ...which is the model's (it passed the check)
    assert not api.rejected


async def test_followup_and_generated_answer_go_through_the_core(make_bot: Any, assistant: Any) -> None:
    """The chat's questions are the core's turns of one conversation: the chat keeps the conversation id the core
    gave, the core reads the follow-up against the practice it remembers, and the model's answer to the follow-up
    (streamed by the core) is shown under "Sobre la práctica: …" and logged as shown."""
    from tests.fakes.llm_server import FakeLLM, Reply

    junin = assistant.find_practice("DRE Junín")
    followup = "¿y qué resultados tuvo?"
    # what the core answers to this follow-up about Junín (in a conversation of its own), as a model would write it
    expected = assistant.ask(followup, conversation_id=assistant.discuss(junin.id))
    assert expected.followup_practice is not None and expected.followup_practice.practice_id == junin.id
    statements = [st for f in expected.findings for st in f.statements][:2]
    generated = " ".join(f"{st.text.rstrip('.')} [{st.sources[0]}]." for st in statements)
    with FakeLLM() as llm:
        llm.replies_by_question[followup] = Reply(generated, chunk_chars=8, chunk_delay_s=0.03)
        harness = await make_bot(llm_base_url=llm.base_url, llm_model="fake-model", llm_timeout_s=15)
        [first] = await harness.say(42, Q_JUNIN)
        assert "Fuentes" in first.plain and not first.plain.startswith("Sobre la práctica")
        conversation_id = harness.bot.handlers.chats.get(42)
        conversation = assistant.conversations.get(conversation_id)
        assert conversation is not None and conversation.question == Q_JUNIN
        assert conversation.practice_id == junin.id

        [answer] = await harness.say(42, followup)
        assert len(llm.requests) == 2, "both questions went to the model"
    assert harness.bot.handlers.chats.get(42) == conversation_id  # one conversation for the chat
    conversation = assistant.conversations.get(conversation_id)
    assert conversation.question == followup and conversation.intent == "results"
    assert conversation.practice_id == junin.id
    assert answer.plain.startswith("Sobre la práctica: " + record_label(junin))
    assert statements[0].text.rstrip(".")[:60] in answer.plain and "Fuentes" in answer.plain
    vote = next(b["callback_data"] for b in answer.buttons if b["text"] == "👍")
    logged = harness.bot.store.get_answer(harness.bot.store.answer_for_token(vote.split(":")[1], 42))
    assert logged["question"] == followup and logged["answer"] in answer.plain  # the answer shown: the model's
    assert logged["answer"] != expected.answer and statements[1].text.rstrip(".")[:60] in logged["answer"]
    assert {s["practice_id"] for s in logged["sources"]} == {junin.id}
    assert harness.api.calls_of("editMessageText"), "the follow-up's answer was not streamed"
    assert not harness.api.rejected
