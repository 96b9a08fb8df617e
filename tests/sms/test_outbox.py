"""The development outbox (decision P9): in memory only, newest first, failures on demand, no text in logs."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from portvakt.sms import DevOutbox, SmsFailed, SmsGateway, mask_number, normalise_number

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET_TEXT = "Passordet ditt er Kx7mPq9RtW2vYz4aBc8dEf3g"


class Ticker:
    """A clock that moves one second per reading."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def send(gateway: SmsGateway, to: str, text: str) -> None:
    asyncio.run(gateway.send(to, text))


def test_messages_newest_first_with_time() -> None:
    outbox = DevOutbox(clock=Ticker())
    send(outbox, "+4799999901", "first")
    send(outbox, "+47 999 99 902", "second")
    send(outbox, "+4799999901", "third")
    got = outbox.messages()
    assert [m.text for m in got] == ["third", "second", "first"]
    assert [m.to for m in got] == ["+4799999901", "+4799999902", "+4799999901"]
    assert [m.sent_at for m in got] == [T0 + timedelta(seconds=s) for s in (3, 2, 1)]


def test_messages_for_one_number() -> None:
    outbox = DevOutbox()
    send(outbox, "+4799999901", "a")
    send(outbox, "+4799999902", "b")
    send(outbox, "+4799999901", "c")
    assert [m.text for m in outbox.messages("+47 99 99 99 01")] == ["c", "a"]
    assert outbox.messages("+4711111111") == []


def test_keeps_at_most_max_messages() -> None:
    outbox = DevOutbox(max_messages=3)
    for i in range(5):
        send(outbox, "+4799999901", f"m{i}")
    assert [m.text for m in outbox.messages()] == ["m4", "m3", "m2"]
    with pytest.raises(ValueError, match="at least 1"):
        DevOutbox(max_messages=0)


def test_clear() -> None:
    outbox = DevOutbox()
    send(outbox, "+4799999901", "a")
    outbox.clear()
    assert outbox.messages() == []


def test_fail_next_fails_once_and_keeps_nothing() -> None:
    outbox = DevOutbox()
    outbox.fail_next("the operator is down")
    with pytest.raises(SmsFailed, match="the operator is down") as caught:
        send(outbox, "+4799999901", SECRET_TEXT)
    assert caught.value.reason == "the operator is down"
    assert outbox.messages() == []
    send(outbox, "+4799999901", "later")
    assert [m.text for m in outbox.messages()] == ["later"]


@pytest.mark.parametrize("number", ["", "12345", "+47 abc 99999", "+4799999901234567", "99999901\n", "++4799999901"])
def test_invalid_numbers_are_refused(number: str) -> None:
    outbox = DevOutbox()
    with pytest.raises(SmsFailed, match="mobile number is not valid"):
        send(outbox, number, SECRET_TEXT)
    assert outbox.messages() == []


@pytest.mark.parametrize("text", ["", "   ", "x" * 1531])
def test_empty_or_huge_text_is_refused_without_echo(text: str) -> None:
    with pytest.raises(SmsFailed) as caught:
        send(DevOutbox(), "+4799999901", text)
    assert len(str(caught.value)) < 80


def test_log_masks_the_number_and_never_has_the_text(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    outbox = DevOutbox()
    send(outbox, "+4799999901", SECRET_TEXT)
    outbox.fail_next()
    with pytest.raises(SmsFailed):
        send(outbox, "+4799999901", SECRET_TEXT)
    assert "SMS to +47…01 queued in the dev outbox" in caplog.text
    assert SECRET_TEXT not in caplog.text and "Kx7mPq9" not in caplog.text
    assert "99999901" not in caplog.text


def test_repr_of_a_message_hides_the_text() -> None:
    outbox = DevOutbox()
    send(outbox, "+4799999901", SECRET_TEXT)
    assert SECRET_TEXT not in repr(outbox.messages()[0])


def test_number_helpers() -> None:
    assert normalise_number("(+47) 999-99.901") == "+4799999901"
    assert normalise_number("99999901") == "99999901"
    assert mask_number("+4799999901") == "+47…01"
    assert mask_number("123") == "…"


def test_no_sms_provider_always_fails_and_names_the_setting() -> None:
    import asyncio

    from portvakt.sms import NoSmsProvider, SmsFailed

    with pytest.raises(SmsFailed, match="PORTVAKT_SMS__PROVIDER") as caught:
        asyncio.run(NoSmsProvider().send("+4790000001", "secret text"))
    assert "secret text" not in str(caught.value)
