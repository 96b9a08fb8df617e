"""GET /dev/sms: the development outbox shown as a phone would (issue 5 §5; only in dev/demo mode)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..web import state


async def outbox(request: Request) -> Response:
    """The messages this process sent, newest first (mounted only when dev_mode and an outbox are given)."""
    box = state(request).outbox
    assert box is not None
    return state(request).renderer.page(request, "outbox.html", messages=box.messages())


ROUTES = [Route("/dev/sms", outbox, methods=["GET"])]
