"""What the bot does with each update: commands, questions, follow-ups, buttons, errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from telegram import (
    BotCommand,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType, MessageEntityType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.conversation import ExpiringMap
from bot.feedback import FeedbackStore
from bot.generation.events import throttled
from bot.limits import MAX_FIELD_CHARS, bounded_int, clean_text
from bot.schemas import MAX_QUESTION_CHARS, Answer
from bot.sources import Source
from bot.telegram import callbacks as cb
from bot.telegram.format import (
    render_practice_list,
    render_regions,
    render_search,
    render_sheet_card,
    render_sheet_section,
)
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.replies import EDIT_EVERY_S, reply_with_answer, send_html, typing
from bot.telegram.texts import Texts
from bot.views import QUICK_LABELS, PracticeSheet
from indexer.models import Record

log = logging.getLogger(__name__)
T = TypeVar("T")

SEARCH_K = 5
MORE_K = 5
MAX_SHEET_BUTTONS = 3
MAX_LIST_BUTTONS = 30
BUTTON_TITLE_CHARS = 38
MAX_CHATS = 10_000  # chats whose conversation is remembered (the least recently active are forgotten)


class AssistantRunner:
    """Runs the blocking Assistant off the event loop, in its own small thread pool (the
    Assistant is safe to call from several threads, as the web app does; two threads suit
    a 2-core machine: retrieval is CPU-bound)."""

    def __init__(self, assistant: Any, workers: int = 2) -> None:
        self.assistant = assistant
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bpge-telegram")

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args, **kwargs))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _short(title: str, limit: int = BUTTON_TITLE_CHARS) -> str:
    title = title.strip().strip("“”\"'«» ")
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def parse_allowed_chats(raw: str) -> frozenset[int]:
    ids = set()
    for part in re.split(r"[,\s]+", raw or ""):
        if part:
            try:
                ids.add(int(part))
            except ValueError:
                log.warning("TELEGRAM_ALLOWED_CHATS: ignoring %r (not a chat id)", part)
    return frozenset(ids)


class BotHandlers:
    """The bot's behaviour, independent of how updates arrive (polling or webhook)."""

    def __init__(
        self,
        assistant: Any,
        store: FeedbackStore,
        texts: Texts,
        *,
        allowed_chats: frozenset[int] = frozenset(),
        rate_limit_per_minute: int = 10,
        context_ttl_s: float = 900,
        workers: int = 2,
        generator: Any = None,
    ) -> None:
        self.assistant = assistant
        self.generator = generator  # bot.generation.client.AnswerGenerator, or None for extractive answers only
        self.runner = AssistantRunner(assistant, workers)
        self.store = store
        self.texts = texts
        self.allowed_chats = allowed_chats
        self.limiter = RateLimiter(rate_limit_per_minute)
        self.rate_limit_per_minute = rate_limit_per_minute
        # chat → the Assistant's conversation id: follow-ups are read by the core, in the chat's conversation
        self.chats: ExpiringMap[int, str] = ExpiringMap(context_ttl_s, MAX_CHATS)
        self._limit_notified: dict[int, float] = {}
        self._refused_chats: set[int] = set()

    # --- registration -------------------------------------------------------------------------

    def register(self, app: Application) -> None:
        app.add_handler(TypeHandler(Update, self.gate), group=-1)
        app.add_handler(CommandHandler("start", self.cmd_start))
        app.add_handler(CommandHandler(["ayuda", "help"], self.cmd_help))
        app.add_handler(CommandHandler("buscar", self.cmd_search))
        app.add_handler(CommandHandler("practica", self.cmd_practice))
        app.add_handler(CommandHandler("regiones", self.cmd_regions))
        app.add_handler(MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, self.on_unknown_command))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE, self.on_text))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_error_handler(self.on_error)

    def bot_commands(self) -> list[BotCommand]:
        return [
            BotCommand(name, self.texts.plain(f"commands.{name}"))
            for name in ("buscar", "practica", "regiones", "ayuda", "start")
        ]

    def close(self) -> None:
        self.runner.close()

    # --- gate: allowlist --------------------------------------------------------------------------

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None or update.effective_user is None:
            raise ApplicationHandlerStop  # channel posts, inline queries...: not for this bot
        if self.allowed_chats and chat.id not in self.allowed_chats:
            log.info("Ignoring an update from chat %s (not in TELEGRAM_ALLOWED_CHATS)", chat.id)
            if update.callback_query:
                await update.callback_query.answer(self.texts.plain("not_allowed"))
            elif chat.type == ChatType.PRIVATE and chat.id not in self._refused_chats:
                self._refused_chats.add(chat.id)
                await send_html(context.bot, chat.id, self.texts.html("not_allowed"))
            raise ApplicationHandlerStop
        if self._is_action(update, context) and not await self._within_limit(update, context):
            raise ApplicationHandlerStop  # commands and buttons count against the per-user limit too

    def _is_action(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """A button press, or a command for this bot (questions are counted by `on_text`)."""
        if update.callback_query is not None:
            return True
        message = update.message
        if message is None or not message.text or not message.text.startswith("/"):
            return False
        _, _, target = message.text.split()[0].partition("@")
        return not target or target.lower() == (context.bot.username or "").lower()

    # --- commands ---------------------------------------------------------------------------------

    async def cmd_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        rows = [
            [InlineKeyboardButton(q, callback_data=cb.pack(cb.EXAMPLE, str(i)))]
            for i, q in enumerate(self.texts.examples)
        ]
        if update.effective_chat is None:
            return
        await send_html(
            context.bot, update.effective_chat.id, self.texts.html("start"), keyboard=InlineKeyboardMarkup(rows)
        )

    async def cmd_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is None:
            return
        await send_html(context.bot, update.effective_chat.id, self.texts.html("help"))

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        command = message.text.split()[0] if message.text else "/"
        name, _, target = command[1:].partition("@")
        if target and target.lower() != (context.bot.username or "").lower():
            return  # addressed to another bot
        if chat.type != ChatType.PRIVATE and not target and not self._replies_to_bot(message, context):
            return  # in groups, only commands explicitly addressed to this bot get help
        text = self.texts.html("unknown_command", command="/" + name) + "\n\n" + self.texts.html("help")
        await send_html(context.bot, chat.id, text, reply_to=message.message_id)

    async def cmd_search(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = clean_text(" ".join(context.args or [])).strip()[:MAX_QUESTION_CHARS]
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None:
            return
        chat_id = chat.id
        if not query:
            await send_html(context.bot, chat_id, self.texts.html("search_usage"))
            return
        async with typing(context.bot, chat_id):
            sources = await self.runner.call(self.assistant.search, query, SEARCH_K)
        if not sources:
            await send_html(
                context.bot,
                chat_id,
                self.texts.html("no_results", query=query),
                reply_to=message.message_id,
            )
            return
        header = self.texts.html("search_header", query=query)
        await send_html(
            context.bot,
            chat_id,
            render_search(header, sources, self.texts),
            keyboard=self._sheet_keyboard(
                [s.practice_id for s in sources], {s.practice_id: s.practice for s in sources}
            ),
            reply_to=message.message_id,
        )
        self._discuss(chat_id, sources[0].practice_id)

    async def cmd_practice(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = clean_text(" ".join(context.args or [])).strip()[:MAX_FIELD_CHARS]
        if update.effective_chat is None:
            return
        chat_id = update.effective_chat.id
        practices = await self.runner.call(self.assistant.practices)
        if not query:
            await self._send_practice_list(context.bot, chat_id, self.texts.html("practice_usage"), practices)
            return
        record = await self.runner.call(self.assistant.find_practice, query)
        if record is None:
            await self._send_practice_list(
                context.bot, chat_id, self.texts.html("practice_not_found", query=query), practices
            )
            return
        await self._send_sheet(context.bot, chat_id, record)

    async def cmd_regions(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is None:
            return
        regions: dict[str, list[Record]] = await self.runner.call(self.assistant.regions)
        chat_id = update.effective_chat.id
        if not regions:
            await send_html(context.bot, chat_id, self.texts.html("no_practices"))
            return
        names = sorted(regions)
        total = sum(len(v) for v in regions.values())
        if total <= MAX_LIST_BUTTONS:
            ordered = [r for name in names for r in regions[name]]
            keyboard = self._sheet_keyboard(
                [r.id for r in ordered], {r.id: r.title for r in ordered}, limit=MAX_LIST_BUTTONS
            )
            await send_html(context.bot, chat_id, render_regions(regions, self.texts), keyboard=keyboard)
        else:
            rows = [
                [
                    InlineKeyboardButton(
                        self.texts.plain("buttons.region", region=n, count=len(regions[n])),
                        callback_data=cb.pack(cb.REGION, n),
                    )
                ]
                for n in names
            ]
            await send_html(
                context.bot,
                chat_id,
                self.texts.html("regions_header") + "\n\n" + self.texts.html("regions_pick"),
                keyboard=InlineKeyboardMarkup(rows),
            )

    # --- free text -----------------------------------------------------------------------------------

    def _replies_to_bot(self, message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
        original = message.reply_to_message
        return bool(original and original.from_user and original.from_user.id == context.bot.id)

    def addressed_text(self, message: Message, chat: Chat, context: ContextTypes.DEFAULT_TYPE) -> str | None:
        """The question in `message`, or None when the bot should stay silent: in groups only
        messages that mention the bot or reply to it are for it (the mention is removed)."""
        text = message.text or ""
        if chat.type == ChatType.PRIVATE:
            return text
        username = (context.bot.username or "").lower()
        mentioned = False
        for entity, value in message.parse_entities(
            [MessageEntityType.MENTION, MessageEntityType.TEXT_MENTION]
        ).items():
            if entity.type == MessageEntityType.MENTION and value.lower() == f"@{username}":
                mentioned = True
                text = text.replace(value, " ")
            elif entity.type == MessageEntityType.TEXT_MENTION and entity.user and entity.user.id == context.bot.id:
                mentioned = True
        if mentioned or self._replies_to_bot(message, context):
            return " ".join(text.split())
        return None

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        question = self.addressed_text(message, chat, context)
        if question is None:
            return
        question = clean_text(question)
        if not question.strip():
            await self.cmd_help(update, context)
            return
        if await self._within_limit(update, context):
            await self.answer_question(update, context, question, reply_to=message.message_id)

    async def _within_limit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """Count a question against the user's limit; when over it, say so once per window."""
        if update.effective_user is None or update.effective_chat is None:
            return False  # nobody to count it against (channel posts): not answered
        user_id = update.effective_user.id
        wait = self.limiter.hit(user_id)
        if not wait:
            self._limit_notified.pop(user_id, None)
            return True
        now = asyncio.get_running_loop().time()
        if self._limit_notified.get(user_id, 0) <= now:
            self._limit_notified[user_id] = now + wait
            text = self.texts.html("rate_limited", limit=self.rate_limit_per_minute, seconds=wait)
            if update.callback_query:
                await update.callback_query.answer(
                    self.texts.plain("rate_limited", limit=self.rate_limit_per_minute, seconds=wait)
                )
            else:
                await send_html(context.bot, update.effective_chat.id, text)
        elif update.callback_query:
            await update.callback_query.answer()
        return False

    async def answer_question(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        question: str,
        *,
        reply_to: int | None = None,
        header: str = "",
    ) -> None:
        """Answer a question through the Assistant's pipeline, in the chat's conversation (so follow-ups
        refer to the practice just discussed): a generated answer is shown as it is written (one message
        edited at most once a second), then replaced by the final answer, which is logged and given its
        buttons. The caller has counted the question against the rate limit."""
        question = clean_text(question).strip()[:MAX_QUESTION_CHARS]
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return
        chat_id, user_id = chat.id, user.id
        events = self.assistant.stream(
            question, conversation_id=self.chats.get(chat_id), generator=self.generator, run=self.runner.call
        )
        shown: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()

        async def partials() -> AsyncIterator[str]:
            """The growing text of a generated answer; the `final` event's answer resolves `shown`."""
            async for text, event in throttled(events, EDIT_EVERY_S):
                if event is None:
                    yield text
                elif event.answer is not None:
                    shown.set_result(event.answer)
            if not shown.done():
                shown.set_exception(RuntimeError("the answer's events ended without an answer"))

        async def buttons(answer: Answer) -> InlineKeyboardMarkup:
            """Once the answer is final: the chat continues its conversation, the answer is logged as shown."""
            if answer.conversation_id:
                self.chats.put(chat_id, answer.conversation_id)
            answer_id = await asyncio.to_thread(
                self.store.log_answer,
                chat_id=chat_id,
                user_id=user_id,
                question=question,
                answer=answer.answer,
                abstained=answer.abstained,
                sources=answer.sources,
            )
            token = await asyncio.to_thread(self.store.issue_token, answer_id, chat_id)
            return self._answer_keyboard(answer, token)

        async with typing(context.bot, chat_id):
            await reply_with_answer(
                context.bot,
                chat_id,
                shown,
                self.texts,
                keyboard=buttons,
                reply_to=reply_to,
                header=header,
                partials=partials(),
            )

    def _discuss(self, chat_id: int, practice_id: str) -> None:
        """The practice just shown (a sheet, search results) is what the chat's follow-ups refer to."""
        self.chats.put(chat_id, self.assistant.discuss(practice_id, self.chats.get(chat_id)))

    # --- buttons ---------------------------------------------------------------------------------------

    def _sheet_keyboard(
        self, practice_ids: list[str], titles: dict[str, str], limit: int = MAX_SHEET_BUTTONS
    ) -> InlineKeyboardMarkup | None:
        unique = list(dict.fromkeys(p for p in practice_ids if p))[:limit]
        rows = [
            [
                InlineKeyboardButton(
                    self.texts.plain("buttons.sheet", title=_short(titles.get(p, p))),
                    callback_data=cb.pack(cb.SHEET, p),
                )
            ]
            for p in unique
        ]
        return InlineKeyboardMarkup(rows) if rows else None

    def _answer_keyboard(self, answer: Answer, token: str) -> InlineKeyboardMarkup:
        """Buttons of an answer; "more" and votes carry the answer's chat-bound token, not its id. A follow-up
        that abstains (its practice's sheet has no such section) offers that practice's sheet."""
        rows: list[list[InlineKeyboardButton]] = []
        about = answer.followup_practice
        if answer.abstained and about is not None:
            sheet = self._sheet_keyboard([about.practice_id], {about.practice_id: about.title})
            if sheet:
                rows.extend(list(r) for r in sheet.inline_keyboard)
        if not answer.abstained:
            ids = [f.practice_id for f in answer.findings] or [s.practice_id for s in answer.sources[:1]]
            titles = {f.practice_id: f.title for f in answer.findings} | {
                s.practice_id: s.practice
                for s in answer.sources
                if s.practice_id not in {f.practice_id for f in answer.findings}
            }
            sheets = self._sheet_keyboard(ids, titles)
            if sheets:
                rows.extend(list(r) for r in sheets.inline_keyboard)
            rows.append([InlineKeyboardButton(self.texts.plain("buttons.more"), callback_data=cb.pack(cb.MORE, token))])
        rows.append(
            [
                InlineKeyboardButton(self.texts.plain("buttons.up"), callback_data=cb.pack(cb.VOTE, f"{token}:u")),
                InlineKeyboardButton(self.texts.plain("buttons.down"), callback_data=cb.pack(cb.VOTE, f"{token}:d")),
            ]
        )
        return InlineKeyboardMarkup(rows)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or update.effective_chat is None:
            return
        kind, value, hashed = cb.unpack(query.data or "")
        chat_id = update.effective_chat.id
        if len(value) > 64:  # Telegram never sends more: forged
            await query.answer(self.texts.plain("button_expired"))
        elif kind == cb.VOTE:
            await self._vote(query, value, chat_id)
        elif kind == cb.SHEET:
            practices = await self.runner.call(self.assistant.practices)
            practice_id = cb.resolve(value, hashed, [p.id for p in practices])
            record = await self.runner.call(self.assistant.record, practice_id) if practice_id else None
            if record is None:
                await query.answer(self.texts.plain("button_expired"))
                return
            await query.answer()
            await self._send_sheet(context.bot, chat_id, record)
        elif kind == cb.SECTION:
            await self._section(query, value, hashed, chat_id, context.bot)
        elif kind == cb.MORE:
            await self._more_results(update, context, value)
        elif kind == cb.EXAMPLE:
            examples = self.texts.examples
            index = bounded_int(value)
            if index is None or index >= len(examples):
                await query.answer(self.texts.plain("button_expired"))
                return
            question = examples[index]
            await query.answer()
            await self.answer_question(
                update, context, question, header=self.texts.html("question_echo", question=question)
            )
        elif kind == cb.REGION:
            regions: dict[str, list[Record]] = await self.runner.call(self.assistant.regions)
            region = cb.resolve(value, hashed, list(regions))
            if region not in regions:
                await query.answer(self.texts.plain("button_expired"))
                return
            await query.answer()
            await self._send_practice_list(
                context.bot, chat_id, self.texts.html("region_header", region=region), regions[region]
            )
        else:
            await query.answer(self.texts.plain("button_expired"))

    async def _vote(self, query: CallbackQuery, value: str, chat_id: int) -> None:
        token, _, direction = value.partition(":")
        answer_id = await asyncio.to_thread(self.store.answer_for_token, token, chat_id)
        if answer_id is None or direction not in ("u", "d"):
            await query.answer(self.texts.plain("button_expired"))
            return
        stored = await asyncio.to_thread(
            self.store.record_vote,
            answer_id=answer_id,
            user_id=query.from_user.id,
            vote=1 if direction == "u" else -1,
        )
        await query.answer(self.texts.plain("feedback_thanks" if stored else "button_expired"))

    async def _more_results(self, update: Update, context: ContextTypes.DEFAULT_TYPE, value: str) -> None:
        """Further passages that pass the answer's own relevance bar: from the practices the answer
        cited, or scoring at least as well as the weakest source shown; never unrelated practices."""
        query = update.callback_query
        if query is None or update.effective_chat is None:
            return
        chat_id = update.effective_chat.id
        answer_id = await asyncio.to_thread(self.store.answer_for_token, value, chat_id)
        stored = await asyncio.to_thread(self.store.get_answer, answer_id) if answer_id is not None else None
        if stored is None:
            await query.answer(self.texts.plain("button_expired"))
            return
        await query.answer()
        shown = {(s["document"], tuple(s["lines"])) for s in stored["sources"]}
        cited = {s["practice_id"] for s in stored["sources"]}
        bar = min((float(s.get("score", 0.0)) for s in stored["sources"]), default=float("inf"))
        async with typing(context.bot, chat_id):
            found: list[Source] = await self.runner.call(self.assistant.search, stored["question"], len(shown) + MORE_K)
        extra = [
            s for s in found if (s.document, tuple(s.lines)) not in shown and (s.practice_id in cited or s.score >= bar)
        ][:MORE_K]
        if not extra:
            await send_html(context.bot, chat_id, self.texts.html("no_more_results"))
            return
        first = len(stored["sources"]) + 1
        extra = [s.model_copy(update={"n": first + i}) for i, s in enumerate(extra)]
        header = self.texts.html("more_results_header", query=stored["question"])
        keyboard = self._sheet_keyboard([s.practice_id for s in extra], {s.practice_id: s.practice for s in extra})
        await send_html(context.bot, chat_id, render_search(header, extra, self.texts), keyboard=keyboard)

    async def _send_sheet(self, bot: Any, chat_id: int, record: Record) -> None:
        """The practice in ONE message (summary, recommendation, contacts, link) with a button per section."""
        sheet = PracticeSheet.of(record)
        await send_html(bot, chat_id, render_sheet_card(sheet, self.texts), keyboard=self._section_keyboard(sheet))
        self._discuss(chat_id, record.id)

    def _section_keyboard(self, sheet: PracticeSheet) -> InlineKeyboardMarkup | None:
        buttons = [
            InlineKeyboardButton(
                self.texts.plain("buttons.section", label=QUICK_LABELS[key]),
                callback_data=cb.pack(cb.SECTION, f"{cb.SECTION_CODES[key]}:{sheet.id}"),
            )
            for key in sheet.sections
            if key in cb.SECTION_CODES
        ]
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        return InlineKeyboardMarkup(rows) if rows else None

    async def _section(self, query: CallbackQuery, value: str, hashed: bool, chat_id: int, bot: Any) -> None:
        """A section button: that section only (split only when it alone exceeds a message)."""
        practices = await self.runner.call(self.assistant.records)
        candidates = [f"{code}:{p.id}" for p in practices for code in cb.SECTION_CODES.values()]
        resolved = cb.resolve(value, hashed, candidates)
        code, _, practice_id = (resolved or "").partition(":")
        key = next((k for k, c in cb.SECTION_CODES.items() if c == code), None)
        record = await self.runner.call(self.assistant.record, practice_id) if practice_id and key else None
        if record is None or key is None:
            await query.answer(self.texts.plain("button_expired"))
            return
        await query.answer()
        await send_html(bot, chat_id, render_sheet_section(PracticeSheet.of(record), key, self.texts))
        self._discuss(chat_id, record.id)

    async def _send_practice_list(self, bot: Any, chat_id: int, header: str, practices: list[Record]) -> None:
        if not practices:
            await send_html(bot, chat_id, self.texts.html("no_practices"))
            return
        text = f"{header}\n\n{render_practice_list(practices)}"
        keyboard = self._sheet_keyboard(
            [p.id for p in practices], {p.id: p.title for p in practices}, limit=MAX_LIST_BUTTONS
        )
        await send_html(bot, chat_id, text, keyboard=keyboard)

    # --- errors --------------------------------------------------------------------------------------

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any error: one log line (with the traceback) and a short apology to the user."""
        error = context.error
        if not isinstance(update, Update):
            log.warning("Telegram: %s: %s", type(error).__name__, error)
            return
        log.error(
            "Telegram: error while handling update %s: %s: %s",
            update.update_id,
            type(error).__name__,
            error,
            exc_info=error,
        )
        chat = update.effective_chat
        if chat is None:
            return
        try:
            if update.callback_query:
                with contextlib.suppress(TelegramError):
                    await update.callback_query.answer()
            await context.bot.send_message(chat_id=chat.id, text=self.texts.plain("apology"))
        except Exception as e:  # the apology can fail too (the Bot API may be down): log and go on
            log.warning("Telegram: could not send the apology to chat %s: %s", chat.id, e)
