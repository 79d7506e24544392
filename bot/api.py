"""The JSON API: `/api/ask`, `/api/ask/stream`, `/api/search`, `/api/practices`, `/api/regions`, `/healthz`.

Routes only translate HTTP to the Assistant (`AssistantDep`) and back; the answer pipeline lives in
`bot.service`, and the Assistant's known failures become Spanish 503s in `bot.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, field_validator

from bot.conversation import MAX_ID_CHARS as MAX_CONVERSATION_ID
from bot.deps import AssistantDep
from bot.errors import ApiError
from bot.generation.events import GenerationEvent, final_answer, sse
from bot.limits import MAX_FIELD_CHARS, MAX_K, clean_text
from bot.schemas import MAX_QUESTION_CHARS, Answer, Comparison, Filters, Intent, PracticeRef
from bot.service import Assistant
from bot.sources import Source
from bot.texts import text
from indexer.models import Record

router = APIRouter()


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
        """The answer's public fields (the response names a subset of `Answer`'s, with the same meaning)."""
        shown = {name: getattr(answer, name) for name in cls.model_fields if name != "conversation_id"}
        return cls(**shown, conversation_id=answer.conversation_id or "")


def _practice_summary(r: Record) -> dict[str, Any]:
    return {
        "id": r.id,
        "title": r.title,
        "region": r.region,
        "offices": r.offices,
        "documents": r.documents,
        "has_expert_commentary": r.has_expert_commentary,
    }


def _events(body: AskRequest, request: Request, assistant: Assistant) -> AsyncIterator[GenerationEvent]:
    """The Assistant's events for a request; the extractive step runs in the app's bounded answer pool."""
    state = request.app.state
    return assistant.stream(body.question, body.filters, body.k, body.conversation_id, state.generator, state.pool.call)


@router.post("/api/ask", response_model=AskResponse)
async def ask(body: AskRequest, request: Request, assistant: AssistantDep) -> AskResponse:
    return AskResponse.of(await final_answer(_events(body, request, assistant)))


@router.post("/api/ask/stream")
async def ask_stream(body: AskRequest, request: Request, assistant: AssistantDep) -> StreamingResponse:
    """Server-sent events: `delta` ({"text"}) while a generated answer is written, then `answer`."""
    stream = _events(body, request, assistant)
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


@router.get("/api/search")
async def search(
    request: Request,
    assistant: AssistantDep,
    q: str = Query(..., max_length=MAX_QUESTION_CHARS),
    k: int = Query(10, ge=1, le=50),
) -> dict[str, Any]:
    q = clean_text(q).strip()
    if not q:
        raise ApiError(422, text("empty_question"))
    results = await request.app.state.pool.call(assistant.search, q, k)
    return {"results": [s.model_dump(mode="json") for s in results]}


@router.get("/api/practices")
async def practices(
    assistant: AssistantDep, region: str | None = Query(None, max_length=MAX_FIELD_CHARS)
) -> dict[str, Any]:
    return {"practices": [_practice_summary(r) for r in assistant.practices(region)]}


@router.get("/api/practices/{practice_id}")
async def practice(assistant: AssistantDep, practice_id: str = Path(..., max_length=MAX_FIELD_CHARS)) -> dict[str, Any]:
    record = assistant.record(practice_id)
    if record is None:
        raise ApiError(404, text("not_found"))
    return record.model_dump(mode="json")


@router.get("/api/regions")
async def regions(assistant: AssistantDep) -> dict[str, Any]:
    return {
        "regions": [
            {"region": region, "practices": [{"id": r.id, "title": r.title} for r in records]}
            for region, records in assistant.regions().items()
        ]
    }


@router.get("/healthz")
async def healthz(request: Request, assistant: AssistantDep) -> dict[str, Any]:
    health = assistant.health()
    telegram = request.app.state.telegram
    health["telegram"] = "off" if telegram is None else ("running" if telegram.running else "retrying")
    health["answers"] = "generated" if request.app.state.generator is not None else "extractive"
    return health
