"""The events of a generation (`GenerationEvent`), their coalescing for a slow display (`throttled`) and their
Server-Sent Events form for the web (`sse`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import BaseModel

from bot.schemas import Answer

FallbackReason = Literal["abstained", "no_sources", "timeout", "error", "empty", "too_little"]


class GenerationEvent(BaseModel):
    """One event of `AnswerGenerator.stream`.

    * `type == "delta"`: `text` is checked text to append to what is already shown (it starts with
      its separator from the previous sentence: "", " ", "\\n- " or "\\n\\n").
    * `type == "final"`: always the last event. `answer` is the answer to show, replacing the deltas:
      `answer.mode == "generated"` (then `answer.answer` == the concatenated deltas) or the
      extractive answer unchanged, with `reason` saying why it fell back. `ttft_ms` is the time to
      the model's first token (None if none came), `total_ms` the whole generation;
      `kept`/`total` count the sentences that survived the check.
    """

    type: Literal["delta", "final"]
    text: str = ""
    answer: Answer | None = None
    reason: FallbackReason | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    kept: int = 0
    total: int = 0


async def throttled(
    events: AsyncIterator[GenerationEvent], min_interval_s: float = 1.0
) -> AsyncIterator[tuple[str, GenerationEvent | None]]:
    """Coalesce `AnswerGenerator.stream` for a display that may change at most once per interval
    (the Telegram bot editing its message): yields `(text so far, None)` when the shown text
    changed, at most once per `min_interval_s` (a pending change is flushed when the interval is
    up, without waiting for the next sentence), then `(final text, final event)` once at the end,
    where the final text is `final.answer.answer` (the generated answer, or the extractive one
    on fallback). The caller formats the final answer as it likes; the interval does not apply
    to it."""
    queue: asyncio.Queue[GenerationEvent | None] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for event in events:
                await queue.put(event)
        finally:
            await queue.put(None)

    task = asyncio.create_task(pump())
    text = shown = ""
    last = float("-inf")
    try:
        while True:
            wait = None if text == shown else max(0.0, last + min_interval_s - time.monotonic())
            try:
                event = await asyncio.wait_for(queue.get(), wait)
            except TimeoutError:
                shown, last = text, time.monotonic()
                yield text, None
                continue
            if event is None:  # the stream ended without a final event: it raised
                await task
                return
            if event.type == "final":
                yield (event.answer.answer if event.answer else text), event
                return
            text += event.text
            if time.monotonic() - last >= min_interval_s:
                shown, last = text, time.monotonic()
                yield text, None
    finally:
        await cancel_and_wait(task)


async def final_event(events: AsyncIterator[GenerationEvent]) -> GenerationEvent:
    """The `final` event of a stream of events (the whole stream is consumed)."""
    final: GenerationEvent | None = None
    async for event in events:
        if event.type == "final":
            final = event
    if final is None:
        raise RuntimeError("the generation events ended without a final event")
    return final


async def final_answer(events: AsyncIterator[GenerationEvent]) -> Answer:
    """The answer to show: the `final` event's."""
    event = await final_event(events)
    if event.answer is None:
        raise RuntimeError("the final generation event carries no answer")
    return event.answer


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel `task` unless it is done and wait for it to end; whatever it raises while ending is ignored."""
    if task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def sse(event: str, data: BaseModel | dict[str, Any]) -> str:
    """One Server-Sent Events message: `event: <event>` and `data: <json>` (UTF-8, not \\u-escaped)."""
    payload = data.model_dump_json() if isinstance(data, BaseModel) else json.dumps(data, ensure_ascii=False)
    return f"event: {event}\ndata: {payload}\n\n"
