"""`GET /api/feedback`: the votes given in Telegram, for facilitators (admin token required)."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import APIRouter, Header, Query

from bot.errors import ApiError
from bot.telegram.feedback import FeedbackStore
from bot.texts import text
from indexer.settings import Settings


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

    return router
