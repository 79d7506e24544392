"""`AnswerGenerator`: asks an OpenAI-compatible chat-completions server for an answer from the passages and
streams it out sentence by sentence, each checked (`bot.generation.segment`, `bot.generation.verify`) before it is
shown, with the extractive answer as the fallback."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from bot.generation.events import FallbackReason, GenerationEvent, cancel_and_wait, final_answer, final_event
from bot.generation.prompts import Prompts
from bot.generation.segment import SentenceAssembler, findings_of, visible_text
from bot.generation.verify import AnswerChecker
from bot.schemas import Answer, Intent
from bot.sources import Source

if TYPE_CHECKING:  # pragma: no cover
    from openai import AsyncOpenAI

    from bpge.settings import Settings

log = logging.getLogger(__name__)

MAX_TOKENS = 900
TEMPERATURE = 0.1


class AnswerGenerator:
    """Writes checked answers with an OpenAI-compatible chat-completions server.

    One `AsyncOpenAI` client is kept per event loop (connections are reused); `aclose()` closes them.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 20.0,
        prompts: Prompts | None = None,
        max_tokens: int = MAX_TOKENS,
        temperature: float = TEMPERATURE,
    ):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key or "none"
        self.timeout_s = float(timeout_s)
        self.prompts = prompts or Prompts.load()
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._minimal_params = False  # set when the server refused temperature/max_tokens
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncOpenAI] = weakref.WeakKeyDictionary()

    @classmethod
    def from_settings(cls, settings: Settings, prompts: Prompts | None = None) -> AnswerGenerator | None:
        """None when LLM_BASE_URL is unset (extractive answers only)."""
        if not settings.llm_base_url:
            return None
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(
            base_url=settings.llm_base_url,
            model=settings.llm_model or "default",
            api_key=key,
            timeout_s=settings.llm_timeout_s,
            prompts=prompts,
        )

    def __repr__(self) -> str:
        return f"AnswerGenerator(base_url={self.base_url!r}, model={self.model!r}, timeout_s={self.timeout_s})"

    def _client(self) -> AsyncOpenAI:
        from openai import AsyncOpenAI

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = AsyncOpenAI(
                base_url=self.base_url,
                api_key=self._api_key,
                timeout=self.timeout_s,
                max_retries=0,
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the client of the running loop (others are dropped with their loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover
            return
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.close()

    def messages(self, question: str, sources: Sequence[Source], intent: Intent = "other") -> list[dict[str, str]]:
        return self.prompts.messages(question, sources, intent)

    async def _produce(self, messages: list[dict[str, str]], queue: asyncio.Queue[tuple[str, Any]]) -> None:
        """Stream the model's reply into `queue`: ("delta", str)…, then ("done", None) or ("error", exc)."""
        from openai import BadRequestError

        try:
            client = self._client()
            params: dict[str, Any] = {"model": self.model, "messages": messages, "stream": True}
            if not self._minimal_params:
                params.update(temperature=self.temperature, max_tokens=self.max_tokens)
            try:
                stream = await client.chat.completions.create(**params)
            except BadRequestError:
                if self._minimal_params:
                    raise
                # Some servers/models refuse temperature or max_tokens: retry once without them.
                self._minimal_params = True
                params.pop("temperature", None)
                params.pop("max_tokens", None)
                stream = await client.chat.completions.create(**params)
            async with stream:
                async for chunk in stream:
                    for choice in chunk.choices or []:
                        content = getattr(choice.delta, "content", None) if choice.delta else None
                        if content:
                            await queue.put(("delta", content))
            await queue.put(("done", None))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await queue.put(("error", exc))

    async def stream(self, question: str, extractive: Answer) -> AsyncIterator[GenerationEvent]:
        """Yield checked sentences as `delta` events while the model writes, then one `final` event.

        Never raises for model problems: errors, timeouts (the whole generation is bounded by
        `timeout_s`) and replies that do not survive the check end in a `final` event carrying
        `extractive` unchanged. When `extractive` abstained or has no sources the model is not called.
        """
        started = time.perf_counter()

        def ms() -> float:
            return round((time.perf_counter() - started) * 1000, 1)

        if extractive.abstained or not extractive.sources:
            reason: FallbackReason = "abstained" if extractive.abstained else "no_sources"
            yield GenerationEvent(type="final", answer=extractive, reason=reason, total_ms=ms())
            return

        # The intent's instructions shape the answer (and, like the other prompts, are never to be repeated).
        intent = extractive.intent
        instructions = (self.prompts.system, self.prompts.answer_template, self.prompts.instructions(intent))
        assembler = SentenceAssembler(AnswerChecker(extractive.sources, instructions))
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        producer = asyncio.create_task(self._produce(self.messages(question, extractive.sources, intent), queue))
        deadline = time.monotonic() + self.timeout_s
        raw = ""
        ttft: float | None = None
        failure: FallbackReason | None = None
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    failure = "timeout"
                    break
                try:
                    kind, payload = await asyncio.wait_for(queue.get(), timeout=remaining)
                except TimeoutError:
                    failure = "timeout"
                    break
                if kind == "error":
                    log.warning("generation failed, answering extractively: %r", payload)
                    failure = "timeout" if "timeout" in type(payload).__name__.lower() else "error"
                    break
                if kind == "done":
                    for delta in assembler.feed(visible_text(raw), final=True):
                        yield GenerationEvent(type="delta", text=delta)
                    break
                if ttft is None:
                    ttft = ms()
                raw += payload
                for delta in assembler.feed(visible_text(raw)):
                    yield GenerationEvent(type="delta", text=delta)
        finally:
            await cancel_and_wait(producer)

        kept, counted = len(assembler.kept), assembler.counted
        if failure is None and not raw.strip():
            failure = "empty"
        if failure is None and not assembler.acceptable():
            failure = "too_little"
        if failure is not None:
            if failure == "timeout":
                log.warning("generation ran past %.1f s, answering extractively", self.timeout_s)
            elif failure == "too_little":
                log.info("generated answer kept %d of %d sentences, answering extractively", kept, counted)
            yield GenerationEvent(
                type="final", answer=extractive, reason=failure, ttft_ms=ttft, total_ms=ms(), kept=kept, total=counted
            )
            return
        generated = extractive.model_copy(
            update={
                "answer": assembler.output,
                "mode": "generated",
                "abstained": False,
                "findings": findings_of(assembler.checks, extractive),
                "intro": "",
                "outro": "",
            }
        )
        yield GenerationEvent(type="final", answer=generated, ttft_ms=ttft, total_ms=ms(), kept=kept, total=counted)

    async def generate_event(self, question: str, extractive: Answer) -> GenerationEvent:
        """The `final` event of `stream` (the answer plus timings and the fallback reason)."""
        return await final_event(self.stream(question, extractive))

    async def generate(self, question: str, extractive: Answer) -> Answer:
        """The checked generated answer, or `extractive` unchanged (abstained, error, timeout, too little)."""
        return await final_answer(self.stream(question, extractive))

    def generate_sync(self, question: str, extractive: Answer) -> Answer:
        """`generate` for code without an event loop (CLI, scripts). Not for use inside a running loop."""

        async def run() -> Answer:
            try:
                return await self.generate(question, extractive)
            finally:
                await self.aclose()

        return asyncio.run(run())
