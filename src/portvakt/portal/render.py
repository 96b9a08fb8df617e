"""HTML pages from Jinja2 templates (autoescaped), in the request's language, with no-store caching."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from portvakt.wire.altinn import PersonOut

from .i18n import Translator
from .models import expiry, organisations, roles_for, shown, state_of
from .nav import NavItem, entries_for
from .web import base, language_of, session_of

TEMPLATES = Path(__file__).parent / "templates"
#: How the Altinn side names a change made by the operator at the CLI (operator:<name>).
OPERATOR_PREFIX = "operator:"
#: Words longer than this may break anywhere in a table cell (WCAG 1.4.10); shorter ones stay whole.
LONG_WORD = 40


def _date(t: Translator) -> Any:
    def format_date(value: datetime) -> str:
        return value.astimezone(UTC).strftime(t("date.format"))

    return format_date


def wrap(text: object) -> str:
    """The class for an identifier in a table cell: `pv-wrap` (break anywhere) when it holds a word longer than
    LONG_WORD characters, else `pv-ident` (kept whole): a long name wraps, a normal scope is never broken."""
    return "pv-wrap" if any(len(word) > LONG_WORD for word in str(text).split()) else "pv-ident"


def _actor(t: Translator, person: PersonOut | None) -> Any:
    def readable(who: str | None) -> str:
        """Who made a change, as a person reads it: "you", a username, "the operator" or "a system" (never an
        internal id such as operator:demo)."""
        if not who:
            return "–"
        if who.startswith(OPERATOR_PREFIX):
            return t("actor.operator")
        if person is not None and who == person.username:
            return t("actor.you", name=person.name)
        return who if "@" in who else t("actor.system")

    return readable


class Renderer:
    """One Jinja2 environment; `page()` renders a template with the layout's context."""

    def __init__(self, stylesheets: list[str], *, dev_sms: bool = False) -> None:
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(shown=shown, state_of=state_of, expiry=expiry)
        self.env.filters["wrap"] = wrap
        self.stylesheets = stylesheets
        self.dev_sms = dev_sms

    def context(self, request: Request) -> dict[str, Any]:
        """What every page's layout needs: texts, paths, the person, the organisation and the menu."""
        t = Translator(language_of(request))
        session = session_of(request)
        person = session.person if session else None
        root = base(request)
        orgno = session.orgno if session else None
        roles = roles_for(person, orgno) if person and orgno else frozenset()
        path = request.url.path
        nav = [NavItem(root + e.path, t(e.label), path.startswith(root + e.path)) for e in entries_for(roles)]
        return {"t": t, "lang": t.language, "base": root, "static": root + "/static",
                "stylesheets": [root + s for s in self.stylesheets], "person": person, "orgno": orgno,
                "org_name": organisations(person).get(orgno, orgno) if person and orgno else None,
                "csrf": session.csrf if session else "", "nav": nav, "here": path,
                "many_orgs": bool(person and len(organisations(person)) > 1), "format_date": _date(t),
                "actor": _actor(t, person),
                "dev_sms": self.dev_sms}

    def page(self, request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
        """The rendered page; pages are never cached (they show a person's data). `values` may override the
        layout's context (the login form passes its own CSRF token)."""
        html = self.env.get_template(template).render({**self.context(request), **values})
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})
