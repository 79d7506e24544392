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


def _redact_arg(value: object) -> object:
    if isinstance(value, str):
        return _redact(value)
    if isinstance(value, (int, float)) or value is None:
        return value
    text = str(value)
    redacted = _redact(text)
    return value if redacted == text else redacted


def _redact_record(record: logging.LogRecord) -> None:
    """Redact the format string and each argument in place, keeping `args` a tuple (or mapping)
    of the same shape: formatters such as uvicorn's access log unpack it by position."""
    if isinstance(record.msg, str):
        record.msg = _redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_arg(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _redact_arg(v) for k, v in record.args.items()}
    try:
        if any(s in record.getMessage() for s in _secrets):  # e.g. a secret split across arguments
            record.msg, record.args = _redact(record.getMessage()), ()
    except Exception:
        record.msg, record.args = _redact(str(record.msg)), ()


def _factory_wrapping(previous: logging.LogRecordFactory) -> logging.LogRecordFactory:  # type: ignore[name-defined]
    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if not _secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:
            return record
        if _redact(message) != message:
            _redact_record(record)
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
