"""Forged, foreign and garbage button presses, and floods of commands, through the real bot
polling the fake Bot API: nothing of another chat is shown, nothing raises."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.telegram.texts import default_texts
from tests.fakes.telegram_api import Harness

TEXTS = default_texts()
APOLOGY = TEXTS.plain("apology")
EXPIRED = TEXTS.plain("button_expired")
QUESTION = "Las escuelas regulares derivan a los estudiantes con discapacidad al SAANEE y no se hacen cargo de ellos"


def _callback_answers(harness: Harness, since: int) -> list[str]:
    return [c.params.get("text", "") for c in harness.api.calls_of("answerCallbackQuery")[since:]]


async def test_foreign_forged_and_garbage_buttons(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    api = harness.api
    [answer] = await harness.say(501, QUESTION)
    own = {b["text"]: b["callback_data"] for b in answer.buttons}
    more, up = own[TEXTS.plain("buttons.more")], own["👍"]
    assert not any(part.isdigit() for part in more.split(":")[1:]), "button data must not be an answer id"
    [welcome] = await harness.say(502, "/start")  # another chat, with a message to press under
    forged = [
        more,  # another chat's own buttons
        up,
        up.replace(":u", ":d"),
        "m:1",  # the old, enumerable forms
        "v:1:u",
        "m:²",
        "m:" + "9" * 60,
        "v:" + "9" * 60 + ":u",
        "q:²",
        "q:" + "9" * 60,
        "q:-1",
        "f:../../etc/passwd",
        "F:" + "0" * 20,
        "R:zzzz",
        "r:" + "x" * 62,
        "m:" + "A" * 11,
        "v:AAAAAAAAAAA:x",
        "x",
        "",
        ":::",
        "m:\u0000\ud7ff",
    ]
    calls = len(api.calls_of("answerCallbackQuery"))
    before = {m.message_id for m in api.sent(502)}
    for data in forged:
        api.press_button(502, welcome.message_id, data, user_id=502)
    await harness.idle()
    shown = harness.new_messages(502, before)
    assert not shown, [m.plain for m in shown]
    replies = _callback_answers(harness, calls)
    assert len(replies) == len(forged) and set(replies) <= {EXPIRED, TEXTS.plain("feedback_thanks")}
    assert TEXTS.plain("feedback_thanks") not in replies  # no vote on another chat's answer
    assert all(QUESTION not in m.plain for m in api.sent(502))
    assert APOLOGY not in [m.plain for m in api.sent(502)] and not api.rejected
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # the owner's buttons still work
    [extra] = await harness.press(answer, TEXTS.plain("buttons.more"))
    assert extra.plain
    await harness.press(answer, "👍")
    assert _callback_answers(harness, 0)[-1] == TEXTS.plain("feedback_thanks")
    for m in api.messages.values():
        for b in m.buttons:
            assert len(b["callback_data"].encode()) <= 64


async def test_commands_and_buttons_are_rate_limited(make_bot: Any) -> None:
    harness = await make_bot(telegram_rate_limit_per_minute=5)
    api = harness.api
    for _ in range(40):
        api.user_message(601, "/practica")
    await harness.idle()
    sent = api.sent(601)
    polite = TEXTS.plain("rate_limited", limit=5, seconds=60).split(";")[0]
    assert len(sent) <= 5 * 2 + 1, len(sent)
    assert sum(m.plain.startswith(polite) for m in sent) == 1
    # buttons count too: pressing a sheet button 20 times sends no more messages
    sheet = next(m for m in sent if m.buttons)
    before = len(api.sent(601))
    for _ in range(20):
        api.press_button(601, sheet.message_id, sheet.buttons[0]["callback_data"], user_id=601)
    await harness.idle()
    assert len(api.sent(601)) == before
    assert APOLOGY not in [m.plain for m in api.sent(601)]
