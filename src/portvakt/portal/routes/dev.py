"""GET /dev/sms: the development outbox shown as a phone would (decision P9; only in dev/demo mode)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..web import fresh_roles, person_session, state


async def outbox(request: Request) -> Response:
    """The messages to the logged-in person's own mobile number, newest first; to the login page without login
    (docs/security.md, SMS outbox disclosure). Mounted only when dev_mode and an outbox are given."""
    session = person_session(request)
    await fresh_roles(request, session)
    box = state(request).outbox
    assert box is not None
    assert session.person is not None
    return state(request).renderer.page(request, "outbox.html", messages=box.messages_for(session.person.mobile))


ROUTES = [Route("/dev/sms", outbox, methods=["GET"])]
