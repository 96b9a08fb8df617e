"""GET /errors/{code}: a page that explains an MP error code to a person (the error_uri target)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from portvakt.oauth.mp_codes import MP_CODES

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"]))


async def error_page(request: Request) -> Response:
    """One page per code; unknown codes get a 404 page listing the known ones."""
    code = request.path_params["code"]
    entry = MP_CODES.get(code)
    page = _env.get_template("error.html").render(entry=entry, code=code, codes=MP_CODES.values())
    return HTMLResponse(page, status_code=200 if entry else 404,
                        headers={"cache-control": "public, max-age=86400"})


async def error_index(request: Request) -> Response:
    """All codes on one page."""
    page = _env.get_template("error.html").render(entry=None, code=None, codes=MP_CODES.values())
    return HTMLResponse(page, headers={"cache-control": "public, max-age=86400"})
