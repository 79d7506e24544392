"""The web app: JSON API, the page, and (when configured) the Telegram bot in the same process.

Routes only translate HTTP to the Assistant and back; the answer pipeline lives in `bot.service`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, field_validator

from bot.conversation import MAX_ID_CHARS as MAX_CONVERSATION_ID
from bot.errors import AnswerPool, ApiError, BodyLimit, install_error_handlers
from bot.generation.events import GenerationEvent, final_answer, sse
from bot.limits import MAX_BODY_BYTES, MAX_FIELD_CHARS, MAX_K, clean_text
from bot.schemas import MAX_QUESTION_CHARS, Answer, Comparison, Filters, Intent, PracticeRef
from bot.service import Assistant, IndexMissing, NotCalibrated, StoreUnavailable
from bot.sources import Source
from bot.texts import text
from bpge.settings import Settings
from indexer.models import Record

log = logging.getLogger(__name__)


class AskRequest(BaseModel):
    question: str
    filters: Filters | None = None
    k: int = Field(5, ge=1, le=MAX_K)
    # the conversation this question continues (follow-ups such as "¿y qué resultados tuvo?")
    conversation_id: str | None = Field(None, max_length=MAX_CONVERSATION_ID)

    @field_validator("question")
    @classmethod
    def _question(cls, value: str) -> str:
        value = clean_text(value).strip()
        if not value:
            raise ValueError(text("empty_question"))
        if len(value) > MAX_QUESTION_CHARS:
            raise ValueError(text("long_question", max=MAX_QUESTION_CHARS))
        return value


class AskResponse(BaseModel):
    answer: str
    abstained: bool
    mode: str
    sources: list[Source]
    conversation_id: str
    intent: Intent
    answer_id: str
    comparison: Comparison | None = None  # compare answers: the practices side by side, section by section
    followup_practice: PracticeRef | None = None  # a follow-up: the conversation's practice it is about

    @classmethod
    def of(cls, answer: Answer) -> AskResponse:
        return cls(
            answer=answer.answer,
            abstained=answer.abstained,
            mode=answer.mode,
            sources=answer.sources,
            conversation_id=answer.conversation_id or "",
            intent=answer.intent,
            answer_id=answer.answer_id,
            comparison=answer.comparison,
            followup_practice=answer.followup_practice,
        )


def _practice_summary(r: Record) -> dict[str, Any]:
    return {
        "id": r.id,
        "title": r.title,
        "region": r.region,
        "offices": r.offices,
        "documents": r.documents,
        "has_expert_commentary": r.has_expert_commentary,
    }


def _assistant(request: Request) -> Assistant:
    assistant: Assistant | None = request.app.state.assistant
    if assistant is None:
        try:
            assistant = Assistant.load(request.app.state.settings)
        except NotCalibrated as exc:
            raise ApiError(503, str(exc)) from None
        except IndexMissing:
            raise ApiError(503, text("index_missing")) from None
        request.app.state.assistant = assistant
    return assistant


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run an Assistant call, turning its known failures into Spanish HTTP errors."""
    try:
        return fn(*args, **kwargs)
    except NotCalibrated as exc:
        raise ApiError(503, str(exc)) from None
    except IndexMissing:
        raise ApiError(503, text("index_missing")) from None
    except StoreUnavailable as exc:
        log.error("vector store unavailable: %s", exc)
        raise ApiError(503, text("store_unavailable")) from None


def create_app(settings: Settings, assistant: Assistant | None = None, start_telegram: bool = True) -> FastAPI:
    """The FastAPI app. Without `assistant`, the index is loaded at start (503 until one exists)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.assistant is None:
            try:
                app.state.assistant = await asyncio.to_thread(Assistant.load, settings)
            except (IndexMissing, StoreUnavailable) as exc:
                log.warning("no index loaded yet: %s", exc)
        if app.state.assistant is not None:
            await asyncio.to_thread(app.state.assistant.warm_up)
        if start_telegram and settings.telegram_bot_token is not None:
            from bot.telegram.app import start_telegram_bot

            app.state.telegram = await start_telegram_bot(settings, _LazyAssistant(app), generator=app.state.generator)
        try:
            yield
        finally:
            if app.state.telegram is not None:
                from bot.telegram.app import stop_telegram_bot

                await stop_telegram_bot(app.state.telegram)
            if app.state.generator is not None:
                await app.state.generator.aclose()
            app.state.pool.close()

    app = FastAPI(title="Asistente BPGE", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.assistant = assistant
    app.state.telegram = None
    app.state.pool = AnswerPool()
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    from bot.generation.client import AnswerGenerator

    app.state.generator = AnswerGenerator.from_settings(settings)

    install_error_handlers(app)

    async def run(fn: Callable[[], Answer]) -> Answer:
        answer: Answer = await app.state.pool.call(_call, fn)
        return answer

    def events(body: AskRequest, request: Request) -> AsyncIterator[GenerationEvent]:
        """The Assistant's events for a request (the whole answer pipeline lives in `Assistant.stream`)."""
        return _assistant(request).stream(
            body.question, body.filters, body.k, body.conversation_id, request.app.state.generator, run
        )

    @app.post("/api/ask", response_model=AskResponse)
    async def ask(body: AskRequest, request: Request) -> AskResponse:
        return AskResponse.of(await final_answer(events(body, request)))

    @app.post("/api/ask/stream")
    async def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
        """Server-sent events: `delta` ({"text"}) while a generated answer is written, then `answer`."""
        stream = events(body, request)
        first = await anext(stream)  # errors (no index, busy…) become HTTP errors before the stream starts

        async def messages() -> AsyncIterator[str]:
            event: GenerationEvent | None = first
            final: Answer | None = None
            while event is not None:
                if event.type == "delta":
                    yield sse("delta", {"text": event.text})
                elif event.answer is not None:
                    final = event.answer
                event = await anext(stream, None)
            assert final is not None
            yield sse("answer", AskResponse.of(final))

        return StreamingResponse(messages(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/api/search")
    async def search(
        request: Request,
        q: str = Query(..., max_length=MAX_QUESTION_CHARS),
        k: int = Query(10, ge=1, le=50),
    ) -> dict[str, Any]:
        q = clean_text(q).strip()
        if not q:
            raise ApiError(422, text("empty_question"))
        assistant = _assistant(request)
        results = await app.state.pool.call(_call, assistant.search, q, k)
        return {"results": [s.model_dump(mode="json") for s in results]}

    @app.get("/api/practices")
    async def practices(
        request: Request, region: str | None = Query(None, max_length=MAX_FIELD_CHARS)
    ) -> dict[str, Any]:
        assistant = _assistant(request)
        return {"practices": [_practice_summary(r) for r in _call(assistant.practices, region)]}

    @app.get("/api/practices/{practice_id}")
    async def practice(request: Request, practice_id: str = Path(..., max_length=MAX_FIELD_CHARS)) -> dict[str, Any]:
        record = _call(_assistant(request).record, practice_id)
        if record is None:
            raise ApiError(404, text("not_found"))
        return record.model_dump(mode="json")

    @app.get("/api/regions")
    async def regions(request: Request) -> dict[str, Any]:
        grouped = _call(_assistant(request).regions)
        return {
            "regions": [
                {"region": region, "practices": [{"id": r.id, "title": r.title} for r in records]}
                for region, records in grouped.items()
            ]
        }

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        health = _call(_assistant(request).health)
        telegram = request.app.state.telegram
        health["telegram"] = "off" if telegram is None else ("running" if telegram.running else "retrying")
        health["answers"] = "generated" if request.app.state.generator is not None else "extractive"
        return health

    _include_optional_routers(app, settings)
    return app


class _LazyAssistant:
    """The Telegram bot's view of the app's Assistant, which may be loaded after the bot starts."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        assistant = self._app.state.assistant
        if assistant is None:
            assistant = Assistant.load(self._app.state.settings)
            self._app.state.assistant = assistant
        return getattr(assistant, name)


def _include_optional_routers(app: FastAPI, settings: Settings) -> None:
    """Telegram webhook and feedback API, and the page."""
    from bot.feedback import FeedbackStore
    from bot.feedback_api import feedback_router
    from bot.pages import pages_router
    from bot.telegram.app import telegram_webhook_router

    app.include_router(telegram_webhook_router(lambda: app.state.telegram))

    def store() -> FeedbackStore:
        if getattr(app.state, "feedback", None) is None:
            app.state.feedback = FeedbackStore.in_data_dir(settings.data_dir)
        return app.state.feedback

    app.include_router(feedback_router(settings, store))
    app.include_router(pages_router())
