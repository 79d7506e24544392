"""A fake Telegram Bot API server for tests and the load benchmark (aiohttp, 127.0.0.1).

It serves what the bot uses (getMe, getUpdates with long polling, sendMessage, editMessageText,
answerCallbackQuery, sendChatAction, deleteWebhook, setWebhook, setMyCommands, ...) and rejects
what Telegram rejects, with Telegram's error texts:

* an unknown token: 401 Unauthorized;
* a text over 4,096 UTF-16 units after entity parsing: 400 "message is too long";
* HTML that Telegram cannot parse (unknown tag, unclosed or mismatched tag, a bare < > or &):
  400 "can't parse entities: ...";
* callback_data over 64 bytes: 400 "BUTTON_DATA_INVALID".

Tests push user messages and button presses with `user_message` / `press_button`, and read what
the bot sent with `sent(chat_id)` / `wait_for(...)`. `fail_next` makes the next calls of a method
fail, to check that the bot survives Bot API errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bpge.settings import Settings

if TYPE_CHECKING:
    from bot.telegram.app import TelegramBot

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}  # fmt: skip
_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")
_ATTR = re.compile(r"""([a-zA-Z][\w-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_COMMAND = re.compile(r"/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]{3,32})?")
_MENTION = re.compile(r"@[a-zA-Z0-9_]{5,32}")


class ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_telegram_html(markup: str) -> str:
    """The text Telegram would display for `markup`, or ApiError(400) where Telegram refuses it."""

    def fail(reason: str, at: int) -> ApiError:
        offset = len(markup[:at].encode())
        return ApiError(400, f"Bad Request: can't parse entities: {reason} at byte offset {offset}")

    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(markup):
        ch = markup[i]
        if ch == "<":
            j = markup.find(">", i)
            if j < 0:
                raise fail("Unclosed start tag", i)
            inner = markup[i + 1 : j].strip()
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise fail(f'Unexpected end tag "{name}"', i)
                if name and name != stack[-1]:
                    raise fail(f'Unmatched end tag, expected "</{stack[-1]}>", found "</{name}>"', i)
                stack.pop()
            else:
                m = re.match(r"([a-zA-Z][\w-]*)(.*)$", inner, re.S)
                if not m or m.group(1).lower() not in ALLOWED_TAGS:
                    raise fail(f'Unsupported start tag "{inner.split(" ")[0]}"', i)
                name = m.group(1).lower()
                attrs = {
                    a.group(1).lower(): a.group(2) or a.group(3) or a.group(4) or "" for a in _ATTR.finditer(m.group(2))
                }
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise fail('Tag "span" must have class "tg-spoiler"', i)
                if name == "tg-emoji" and "emoji-id" not in attrs:
                    raise fail('Tag "tg-emoji" must have attribute "emoji-id"', i)
                stack.append(name)
            i = j + 1
        elif ch == "&":
            m = _ENTITY.match(markup, i)
            if not m:
                raise fail('Character "&" must be escaped as "&amp;"', i)
            out.append(html.unescape(m.group(0)))
            i = m.end()
        elif ch == ">":
            raise fail('Character ">" must be escaped as "&gt;"', i)
        else:
            out.append(ch)
            i += 1
    if stack:
        raise ApiError(
            400, f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(out)


@dataclass
class SentMessage:
    chat_id: int
    message_id: int
    text: str  # as the bot sent it (HTML markup when parse_mode is HTML)
    plain: str  # as Telegram would display it
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    reply_to: int | None
    sent_at: float
    edits: list[str] = field(default_factory=list)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b for row in rows for b in row]

    def button(self, label_part: str) -> dict[str, Any]:
        for b in self.buttons:
            if label_part in b["text"]:
                return b
        raise KeyError(f"no button containing {label_part!r} in {[b['text'] for b in self.buttons]}")


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float
    ok: bool
    description: str = ""


class FakeBotAPI:
    """Run with `async with FakeBotAPI() as api:`; point the bot at `api.base_url`."""

    def __init__(
        self, token: str = "123456:TEST-fake-token", username: str = "bpge_test_bot", bot_id: int = 123456
    ) -> None:
        self.token = token
        self.username = username
        self.bot_id = bot_id
        self.port = 0
        self.calls: list[ApiCall] = []
        self.messages: dict[tuple[int, int], SentMessage] = {}
        self.user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.update_times: dict[int, float] = {}
        self.acknowledged = 0  # the highest update id the bot confirmed (getUpdates offset - 1)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = {}
        self._callback_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._failures: dict[str, list[tuple[int, str]]] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.chats: dict[int, dict[str, Any]] = {}

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> FakeBotAPI:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What to pass as the bot's base_url (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- what users do ----------------------------------------------------------------------

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _chat(self, chat_id: int, chat_type: str) -> dict[str, Any]:
        chat = self.chats.setdefault(chat_id, {"id": chat_id, "type": chat_type})
        if chat_type == "private":
            chat.setdefault("first_name", f"Gestor {chat_id}")
        else:
            chat.setdefault("title", f"Grupo {chat_id}")
        return chat

    @staticmethod
    def _user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"Usuario {user_id}", "language_code": "es"}

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Asistente BPGE", "username": self.username}

    def _push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        update["update_id"] = update_id
        self.update_times[update_id] = time.perf_counter()
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())
        return update_id

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def user_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        reply_to: int | None = None,
    ) -> int:
        """A user writes `text` in a chat; returns the message id. Entities (commands,
        mentions) are set as Telegram sets them."""
        user_id = user_id if user_id is not None else abs(chat_id)
        message_id = self._next_message_id(chat_id)
        entities: list[dict[str, Any]] = []
        for m in _COMMAND.finditer(text):
            if m.start() == 0 or text[m.start() - 1].isspace():
                entities.append(
                    {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
                )
        for m in _MENTION.finditer(text):
            starts_word = m.start() == 0 or (not text[m.start() - 1].isalnum() and text[m.start() - 1] != "/")
            offset = utf16_len(text[: m.start()])
            if starts_word and not any(e["offset"] <= offset < e["offset"] + e["length"] for e in entities):
                entities.append({"type": "mention", "offset": offset, "length": utf16_len(m.group(0))})
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(chat_id, chat_type),
            "from": self._user(user_id),
            "text": text,
        }
        if entities:
            message["entities"] = sorted(entities, key=lambda e: e["offset"])
        if reply_to is not None:
            original = self.messages.get((chat_id, reply_to))
            if original:
                message["reply_to_message"] = {
                    "message_id": reply_to,
                    "date": int(original.sent_at),
                    "chat": self._chat(chat_id, chat_type),
                    "from": self._bot_user(),
                    "text": original.plain,
                }
            elif (chat_id, reply_to) in self.user_messages:
                message["reply_to_message"] = self.user_messages[(chat_id, reply_to)]
        self.user_messages[(chat_id, message_id)] = message
        self._push({"message": message})
        return message_id

    def press_button(self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None) -> str:
        """A user taps an inline button with `data` under the bot's message; returns the query id."""
        user_id = user_id if user_id is not None else abs(chat_id)
        original = self.messages[(chat_id, message_id)]
        query_id = str(next(self._callback_ids))
        self._open_callbacks.add(query_id)
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(user_id),
                    "chat_instance": str(chat_id),
                    "data": data,
                    "message": {
                        "message_id": message_id,
                        "date": int(original.sent_at),
                        "chat": self.chats[chat_id],
                        "from": self._bot_user(),
                        "text": original.plain,
                    },
                }
            }
        )
        return query_id

    def fail_next(
        self, method: str, count: int = 1, code: int = 500, description: str = "Internal Server Error"
    ) -> None:
        """Make the next `count` calls of `method` fail with `code`."""
        self._failures.setdefault(method, []).extend([(code, description)] * count)

    # --- what the bot did --------------------------------------------------------------------

    def sent(self, chat_id: int) -> list[SentMessage]:
        return sorted((m for (c, _), m in self.messages.items() if c == chat_id), key=lambda m: m.message_id)

    def calls_of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    @property
    def rejected(self) -> list[ApiCall]:
        """Calls refused by validation (not the failures injected with `fail_next`)."""
        return [c for c in self.calls if not c.ok and not c.description.startswith("injected")]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked at every Bot API call); return its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    raise TimeoutError("condition not met in time")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), left)

    async def wait_messages(self, chat_id: int, count: int, timeout: float = 15.0) -> list[SentMessage]:
        """Wait until the bot has sent at least `count` messages to `chat_id`."""
        return await self.wait_for(lambda: (lambda m: m if len(m) >= count else None)(self.sent(chat_id)), timeout)

    async def settle(self, seconds: float = 0.3) -> None:
        """Wait until no Bot API call arrived for `seconds`."""
        while True:
            count = len(self.calls)
            await asyncio.sleep(seconds)
            if len(self.calls) == count:
                return

    # --- the HTTP side -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params = await self._params(request)
        if self._failures.get(method):
            code, description = self._failures[method].pop(0)
            self.calls.append(ApiCall(method, params, time.perf_counter(), False, f"injected: {description}"))
            await self._notify()
            return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        try:
            result = await handler(params)
        except ApiError as e:
            self.calls.append(ApiCall(method, params, time.perf_counter(), False, e.description))
            await self._notify()
            return web.json_response({"ok": False, "error_code": e.code, "description": e.description}, status=e.code)
        if method != "getUpdates":
            self.calls.append(ApiCall(method, params, time.perf_counter(), True))
            await self._notify()
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.read()
            return json.loads(body) if body else {}
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if not isinstance(value, str):
                continue
            try:
                params[key] = (
                    json.loads(value)
                    if key
                    in {
                        "reply_markup",
                        "reply_parameters",
                        "allowed_updates",
                        "commands",
                        "entities",
                        "link_preview_options",
                    }
                    else value
                )
            except json.JSONDecodeError as exc:
                raise web.HTTPBadRequest(text=f"bad JSON in {key}") from exc
        return params

    @staticmethod
    def _chat_id(params: dict[str, Any]) -> int:
        if "chat_id" not in params:
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            return int(params["chat_id"])
        except ValueError as exc:
            raise ApiError(400, "Bad Request: chat not found") from exc

    def _check_text(self, params: dict[str, Any]) -> str:
        text = params.get("text", "")
        parse_mode = params.get("parse_mode")
        if parse_mode in ("HTML", "html"):
            plain = parse_telegram_html(text)
        elif parse_mode in (None, ""):
            plain = text
        else:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r} in this fake")
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return plain

    @staticmethod
    def _check_markup(params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if "inline_keyboard" not in markup:
            return markup
        for row in markup["inline_keyboard"]:
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if data is None and not any(
                    k in button for k in ("url", "switch_inline_query", "copy_text", "web_app")
                ):
                    raise ApiError(400, 'Bad Request: can\'t find field "callback_data"')
        return markup

    def _message_json(self, m: SentMessage) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message_id": m.message_id,
            "date": int(m.sent_at),
            "chat": self.chats.get(m.chat_id, {"id": m.chat_id, "type": "private"}),
            "from": self._bot_user(),
            "text": m.plain,
        }
        if m.reply_markup:
            out["reply_markup"] = m.reply_markup
        return out

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self.acknowledged = max(self.acknowledged, offset - 1)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._updates) or self._closing), timeout
                    )
        return self._updates[:limit]

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        plain = self._check_text(params)
        markup = self._check_markup(params)
        reply_to = None
        reply = params.get("reply_parameters")
        if reply:
            reply_to = int(reply["message_id"])
            known = (chat_id, reply_to) in self.user_messages or (chat_id, reply_to) in self.messages
            if not known and not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
        message = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            text=params["text"],
            plain=plain,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to=reply_to,
            sent_at=time.perf_counter(),
        )
        self.messages[(chat_id, message.message_id)] = message
        return self._message_json(message)

    async def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        key = (chat_id, int(params.get("message_id") or 0))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        plain = self._check_text(params)
        markup = self._check_markup(params)
        message = self.messages[key]
        if params["text"] == message.text and markup == message.reply_markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message",
            )
        message.edits.append(message.text)
        message.text, message.plain, message.reply_markup = params["text"], plain, markup
        message.parse_mode = params.get("parse_mode")
        return self._message_json(message)

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        key = (chat_id, int(params.get("message_id") or 0))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        self.messages[key].reply_markup = self._check_markup(params)
        return self._message_json(self.messages[key])

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callbacks:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text", "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)
        return True

    async def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        self._chat_id(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_close(self, params: dict[str, Any]) -> bool:
        return True


# --- a running bot and its fake server, for tests and the benchmark ----------------------------


def bot_settings(api: FakeBotAPI, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": api.token,
        "telegram_base_url": f"http://127.0.0.1:{api.port}",
        "telegram_webhook_url": None,
        "telegram_webhook_secret": None,
        "telegram_allowed_chats": "",
        "telegram_rate_limit_per_minute": 100,
        "telegram_context_ttl_s": 900,
        "admin_token": "admin-secret",
        "data_dir": data_dir,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Harness:
    """A running bot and the fake Bot API it polls, with helpers to talk to it as a user."""

    api: FakeBotAPI
    bot: TelegramBot

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until every update pushed so far was fetched and handled."""
        app = self.bot.application
        processor = app.update_processor
        newest = max(self.api.update_times, default=0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        stable = 0
        while stable < 3:
            if loop.time() > deadline:
                raise TimeoutError("the bot did not finish handling its updates")
            await asyncio.sleep(0.03)
            done = (
                self.api.acknowledged >= newest
                and app.update_queue.empty()
                and processor.current_concurrent_updates == 0
            )
            stable = stable + 1 if done else 0

    def new_messages(self, chat_id: int, before: set[int]) -> list[SentMessage]:
        return [m for m in self.api.sent(chat_id) if m.message_id not in before]

    async def say(self, chat_id: int, text: str, **kwargs: Any) -> list[SentMessage]:
        """A user writes `text`; returns the bot's messages in reply, once it is done."""
        before = {m.message_id for m in self.api.sent(chat_id)}
        self.api.user_message(chat_id, text, **kwargs)
        await self.idle()
        return self.new_messages(chat_id, before)

    async def press(self, message: SentMessage, label_part: str, user_id: int | None = None) -> list[SentMessage]:
        """A user taps the button whose label contains `label_part`; returns the new messages."""
        chat_id = message.chat_id
        before = {m.message_id for m in self.api.sent(chat_id)}
        data = message.button(label_part)["callback_data"]
        self.api.press_button(chat_id, message.message_id, data, user_id=user_id)
        await self.idle()
        return self.new_messages(chat_id, before)
