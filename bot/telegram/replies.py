"""Sending Telegram-HTML replies: split to fit, buttons under the last part, a plain-text fallback
if Telegram refuses the markup, "typing…" while working, and live edits for a streamed answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.schemas import Answer
from bot.telegram.format import MAX_MESSAGE, esc, render_answer, split_html, strip_tags
from bot.telegram.texts import Texts

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
TYPING_EVERY_S = 4.5  # Telegram shows "typing…" for 5 s
EDIT_EVERY_S = 1.0  # at most one edit a second while streaming

# buttons that depend on the final answer (its feedback token): made once the answer is known
KeyboardFor = Callable[[Answer], Awaitable[InlineKeyboardMarkup | None]]


async def _call(fn: Any, /, **kwargs: Any) -> Any:
    """A Bot API call, retried once after a flood-control RetryAfter."""
    try:
        return await fn(**kwargs)
    except RetryAfter as e:
        delay = e.retry_after.total_seconds() if hasattr(e.retry_after, "total_seconds") else float(e.retry_after)
        await asyncio.sleep(min(delay, 30.0))
        return await fn(**kwargs)


async def send_html(
    bot: Any,
    chat_id: int,
    markup: str,
    *,
    keyboard: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
    limit: int = MAX_MESSAGE,
) -> list[Message]:
    """Send `markup` as one or more messages of at most `limit` characters, split on paragraph
    boundaries; the first part replies to `reply_to`, the keyboard goes under the last part."""
    parts = split_html(markup, limit)
    sent: list[Message] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        kwargs: dict[str, Any] = {
            "chat_id": chat_id,
            "text": part,
            "parse_mode": ParseMode.HTML,
            "link_preview_options": NO_PREVIEW,
            "reply_markup": keyboard if last else None,
        }
        if i == 0 and reply_to is not None:
            kwargs["reply_parameters"] = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
        try:
            sent.append(await _call(bot.send_message, **kwargs))
        except BadRequest as e:
            text = str(e).lower()
            if "too long" in text and limit > 1024:
                log.warning("Telegram found a part too long (%d chars); splitting it further", len(part))
                sent.extend(await send_html(bot, chat_id, part, keyboard=kwargs["reply_markup"], limit=limit // 2))
            elif "parse entities" in text:
                log.warning("Telegram could not parse a message's HTML (%s); sending it as plain text", e)
                kwargs.update(text=strip_tags(part), parse_mode=None)
                sent.append(await _call(bot.send_message, **kwargs))
            else:
                raise
    return sent


async def edit_html(bot: Any, message: Message, markup: str, *, keyboard: InlineKeyboardMarkup | None = None) -> None:
    try:
        await _call(
            bot.edit_message_text,
            chat_id=message.chat_id,
            message_id=message.message_id,
            text=markup,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=keyboard,
        )
    except BadRequest as e:
        if "not modified" in str(e).lower():
            return
        if "parse entities" in str(e).lower():
            await _call(
                bot.edit_message_text,
                chat_id=message.chat_id,
                message_id=message.message_id,
                text=strip_tags(markup),
                reply_markup=keyboard,
            )
            return
        raise


@contextlib.asynccontextmanager
async def typing(bot: Any, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" in the chat until the block ends (failures to do so are ignored)."""

    async def keep_typing() -> None:
        while True:
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY_S)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _preview(partial: str) -> str:
    """A partial streamed text as a safe, short-enough HTML preview."""
    text = esc(partial.strip()) or "…"
    if len(text) > MAX_MESSAGE - 2:
        text = split_html(text, MAX_MESSAGE - 2)[0] + " …"
    return text


async def stream_preview(
    bot: Any, chat_id: int, partials: AsyncIterator[str], *, reply_to: int | None = None, every_s: float = EDIT_EVERY_S
) -> Message | None:
    """Show a streamed answer as it grows: one message, edited at most once every `every_s`.
    Returns the message, to be replaced by the final answer (None if nothing was streamed)."""
    message: Message | None = None
    shown = ""
    last_edit = 0.0
    async for partial in partials:
        now = time.monotonic()
        if message is None:
            if not partial.strip():
                continue
            shown = _preview(partial)
            message = (await send_html(bot, chat_id, shown, reply_to=reply_to))[0]
            last_edit = now
        elif now - last_edit >= every_s:
            preview = _preview(partial)
            if preview != shown:
                await edit_html(bot, message, preview)
                shown, last_edit = preview, now
    return message


async def reply_with_answer(
    bot: Any,
    chat_id: int,
    answer: Answer | Awaitable[Answer],
    texts: Texts,
    *,
    keyboard: InlineKeyboardMarkup | KeyboardFor | None = None,
    reply_to: int | None = None,
    header: str = "",
    partials: AsyncIterator[str] | None = None,
) -> list[Message]:
    """Send an answer with its numbered sources and buttons (`keyboard` may be a function of the final answer).

    With `partials` (an async iterator of the growing answer text, e.g. from an LLM), the text is
    shown as it arrives in one message edited at most once a second; `answer` may then be an
    awaitable resolved once the stream ends, and the message is finally replaced by the rendered
    answer (further parts, if any, are sent after it)."""
    placeholder = None
    if partials is not None:
        placeholder = await stream_preview(bot, chat_id, partials, reply_to=reply_to)
    final = answer if isinstance(answer, Answer) else await answer
    if callable(keyboard):
        keyboard = await keyboard(final)
    markup = render_answer(final, texts, header=header)
    if placeholder is None:
        return await send_html(bot, chat_id, markup, keyboard=keyboard, reply_to=reply_to)
    parts = split_html(markup)
    await edit_html(bot, placeholder, parts[0], keyboard=keyboard if len(parts) == 1 else None)
    rest = "\n\n".join(parts[1:])
    return [placeholder, *(await send_html(bot, chat_id, rest, keyboard=keyboard) if rest else [])]
