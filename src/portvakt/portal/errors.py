"""The portal's errors: a readable message, the form field it concerns, and the status to answer with."""

from __future__ import annotations

from typing import Any

import httpx

#: The API's field names (RFC 9457 `errors[].field`) -> the portal's form fields.
_FIELDS = {"client_name": "client_name", "description": "description", "Description": "description",
           "scopes": "scopes", "scope": "scopes", "keys": "key"}


class PortalError(Exception):
    """An API refused or failed; `message` is safe to show, `field` names the form field it concerns."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400,
                 kind: str = "refused") -> None:
        super().__init__(message)
        self.message, self.field, self.status, self.kind = message, field, status, kind

    @property
    def missing(self) -> bool:
        """The API says the thing asked for is not there (or its id cannot exist): the portal's 404 page."""
        return self.kind == "not-found" or self.status in (400, 404)


class Unavailable(PortalError):
    """The APIs could not be reached or answered unexpectedly (503 page; details only in the log)."""

    def __init__(self) -> None:
        super().__init__("unavailable", status=503, kind="unavailable")


class Busy(PortalError):
    """The Altinn side has every password check taken (429); try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("busy", status=429, kind="busy")
        self.retry_after = retry_after


def retry_after(resp: httpx.Response, default: int = 1) -> int:
    """A 429's Retry-After in whole seconds (RFC 9110 §10.2.3 delay-seconds), 1 to 60; `default` otherwise."""
    value = resp.headers.get("retry-after", "")
    return min(60, max(1, int(value))) if value.isdigit() else default


def _form_field(api_field: object) -> str | None:
    """The form field for an API field name such as `keys[0]` or `client_name`."""
    if not isinstance(api_field, str):
        return None
    return _FIELDS.get(api_field.split("[")[0].split(".")[0])


def from_problem(resp: httpx.Response) -> PortalError:
    """An RFC 9457 problem (or any error answer) as a PortalError; 5xx becomes Unavailable."""
    if resp.status_code >= 500:
        return Unavailable()
    try:
        body: Any = resp.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    message = first.get("message") or body.get("detail") or body.get("title") or f"HTTP {resp.status_code}"
    kind = "not-found" if resp.status_code == 404 else "refused"
    return PortalError(str(message)[:500], field=_form_field(first.get("field")), status=resp.status_code,
                       kind=kind)
