"""Keep secrets (the bot token) out of every log line.

httpx logs request URLs, which for the Bot API contain the token, and PTB's InvalidToken message
quotes it. A log-record factory replaces each secret in every record (message, arguments and
traceback text) before any handler sees it, whatever logger or handler is configured later.
"""

from __future__ import annotations

import logging
import threading
import traceback
from urllib.parse import quote

REDACTED = "<redacted>"
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def _redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _factory_wrapping(previous: logging.LogRecordFactory) -> logging.LogRecordFactory:  # type: ignore[name-defined]
    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if not _secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:
            return record
        redacted = _redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            if any(s in text for s in _secrets):
                record.exc_text = _redact(text)
        return record

    return factory


def protect(secret: str | None) -> None:
    """Redact `secret` (and its URL-encoded form) from all log records from now on, and quiet
    httpx's per-request INFO lines."""
    global _installed
    if not secret:
        return
    with _lock:
        _secrets.update({secret, quote(secret, safe="")})
        if not _installed:
            logging.setLogRecordFactory(_factory_wrapping(logging.getLogRecordFactory()))
            _installed = True
    httpx_log = logging.getLogger("httpx")
    if httpx_log.level == logging.NOTSET or httpx_log.level < logging.WARNING:
        httpx_log.setLevel(logging.WARNING)
