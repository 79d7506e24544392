"""Every error answered by the web app, in Spanish: `{"detail": "..."}`, or a problem page on the HTML pages.

Framework errors (404, 405, JSON decode, wrong types) come in English from Starlette and Pydantic;
the handlers here replace them once for the whole app. Routes raise `ApiError` for messages that are
already Spanish, which are passed through unchanged. The Assistant's known failures (no index, no
calibration, Chroma down) propagate from routes and `bot.deps` and are translated here only.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.limits import MAX_BODY_BYTES
from bot.pages import PAGE_TAG, problem_page, problem_text
from bot.service import IndexMissing, NotCalibrated, StoreUnavailable
from bot.texts import text

log = logging.getLogger(__name__)
T = TypeVar("T")


class ApiError(StarletteHTTPException):
    """An HTTP error whose detail is already a Spanish sentence for the user."""


class Busy(Exception):
    """The answer pool is full."""


def _status_text(status: int) -> str:
    try:
        return text(f"http_{status}")
    except KeyError:
        return text("http_other", status=status)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "cuerpo"


def validation_message(error: dict[str, Any]) -> str:
    """One Pydantic error in Spanish (our own validators already raise Spanish messages)."""
    kind = str(error.get("type", ""))
    loc = tuple(error.get("loc", ()))
    ctx = error.get("ctx") or {}
    field = _field(loc)
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    if kind == "json_invalid":
        return text("invalid_json")
    if kind == "missing":
        return text("invalid_missing", field=field)
    if kind.startswith("string_too_long"):
        return text("invalid_too_long", field=field, max=ctx.get("max_length", "?"))
    if kind.startswith("string_") and kind != "string_pattern_mismatch":
        return text("invalid_string", field=field)
    if kind in ("string_pattern_mismatch", "literal_error", "enum"):
        return text("invalid_pattern", field=field)
    if kind.startswith("int_") or kind.startswith("float_"):
        return text("invalid_int", field=field)
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return text("invalid_range", field=field)
    if kind in ("model_attributes_type", "dict_type", "model_type"):
        return text("invalid_body") if len(loc) <= 1 else text("invalid_object", field=field)
    return text("invalid_field", field=field)


def _unavailable(exc: Exception) -> tuple[str, str, bool]:
    """(page title, Spanish message, show the build steps) for an Assistant that cannot answer now."""
    if isinstance(exc, NotCalibrated):  # an IndexMissing whose message already says how to calibrate
        return problem_text("not_calibrated"), str(exc), False
    if isinstance(exc, IndexMissing):
        return problem_text("index_missing"), text("index_missing"), True
    log.error("vector store unavailable: %s", exc)
    return problem_text("unavailable"), text("store_unavailable"), False


def _reply(request: Request, status: int, title: str, message: str, *, steps: bool = False) -> Response:
    """The one place that picks an error's form: a problem page for the page routes, JSON for the rest."""
    route = request.scope.get("route")
    if PAGE_TAG in (getattr(route, "tags", None) or ()):
        return problem_page(title, message, status, steps=steps)
    return JSONResponse(status_code=status, content={"detail": message})


def install_error_handlers(app: FastAPI) -> None:
    """Register the Spanish handlers (once per app)."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        messages = list(dict.fromkeys(validation_message(e) for e in exc.errors()))
        return JSONResponse(status_code=422, content={"detail": " ".join(messages[:3]) or text("http_400")})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc, ApiError) else _status_text(exc.status_code)
        return JSONResponse(status_code=exc.status_code, content={"detail": detail}, headers=exc.headers)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": text("busy")}, headers={"Retry-After": "5"})

    async def unavailable(request: Request, exc: Exception) -> Response:
        title, message, steps = _unavailable(exc)
        return _reply(request, 503, title, message, steps=steps)

    for failure in (IndexMissing, NotCalibrated, StoreUnavailable):
        app.add_exception_handler(failure, unavailable)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return _reply(request, 500, problem_text("error"), text("internal_error"))


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` gets 413 before any route reads it
    (declared by Content-Length or counted as it streams in)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or len(declared) > 12 or int(declared) > self.max_bytes):
            await self._too_large(send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            if len(body) > self.max_bytes:
                await self._too_large(send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        response = JSONResponse(status_code=413, content={"detail": text("body_too_large", max=self.max_bytes // 1024)})
        await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


class AnswerPool:
    """The threads that answer questions, with a bounded queue: when `workers + queue` calls are
    already running or waiting, a new one is refused at once (503) instead of waiting behind them,
    so a burst of slow requests cannot make everyone else wait."""

    def __init__(self, workers: int = 2, queue: int = 6) -> None:
        self.capacity = workers + queue
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bpge-answer")
        self._lock = threading.Lock()
        self._pending = 0

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._lock:
            if self._pending >= self.capacity:
                raise Busy()
            self._pending += 1
        try:
            future = self._pool.submit(partial(fn, *args, **kwargs))
        except RuntimeError:  # shut down
            self._done(None)
            raise Busy() from None
        future.add_done_callback(self._done)  # a cancelled request still holds its slot until its thread ends
        return await asyncio.wrap_future(future)

    def _done(self, _future: object) -> None:
        with self._lock:
            self._pending -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
