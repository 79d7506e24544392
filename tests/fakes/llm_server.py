"""A scripted OpenAI-compatible chat-completions server for tests (real HTTP on 127.0.0.1).

    with FakeLLM() as llm:                       # uvicorn in a daemon thread, on a free port
        llm.reply = Reply("La DRE Pasco ... [1].")  # what the next requests get
        llm.replies_by_question["stall"] = Reply(stall_s=30)  # or chosen by the last user message
        settings = Settings(LLM_BASE_URL=llm.base_url, LLM_MODEL="fake", LLM_TIMEOUT_S=2)
        ...
        llm.requests[-1]["messages"]             # what the client sent

`POST /v1/chat/completions` answers with SSE chunks (`stream: true`) or one JSON completion, or
with an error status; `stall_s` waits before the first byte (streaming: before the first chunk,
after `stall_after_chars` characters when given). Stalls end early when the server stops, so a
stalled request never holds up test teardown.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    stall_s: float = 0.0
    stall_after_chars: int | None = None  # streaming: stall after this much text was sent
    chunk_chars: int = 7  # streaming: characters per chunk
    chunk_delay_s: float = 0.0


@dataclass
class FakeLLM:
    reply: Reply = field(default_factory=lambda: Reply("Los pasajes recuperados no responden a esta pregunta."))
    replies_by_question: dict[str, Reply] = field(default_factory=dict)  # substring of the last user message
    requests: list[dict[str, Any]] = field(default_factory=list)
    model: str = "fake-model"
    reject_params: set[str] = field(default_factory=set)  # answer 400 when the request has one of these

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.app = self._make_app()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeLLM:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-llm", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake LLM server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        self.requests.clear()
        self.replies_by_question.clear()
        self.reject_params = set()
        self.reply = Reply("Los pasajes recuperados no responden a esta pregunta.")

    # -- the app ---------------------------------------------------------------------------

    def choose(self, body: dict[str, Any]) -> Reply:
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        last = str(users[-1].get("content", "")) if users else ""
        for needle, reply in self.replies_by_question.items():
            if needle in last:
                return reply
        return self.reply

    async def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self._stop.is_set():
            await asyncio.sleep(min(0.05, max(0.0, end - time.monotonic())))

    def _make_app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "tests"}]}

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> Any:
            body = await request.json()
            self.requests.append({**body, "_headers": {k.lower(): v for k, v in request.headers.items()}})
            if self.reject_params & body.keys():
                return JSONResponse(
                    {"error": {"message": "unsupported parameter", "type": "invalid_request_error"}},
                    status_code=400,
                )
            reply = self.choose(body)
            cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
            created = int(time.time())
            model = body.get("model", self.model)
            if reply.status != 200:
                await self._sleep(reply.stall_s)
                return JSONResponse(
                    {"error": {"message": "scripted failure", "type": "server_error", "code": None}},
                    status_code=reply.status,
                )
            if not body.get("stream"):
                await self._sleep(reply.stall_s)
                return {
                    "id": cid,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }

            def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
                data = {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

            async def events():
                if reply.stall_after_chars is None:
                    await self._sleep(reply.stall_s)
                yield chunk({"role": "assistant", "content": ""})
                sent = 0
                text = reply.text
                stall_at = reply.stall_after_chars
                for i in range(0, len(text), max(1, reply.chunk_chars)):
                    if stall_at is not None and sent >= stall_at:
                        await self._sleep(reply.stall_s)
                        stall_at = None
                    piece = text[i : i + reply.chunk_chars]
                    sent += len(piece)
                    yield chunk({"content": piece})
                    if reply.chunk_delay_s:
                        await self._sleep(reply.chunk_delay_s)
                yield chunk({}, "stop")
                yield "data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        return app
