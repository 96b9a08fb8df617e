"""The HTTP SMS provider (decision P9): template, auth, 2xx = sent, every failure is SmsFailed without the text."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from portvakt.settings import Settings, SmsSettings
from portvakt.sms import DevOutbox, HttpSmsGateway, SmsFailed, from_settings, render_body

URL = "https://sms.example.test/send"
SECRET_TEXT = "Passordet ditt er Kx7mPq9RtW2vYz4aBc8dEf3g"
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """An httpx MockTransport that keeps the requests and answers with `handler`."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self._handler = handler or (lambda _: httpx.Response(202, json={"id": "1"}))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._handler(request)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    @property
    def body(self) -> Any:
        return json.loads(self.requests[-1].content)


def send(gateway: HttpSmsGateway, to: str = "+4799999901", text: str = SECRET_TEXT) -> None:
    asyncio.run(gateway.send(to, text))


def test_default_template_and_json_post() -> None:
    rec = Recorder()
    send(HttpSmsGateway(URL, sender="portvakt", http=rec.client()))
    request = rec.requests[0]
    assert request.method == "POST" and str(request.url) == URL
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    assert rec.body == {"to": "+4799999901", "message": SECRET_TEXT, "from": "portvakt"}


def test_nested_template_substitution() -> None:
    rec = Recorder()
    template = {"messages": [{"destinations": [{"to": "{to}"}], "text": "{text}", "from": "{sender}",
                              "note": "to {to} from {sender}"}], "flags": {"flash": False, "count": 1, "x": None}}
    send(HttpSmsGateway(URL, body_template=template, sender="Portvakt", http=rec.client()), text="hei {to}")
    assert rec.body == {"messages": [{"destinations": [{"to": "+4799999901"}], "text": "hei {to}",
                                      "from": "Portvakt", "note": "to +4799999901 from Portvakt"}],
                        "flags": {"flash": False, "count": 1, "x": None}}


def test_without_sender_the_member_is_left_out() -> None:
    body = render_body({"to": "{to}", "from": "{sender}", "sig": "by {sender}."}, {"to": "1", "sender": None})
    assert body == {"to": "1", "sig": "by ."}


def test_basic_auth() -> None:
    rec = Recorder()
    send(HttpSmsGateway(URL, username="user", password=SecretStr("pa:ss"), http=rec.client()))
    assert rec.requests[0].headers["authorization"] == httpx.BasicAuth("user", "pa:ss")._auth_header


def test_bearer_token() -> None:
    rec = Recorder()
    send(HttpSmsGateway(URL, bearer_token=SecretStr("tok-123"), http=rec.client()))
    assert rec.requests[0].headers["authorization"] == "Bearer tok-123"


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_any_2xx_is_sent(status: int) -> None:
    send(HttpSmsGateway(URL, http=Recorder(lambda _: httpx.Response(status)).client()))


@pytest.mark.parametrize("status", [301, 400, 401, 429, 500, 503])
def test_other_statuses_fail_with_the_status_only(status: int) -> None:
    echo = Recorder(lambda r: httpx.Response(status, content=r.content))
    with pytest.raises(SmsFailed) as caught:
        send(HttpSmsGateway(URL, http=echo.client()))
    assert str(caught.value) == f"the SMS provider refused the message (HTTP {status})"
    assert caught.value.reason == str(caught.value)


def raiser(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (httpx.ReadTimeout("slow"), "did not answer in time"),
        (httpx.ConnectTimeout("slow"), "did not answer in time"),
        (httpx.ConnectError(f"refused {SECRET_TEXT}"), r"could not be reached \(ConnectError\)"),
        (httpx.RemoteProtocolError(f"bad {SECRET_TEXT}"), r"could not be reached \(RemoteProtocolError\)"),
    ],
)
def test_transport_failures(exc: Exception, message: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SmsFailed, match=message) as caught:
        send(HttpSmsGateway(URL, http=Recorder(raiser(exc)).client()))
    assert SECRET_TEXT not in str(caught.value) and caught.value.__cause__ is None
    assert SECRET_TEXT not in caplog.text


def test_log_has_masked_number_and_no_body(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    send(HttpSmsGateway(URL, bearer_token=SecretStr("tok-123"), http=Recorder().client()))
    with pytest.raises(SmsFailed):
        send(HttpSmsGateway(URL, http=Recorder(lambda r: httpx.Response(500, content=r.content)).client()))
    assert "+47…01" in caplog.text
    for secret in (SECRET_TEXT, "Kx7mPq9", "99999901", "tok-123"):
        assert secret not in caplog.text


def test_invalid_number_is_refused_before_any_request() -> None:
    rec = Recorder()
    with pytest.raises(SmsFailed, match="mobile number"):
        send(HttpSmsGateway(URL, http=rec.client()), to="not a number")
    assert rec.requests == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "ftp://x"}, "https://"),
        ({"username": "u"}, "go together"),
        ({"password": SecretStr("p")}, "go together"),
        ({"username": "u", "password": SecretStr("p"), "bearer_token": SecretStr("t")}, "not both"),
    ],
)
def test_bad_configuration(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"url": URL, **kwargs}
    with pytest.raises(ValueError, match=message):
        HttpSmsGateway(args.pop("url"), **args)


def test_repr_hides_credentials() -> None:
    gateway = HttpSmsGateway(URL, bearer_token=SecretStr("tok-123"))
    assert "tok-123" not in repr(gateway) and URL in repr(gateway)


class _Provider(BaseHTTPRequestHandler):
    """A tiny provider: 200 for /ok, 503 for anything else; keeps what it got."""

    received: list[tuple[str, dict[str, str], bytes]] = []  # noqa: RUF012 (shared by the test server)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers), body))
        self.send_response(200 if self.path == "/ok" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def provider() -> Iterator[str]:
    """A real local HTTP server on a free port."""
    _Provider.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_real_local_server(provider: str) -> None:
    send(HttpSmsGateway(f"{provider}/ok", username="u", password=SecretStr("p"), sender="pv"))
    path, headers, body = _Provider.received[0]
    assert path == "/ok" and headers["Authorization"].startswith("Basic ")
    assert json.loads(body) == {"to": "+4799999901", "message": SECRET_TEXT, "from": "pv"}
    with pytest.raises(SmsFailed, match="HTTP 503"):
        send(HttpSmsGateway(f"{provider}/down"))


def test_closed_port_is_a_connect_error() -> None:
    gateway = HttpSmsGateway("http://127.0.0.1:9/none", timeout=2)
    with pytest.raises(SmsFailed, match="could not be reached"):
        send(gateway)


def test_from_settings() -> None:
    assert isinstance(from_settings(SmsSettings()), DevOutbox)
    s = SmsSettings(provider="http", url=URL, bearer_token=SecretStr("t"), sender="S", timeout_seconds=2)
    assert isinstance(from_settings(s), HttpSmsGateway)
    with pytest.raises(ValueError, match="needs a URL"):
        from_settings(SmsSettings(provider="http"))


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTVAKT_SMS__PROVIDER", "http")
    monkeypatch.setenv("PORTVAKT_SMS__URL", URL)
    monkeypatch.setenv("PORTVAKT_SMS__PASSWORD", "secret-pw")
    monkeypatch.setenv("PORTVAKT_SMS__USERNAME", "u")
    monkeypatch.setenv("PORTVAKT_SMS__BODY_TEMPLATE", '{"msisdn": "{to}", "body": {"text": "{text}"}}')
    sms = Settings().sms
    assert sms.provider == "http" and sms.body_template == {"msisdn": "{to}", "body": {"text": "{text}"}}
    assert "secret-pw" not in repr(sms)
    assert SmsSettings().body_template == {"to": "{to}", "message": "{text}", "from": "{sender}"}
