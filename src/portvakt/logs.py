"""How a node logs: one line per record, as text or as a JSON object (`PORTVAKT_LOG_FORMAT`), with the request's id,
the trace id of an answered error, and repeated failures of one kind folded into one line per 10 s.

What a line may never carry: grants, tokens, keys or passwords. The code logs none of them, and the formatters
blank anything shaped like a JWS or a PEM private key as a last guard.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]

#: The id of the request being served (api.app.FastPath sets it; worker threads inherit it).
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("portvakt_request_id", default=None)

THROTTLE_WINDOW = 10.0
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

_JWS = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_PRIVATE_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S)
_TRACE_IN_TEXT = re.compile(r"trace_id[=: ]+([0-9a-f]{32})\b")
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "taskName", "color_message", "trace_id", "request_id", "suppressed", "suppressed_since"}


def redact(text: str) -> str:
    """Blank what looks like a compact JWS (a grant or a token) or a PEM private key."""
    if "eyJ" in text:
        text = _JWS.sub("[redacted JWS]", text)
    if "PRIVATE KEY" in text:
        text = _PRIVATE_PEM.sub("[redacted private key]", text)
    return text


def trace_id_of(record: logging.LogRecord, message: str) -> str | None:
    """The record's trace_id: given as `extra`, else the `trace_id=<32 hex>` its message names."""
    given = getattr(record, "trace_id", None)
    if isinstance(given, str):
        return given
    found = _TRACE_IN_TEXT.search(message)
    return found.group(1) if found else None


def request_id_of(record: logging.LogRecord) -> str | None:
    """The record's request_id: given as `extra`, else the request being served when it was logged."""
    given = getattr(record, "request_id", None)
    return given if isinstance(given, str) else REQUEST_ID.get()


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


def _plain(value: Any) -> Any:
    """A JSON-ready value: strings redacted, anything else not JSON as its str()."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, trace_id, request_id, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (a traceback goes in `exc`)."""
        message = record.getMessage()
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname, "logger": record.name, "msg": redact(message),
            "trace_id": trace_id_of(record, message), "request_id": request_id_of(record)}
        suppressed = getattr(record, "suppressed", None)
        if suppressed:
            line["suppressed"] = suppressed
            line["suppressed_since"] = getattr(record, "suppressed_since", None)
        for key, value in _extras(record).items():
            line.setdefault(key, _plain(value))
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exc"] = redact(record.exc_text)
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """`<time> <LEVEL> <logger> <message>`, then request_id=…, and how many repeats were folded into this line."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        super().__init__(fmt or TEXT_FORMAT, datefmt)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging.Formatter's name)
        """The first line, with the request id and the count of suppressed repeats appended."""
        line = super().formatMessage(record)
        request_id = request_id_of(record)
        if request_id:
            line += f" request_id={request_id}"
        suppressed = getattr(record, "suppressed", None)
        if suppressed:
            line += f" (and {suppressed} more like it since {getattr(record, 'suppressed_since', '?')}, not logged)"
        return line

    def format(self, record: logging.LogRecord) -> str:
        """The text line (and traceback), redacted."""
        return redact(super().format(record))


@dataclass(slots=True)
class _Window:
    start: float
    since: str
    sample: logging.LogRecord
    suppressed: int = 0


class Throttle(logging.Filter):
    """Records at WARNING and above of one kind (logger, source line, exception type) pass once per `window`
    seconds; the repeats in between are counted, and the count is told on the next line of that kind or, if none
    comes, on a summary line once the window is over (flush_due)."""

    def __init__(self, window: float = THROTTLE_WINDOW, *, level: int = logging.WARNING,
                 monotonic: Callable[[], float] = time.monotonic, max_kinds: int = 1024) -> None:
        super().__init__()
        self.window = window
        self.level = level
        self._monotonic = monotonic
        self._max_kinds = max_kinds
        self._kinds: dict[tuple[str, str, int, str], _Window] = {}
        self._lock = threading.Lock()
        self._handlers: weakref.WeakSet[logging.Handler] = weakref.WeakSet()
        _THROTTLES.add(self)

    def attach(self, handler: logging.Handler) -> None:
        """Filter `handler`'s records, and send the summary lines through it."""
        handler.addFilter(self)
        self._handlers.add(handler)

    @staticmethod
    def kind(record: logging.LogRecord) -> tuple[str, str, int, str]:
        """What makes two records the same failure: where they were logged, and the exception's type."""
        exc = record.exc_info[0].__qualname__ if record.exc_info and record.exc_info[0] else ""
        return record.name, record.pathname, record.lineno, exc

    def filter(self, record: logging.LogRecord) -> bool:
        """True to log the record: below the level, a summary, or the first of its kind in the window."""
        if record.levelno < self.level or getattr(record, "_throttle_summary", False):
            return True
        now = self._monotonic()
        kind = self.kind(record)
        with self._lock:
            seen = self._kinds.get(kind)
            if seen is not None and now - seen.start < self.window:
                seen.suppressed += 1
                return False
            if seen is not None and seen.suppressed:
                record.suppressed = seen.suppressed
                record.suppressed_since = seen.since
            self._kinds.pop(kind, None)
            if len(self._kinds) >= self._max_kinds:
                self._kinds.pop(next(iter(self._kinds)))
            self._kinds[kind] = _Window(now, _clock_text(record.created), record)
        return True

    def flush_due(self) -> int:
        """Log a summary line for each kind whose window is over with repeats not yet told; returns how many."""
        if not self._handlers:  # nowhere to send a summary: the next line of the kind tells the count
            return 0
        now = self._monotonic()
        due: list[_Window] = []
        with self._lock:
            for kind, seen in list(self._kinds.items()):
                if now - seen.start >= self.window:
                    del self._kinds[kind]
                    if seen.suppressed:
                        due.append(seen)
        for seen in due:
            summary = _summary(seen)
            for handler in list(self._handlers):
                if summary.levelno >= handler.level:
                    handler.handle(summary)
        return len(due)


_THROTTLES: weakref.WeakSet[Throttle] = weakref.WeakSet()


def _clock_text(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _summary(seen: _Window) -> logging.LogRecord:
    """One line for the repeats of a kind that were not logged."""
    sample = seen.sample
    first = sample.getMessage().splitlines()[0][:200] if sample.getMessage() else ""
    record = logging.LogRecord(sample.name, sample.levelno, sample.pathname, sample.lineno,
                               "repeated %d times since %s, not logged: %s", (seen.suppressed, seen.since, first),
                               None)
    record.suppressed = seen.suppressed
    record.suppressed_since = seen.since
    record._throttle_summary = True
    return record


def flush_due() -> int:
    """Every Throttle's flush_due (the cache refresher calls this on each tick)."""
    return sum(t.flush_due() for t in list(_THROTTLES))


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter for PORTVAKT_LOG_FORMAT."""
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(level: str, log_format: LogFormat) -> logging.Handler:
    """The root logger writes to stderr in `log_format`, with the Throttle; called once per worker, idempotent."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_portvakt", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler._portvakt = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(log_format))
    Throttle().attach(handler)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def uvicorn_log_config(level: str, log_format: LogFormat) -> dict[str, Any]:
    """uvicorn's own loggers (server and access lines) in the same format and through the same Throttle."""
    fmt = {"()": "portvakt.logs.JsonFormatter"} if log_format == "json" else {"()": "portvakt.logs.TextFormatter"}
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "portvakt",
               "filters": ["throttle"]}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"portvakt": fmt},
        "filters": {"throttle": {"()": "portvakt.logs.Throttle"}},
        "handlers": {"uvicorn": handler},
        "loggers": {"uvicorn": {"handlers": ["uvicorn"], "level": level.upper(), "propagate": False},
                    "uvicorn.error": {"level": level.upper()},
                    "uvicorn.access": {"handlers": ["uvicorn"], "level": level.upper(), "propagate": False}},
    }
