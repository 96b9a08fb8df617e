"""Logs and 5xx (docs/decisions.md S11): JSON or text lines with the request id and trace id, no secret in them,
one line per kind of failure per 10 s, a request id on every answer, a trace id on every 5xx that the log has too,
and no 5xx that closes the connection."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portvakt.api.plumbing import Reply, RouteTemplates
from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.logs import (
    REQUEST_ID,
    JsonFormatter,
    TextFormatter,
    Throttle,
    configure_logging,
    redact,
    uvicorn_log_config,
)
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble
from tests.api.test_serve import free_port, release_port
from tests.conftest import ISSUER, World

HEX32 = re.compile(r"[0-9a-f]{32}")


def record(msg: str, *args: Any, level: int = logging.WARNING, name: str = "portvakt.test", line: int = 10,
           exc: BaseException | None = None, **extra: Any) -> logging.LogRecord:
    r = logging.LogRecord(name, level, "/src/x.py", line, msg, args,
                          (type(exc), exc, exc.__traceback__) if exc is not None else None)
    r.__dict__.update(extra)
    return r


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lines() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    """A JSON handler on the root logger, as configure_logging makes it, writing to a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out, handler
    root.removeHandler(handler)
    root.setLevel(old_level)


def parsed(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_a_json_line_has_the_fields_and_the_extras() -> None:
    context = REQUEST_ID.set("req-1")
    try:
        text = JsonFormatter().format(record("token refused code=%s trace_id=%s", "MP-110", "ab" * 16,
                                             level=logging.INFO, client_id="c1", count=3))
    finally:
        REQUEST_ID.reset(context)
    line = json.loads(text)
    assert "\n" not in text
    assert line["level"] == "INFO" and line["logger"] == "portvakt.test"
    assert line["msg"] == f"token refused code=MP-110 trace_id={'ab' * 16}"
    assert line["trace_id"] == "ab" * 16 and line["request_id"] == "req-1"
    assert line["client_id"] == "c1" and line["count"] == 3
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"])


def test_a_json_line_carries_the_traceback_in_one_field() -> None:
    try:
        raise ValueError("bad")
    except ValueError as exc:
        text = JsonFormatter().format(record("failed", exc=exc, trace_id="cd" * 16))
    line = json.loads(text)
    assert line["trace_id"] == "cd" * 16 and line["request_id"] is None
    assert "Traceback" in line["exc"] and "ValueError: bad" in line["exc"]


def test_a_text_line_has_the_request_id() -> None:
    context = REQUEST_ID.set("req-2")
    try:
        text = TextFormatter().format(record("hello %s", "world"))
    finally:
        REQUEST_ID.reset(context)
    assert text.endswith("WARNING portvakt.test hello world request_id=req-2")


def test_tokens_and_private_keys_are_blanked_in_every_format(rsa_keys: list[PrivateKeyHandle]) -> None:
    jws = Signer(rsa_keys[0]).sign({"iss": "x", "scope": "s"})
    pem = rsa_keys[0].to_pem().decode()
    assert "PRIVATE KEY" in pem
    r = record("got %s and %s", jws, pem, grant=jws)
    for formatter in (JsonFormatter(), TextFormatter()):
        text = formatter.format(r)
        for piece in [*jws.split("."), pem.splitlines()[1]]:
            assert piece not in text
        assert "[redacted JWS]" in text and "[redacted private key]" in text
    assert redact("nothing to see") == "nothing to see"


def test_repeats_of_one_kind_pass_once_per_window_with_their_count() -> None:
    clock = Clock()
    throttle = Throttle(10, monotonic=clock)
    assert throttle.filter(record("database down"))
    assert not any(throttle.filter(record("database down")) for _ in range(99))
    assert throttle.filter(record("other place", line=20))  # another kind
    assert throttle.filter(record("info is never held", level=logging.INFO))
    clock.now += 10
    again = record("database down")
    assert throttle.filter(again)
    assert getattr(again, "suppressed", None) == 99
    assert "and 99 more like it since" in TextFormatter().format(again)
    assert json.loads(JsonFormatter().format(again))["suppressed"] == 99


def test_exceptions_of_another_type_are_another_kind() -> None:
    throttle = Throttle(10, monotonic=Clock())
    assert throttle.filter(record("failed", exc=ValueError("a")))
    assert not throttle.filter(record("failed", exc=ValueError("b")))
    assert throttle.filter(record("failed", exc=KeyError("c")))


def test_a_window_with_repeats_and_no_next_line_is_summed_up_once() -> None:
    clock = Clock()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    throttle = Throttle(10, monotonic=clock)
    throttle.attach(handler)
    for _ in range(5):
        handler.handle(record("cache refresh failed"))
    assert throttle.flush_due() == 0
    clock.now += 10.5
    assert throttle.flush_due() == 1
    assert throttle.flush_due() == 0
    logged = parsed(out)
    assert len(logged) == 2
    assert logged[1]["suppressed"] == 4 and "repeated 4 times since" in logged[1]["msg"]
    assert "cache refresh failed" in logged[1]["msg"]


def test_configure_logging_keeps_one_handler_of_its_own() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        first = configure_logging("info", "json")
        second = configure_logging("warning", "text")
        ours = [h for h in root.handlers if getattr(h, "_portvakt", False)]
        assert ours == [second] and first not in root.handlers
        assert isinstance(second.formatter, TextFormatter) and root.level == logging.WARNING
    finally:
        for h in list(root.handlers):
            if h not in before:
                root.removeHandler(h)
        root.setLevel(level)


def test_uvicorns_lines_use_the_same_format() -> None:
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {n: (list(logging.getLogger(n).handlers), logging.getLogger(n).propagate, logging.getLogger(n).level)
             for n in names}
    try:
        logging.config.dictConfig(uvicorn_log_config("info", "json"))
        handler = logging.getLogger("uvicorn").handlers[0]
        assert isinstance(handler.formatter, JsonFormatter)
        assert any(isinstance(f, Throttle) for f in handler.filters)
        assert logging.getLogger("uvicorn.access").handlers[0].formatter is handler.formatter
    finally:
        for n, (handlers, propagate, level) in saved.items():
            logger = logging.getLogger(n)
            logger.handlers[:] = handlers
            logger.propagate, logger.level = propagate, level


@pytest.mark.parametrize(("sent", "echoed"), [
    ("abc-123_X.y", True), ("a" * 64, True), ("a" * 65, False), ("bad id", False), ("ø", False), ("", False)])
def test_every_answer_carries_a_request_id(world: World, sent: str, echoed: bool) -> None:
    header = {"x-request-id": sent.encode()}
    for answer in (world.http.get("/jwk", headers=header),
                   world.http.post("/token", data={"grant_type": "x"}, headers=header),
                   world.http.get("/api/v1/scopes/all", headers=header)):
        got = answer.headers["x-request-id"]
        assert got == sent if echoed else HEX32.fullmatch(got), (sent, got)


def test_a_new_request_id_without_one(world: World) -> None:
    a, b = (world.http.get("/livez").headers["x-request-id"] for _ in range(2))
    assert HEX32.fullmatch(a) and a != b


def test_a_token_refusal_logs_its_request_id_and_trace_id(world: World,
                                                          lines: tuple[io.StringIO, logging.Handler]) -> None:
    out, _ = lines
    r = world.http.post("/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                        "assertion": world.grant(aud="https://elsewhere.test/")},
                        headers={"x-request-id": "from-the-client"})
    trace_id = re.search(r"trace_id: ([0-9a-f]{32})", r.json()["error_description"])
    assert trace_id
    refused = [x for x in parsed(out) if x["logger"] == "portvakt.token"]
    assert refused and refused[-1]["trace_id"] == trace_id.group(1)
    assert refused[-1]["request_id"] == "from-the-client"


@pytest.fixture
def breaking(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The world server, whose store reads fail with an unexpected error."""

    def broken() -> Any:
        raise RuntimeError("the disk caught fire at postgresql://u:hunter2@db/x")

    monkeypatch.setattr(world.runtime.store, "read", broken)
    return world


def test_an_unexpected_api_error_is_a_500_with_a_trace_id_logged_once(
        breaking: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with TestClient(breaking.http.app, base_url="http://portvakt.test", raise_server_exceptions=True) as http:
        r = http.get("/api/v1/scopes/all")  # the app no longer re-raises: the server keeps the connection
    assert r.status_code == 500
    body = r.json()
    assert body["type"] == "/problems/server-error" and HEX32.fullmatch(body["trace_id"])
    assert "hunter2" not in r.text and "fire" not in r.text
    errors = [x for x in caplog.records if x.levelno >= logging.ERROR]
    assert len(errors) == 1, [x.getMessage() for x in errors]
    assert errors[0].trace_id == body["trace_id"]  # type: ignore[attr-defined]
    assert body["trace_id"] in errors[0].getMessage()


def test_a_storm_of_the_same_failure_logs_one_line(breaking: World,
                                                   lines: tuple[io.StringIO, logging.Handler]) -> None:
    out, handler = lines
    clock = Clock()
    throttle = Throttle(10, monotonic=clock)
    throttle.attach(handler)
    traces = {breaking.http.get("/api/v1/scopes/all").json()["trace_id"] for _ in range(20)}
    assert len(traces) == 20
    failures = [x for x in parsed(out) if x["level"] == "ERROR"]
    assert len(failures) == 1 and failures[0]["trace_id"] in traces and "Traceback" in failures[0]["exc"]
    clock.now += 11
    throttle.flush_due()
    summary = [x for x in parsed(out) if x["level"] == "ERROR"][-1]
    assert summary["suppressed"] == 19


def test_a_5xx_problem_without_a_trace_id_gets_one(rsa_keys: list[PrivateKeyHandle],
                                                   lines: tuple[io.StringIO, logging.Handler]) -> None:
    """The Altinn side alone, its token issuer unreachable: the 503 problem of the bearer check gets a trace id."""
    out, _ = lines

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    settings = Settings(issuer="http://altinn.test/", data_dir="/nonexistent",
                        altinn={"token_issuer": ISSUER})
    app = assemble(settings, ("altinn",), Overrides(store=MemoryStore(),
                                                    token_http=httpx.Client(transport=httpx.MockTransport(unreachable))))
    bearer = Signer(rsa_keys[0]).sign({"iss": ISSUER, "aud": "x", "exp": 4102444800, "iat": 1})
    with TestClient(app, base_url="http://altinn.test") as http:
        r = http.get("/accessmanagement/api/v1/maskinporten/schemes", headers={"authorization": f"Bearer {bearer}"})
    assert r.status_code == 503
    trace_id = r.json()["trace_id"]
    assert HEX32.fullmatch(trace_id)
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.headers["retry-after"]
    assert any(x["trace_id"] == trace_id and x["level"] == "WARNING" for x in parsed(out))


async def _reply_of(status: int, content_type: bytes, body: bytes) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    reply = Reply(send, "rid", scope, RouteTemplates(Starlette()))
    await reply.send({"type": "http.response.start", "status": status,
                      "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
    await reply.send({"type": "http.response.body", "body": body[:3], "more_body": True})
    await reply.send({"type": "http.response.body", "body": body[3:]})
    return sent


def test_reply_leaves_other_answers_alone() -> None:
    readyz = json.dumps({"status": "unavailable"}).encode()
    sent = asyncio.run(_reply_of(503, b"application/json", readyz))
    assert b"".join(m.get("body", b"") for m in sent[1:]) == readyz  # not a problem document: unchanged
    traced = json.dumps({"type": "/problems/unavailable", "trace_id": "t"}).encode()
    sent = asyncio.run(_reply_of(503, b"application/problem+json", traced))
    assert sent[1]["body"] == traced
    assert (b"x-request-id", b"rid") in sent[0]["headers"]


@pytest.fixture
def live(breaking: World) -> Iterator[int]:
    """The breaking server behind a real uvicorn in a thread."""
    port = free_port()
    release_port(port)
    server = uvicorn.Server(uvicorn.Config(breaking.http.app, host="127.0.0.1", port=port, log_level="critical",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(10)


def _read_response(sock: socket.socket, buffer: bytearray) -> tuple[int, bytes]:
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        rest += chunk
    del buffer[:]
    buffer += rest[length:]
    return int(head.split(b" ", 2)[1]), rest[:length]


def test_a_500_keeps_the_connection_alive(live: int) -> None:
    with socket.create_connection(("127.0.0.1", live), timeout=10) as sock:
        buffer = bytearray()
        traces = []
        for _ in range(3):
            sock.sendall(b"GET /api/v1/scopes/all HTTP/1.1\r\nHost: portvakt.test\r\n\r\n")
            status, body = _read_response(sock, buffer)
            assert status == 500
            traces.append(json.loads(body)["trace_id"])
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: portvakt.test\r\n\r\n")
        assert _read_response(sock, buffer)[0] == 200  # the same connection still serves
    assert len(set(traces)) == 3


def test_timestamps_are_utc() -> None:
    line = json.loads(JsonFormatter().format(record("x")))
    parsed_ts = datetime.strptime(line["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - parsed_ts).total_seconds()) < 60
