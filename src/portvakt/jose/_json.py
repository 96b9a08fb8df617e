"""Strict JSON for JOSE: one object, no duplicate members, no NaN/Infinity (RFC 7515 §5.2, RFC 8259)."""

from __future__ import annotations

import json
from typing import Any


class JSONRefusedError(ValueError):
    """The text is not one strict JSON object; callers turn this into their own client-safe error."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build an object, refusing duplicate member names (RFC 7515 §5.2 step 4, RFC 7519 §4)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise JSONRefusedError("duplicate member name")
    return obj


def _no_constant(name: str) -> Any:
    """Refuse NaN, Infinity and -Infinity, which are not JSON (RFC 8259 §6)."""
    raise JSONRefusedError("non-finite number")


_UNIQUE = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
_LAST_WINS = json.JSONDecoder(parse_constant=_no_constant)
#: Built once: json.dumps with non-default options would build a new encoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def loads_object(text: str, *, unique: bool = True) -> dict[str, Any]:
    """Parse `text` as one JSON object (RFC 8259 §4); duplicates refused, or last-wins if not `unique`.

    RFC 7515 §5.2 and RFC 7519 §4 allow either rejecting duplicate member names or keeping the
    lexically last one; the token hot path keeps the last (a duplicate check costs more than the rest).
    """
    try:
        value = (_UNIQUE if unique else _LAST_WINS).decode(text)
    except (ValueError, RecursionError):
        raise JSONRefusedError("not valid JSON") from None
    if not isinstance(value, dict):
        raise JSONRefusedError("not a JSON object")
    return value


def dumps_compact(value: Any) -> bytes:
    """Serialize `value` once as compact UTF-8 JSON (RFC 7515 §3.1 allows any whitespace; we use none)."""
    return _ENCODER.encode(value).encode("utf-8")
