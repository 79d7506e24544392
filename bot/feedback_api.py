"""`GET /api/feedback`: the votes given in Telegram and on the page, for facilitators (admin token
required); `POST /api/feedback`: a vote from the page."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, Field, field_validator

from bot.errors import ApiError
from bot.feedback import FeedbackStore
from bot.limits import clean_text
from bot.schemas import MAX_QUESTION_CHARS
from bot.texts import text
from bpge.settings import Settings

MAX_ANSWER_ID = 64
MAX_ANSWER_CHARS = 8000


class WebVote(BaseModel):
    """A 👍 / 👎 given on the page."""

    answer_id: str = Field(min_length=1, max_length=MAX_ANSWER_ID, pattern=r"^[A-Za-z0-9_.:-]+$")
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field("", max_length=MAX_ANSWER_CHARS)
    vote: Literal["up", "down"]
    channel: Literal["web"] = "web"

    @field_validator("question", "answer")
    @classmethod
    def _clean(cls, value: str) -> str:
        return clean_text(value).strip()


def feedback_router(settings: Settings, store: FeedbackStore | Callable[[], FeedbackStore]) -> APIRouter:
    """The router to include in the web app. `store` may be a callable, opened at first use.

    Authorization: `Authorization: Bearer <BPGE_ADMIN_TOKEN>`; without BPGE_ADMIN_TOKEN set the
    endpoint answers 403 (disabled)."""
    router = APIRouter()
    admin = settings.admin_token.get_secret_value() if settings.admin_token else ""

    def get_store() -> FeedbackStore:
        return store if isinstance(store, FeedbackStore) else store()

    @router.get("/api/feedback")
    def list_feedback(
        authorization: str | None = Header(default=None),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=10**9),
        vote: str | None = Query(None, pattern="^(up|down)$"),
    ) -> dict:
        if not admin:
            raise ApiError(403, text("feedback_disabled"))
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), admin.encode()):
            raise ApiError(401, text("http_401"), headers={"WWW-Authenticate": "Bearer"})
        db = get_store()
        wanted = {"up": 1, "down": -1}.get(vote or "")
        items = db.list_feedback(limit=limit, offset=offset, vote=wanted)
        return {"items": items, "count": len(items), "totals": db.counts()}

    @router.post("/api/feedback", status_code=201)
    async def post_feedback(body: WebVote) -> dict:
        stored = await asyncio.to_thread(
            get_store().record_web_vote,
            answer_id=body.answer_id,
            question=body.question,
            answer=body.answer,
            vote=1 if body.vote == "up" else -1,
            channel=body.channel,
        )
        return {"ok": True, "id": stored, "message": text("feedback_thanks")}

    return router
