"""An HTTP SMS provider (decision P9): POST a JSON body built from a template; 2xx means sent."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from .port import SmsFailed, check_text, mask_number, normalise_number

log = logging.getLogger(__name__)

#: The placeholders a template's string values may hold; substituted in one pass, so a text that
#: itself contains "{to}" is sent as written.
_PLACEHOLDER = re.compile(r"\{(to|text|sender)\}")


def render_body(template: Mapping[str, Any], values: Mapping[str, str | None]) -> dict[str, Any]:
    """The template with "{to}", "{text}", "{sender}" substituted in string values (recursively).

    A member whose value is exactly a placeholder without a value (no sender) is left out.
    """
    return _render_members(template, values)


def _render(node: Any, values: Mapping[str, str | None]) -> Any:
    """Substitute in strings, walk dicts and lists, keep other JSON values as they are."""
    if isinstance(node, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m[1]) or "", node)
    if isinstance(node, Mapping):
        return _render_members(node, values)
    if isinstance(node, list):
        return [_render(v, values) for v in node]
    return node


def _render_members(node: Mapping[str, Any], values: Mapping[str, str | None]) -> dict[str, Any]:
    """Render each member's value, leaving out members that are one placeholder without a value."""
    return {k: _render(v, values) for k, v in node.items() if not _is_empty_placeholder(v, values)}


def _is_empty_placeholder(value: Any, values: Mapping[str, str | None]) -> bool:
    """True for a string that is one placeholder whose value is missing."""
    match = _PLACEHOLDER.fullmatch(value) if isinstance(value, str) else None
    return match is not None and not values.get(match[1])


class HttpSmsGateway:
    """An SmsGateway that POSTs JSON to a provider, with Basic or Bearer auth; never logs the body."""

    def __init__(self, url: str, *, username: str | None = None, password: SecretStr | None = None,
                 bearer_token: SecretStr | None = None, body_template: Mapping[str, Any] | None = None,
                 sender: str | None = None, timeout: float = 5.0, http: httpx.AsyncClient | None = None) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the SMS provider URL must start with https:// or http://")
        if bearer_token is not None and (username is not None or password is not None):
            raise ValueError("configure either username/password or a bearer token for the SMS provider, not both")
        if (username is None) != (password is None):
            raise ValueError("the SMS provider's username and password go together")
        self._url = url
        self._auth = httpx.BasicAuth(username, password.get_secret_value()) if username and password else None
        self._headers = {"Accept": "application/json"}
        if bearer_token is not None:
            self._headers["Authorization"] = f"Bearer {bearer_token.get_secret_value()}"
        self._template = dict(body_template or {"to": "{to}", "message": "{text}", "from": "{sender}"})
        self._sender = sender
        self._timeout = timeout
        self._http = http

    def __repr__(self) -> str:
        return f"HttpSmsGateway(url={self._url!r})"

    async def send(self, to: str, text: str) -> None:
        """POST the rendered body; 2xx is sent, anything else SmsFailed with the status or error class."""
        number = normalise_number(to)
        check_text(text)
        body = render_body(self._template, {"to": number, "text": text, "sender": self._sender})
        try:
            if self._http is not None:
                response = await self._post(self._http, body)
            else:
                async with httpx.AsyncClient() as http:
                    response = await self._post(http, body)
        except httpx.TimeoutException:
            log.warning("SMS to %s failed: the provider did not answer in %ss", mask_number(number), self._timeout)
            raise SmsFailed("the SMS provider did not answer in time") from None
        except httpx.HTTPError as exc:
            log.warning("SMS to %s failed: %s", mask_number(number), exc.__class__.__name__)
            raise SmsFailed(f"the SMS provider could not be reached ({exc.__class__.__name__})") from None
        if not 200 <= response.status_code < 300:
            log.warning("SMS to %s refused: HTTP %s", mask_number(number), response.status_code)
            raise SmsFailed(f"the SMS provider refused the message (HTTP {response.status_code})")
        log.info("SMS to %s accepted by the provider", mask_number(number))

    async def _post(self, http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
        """One POST; the response body is never read into a log or an error (it may echo the text)."""
        if self._auth is not None:
            return await http.post(self._url, json=body, headers=self._headers, auth=self._auth,
                                   timeout=self._timeout)
        return await http.post(self._url, json=body, headers=self._headers, timeout=self._timeout)
