"""The /errors/ pages (the error_uri target): in the portal's look, in Norwegian Bokmål by default and English on
request (?lang= or the portal's language cookie), with a way back; every code explained in both languages."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from portvakt.api.error_pages import NB_CODES, error_index, error_page
from portvakt.oauth.mp_codes import MP_CODES
from portvakt.settings import Settings

from ..conftest import World

STYLESHEET = re.compile(r'<link rel="stylesheet" href="(/errors/[a-z]+\.css)">')


def pages(**settings: Any) -> TestClient:
    """The two routes on an app whose runtime has these settings (as the token service's app has)."""
    app = Starlette(routes=[Route("/errors/", error_index), Route("/errors/{code}", error_page)])
    app.state.runtime = SimpleNamespace(settings=Settings(data_dir=Path("/nonexistent"), **settings))
    return TestClient(app, base_url="http://portvakt.test")


def test_every_code_is_explained_in_bokmal() -> None:
    assert set(NB_CODES) == set(MP_CODES)
    for code, (title, explanation) in NB_CODES.items():
        assert title and explanation.endswith((".", ")")), code
        assert "altinn_virksys" not in explanation, "no jargon for people"


def test_bokmal_by_default(world: World) -> None:
    page = world.http.get("/errors/MP-250")
    assert page.status_code == 200
    assert '<html lang="nb"' in page.text and "<title>MP-250: Ingen tilgang – Portvakt</title>" in page.text
    assert "står ikke på tilgangslista" in page.text
    assert "Consumer has not been granted access to the scope" in page.text, "the wire text as the answer has it"
    assert 'href="?lang=en"' in page.text.replace("/errors/MP-250", "") and 'lang="en"' in page.text


def test_english_on_request_and_from_the_portals_cookie(world: World) -> None:
    english = world.http.get("/errors/MP-250?lang=en").text
    assert '<html lang="en"' in english and "MP-250: No access" in english and "access list" in english
    world.http.cookies.set("portvakt_lang", "en")
    assert '<html lang="en"' in world.http.get("/errors/MP-110").text
    assert '<html lang="nb"' in world.http.get("/errors/MP-110?lang=nb").text, "?lang= wins over the cookie"
    world.http.cookies.set("portvakt_lang", "xx")
    assert '<html lang="nb"' in world.http.get("/errors/MP-110").text


def test_the_page_varies_with_the_cookie_and_keeps_a_strict_policy(world: World) -> None:
    page = world.http.get("/errors/MP-110")
    assert page.headers["vary"] == "cookie"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<style" not in page.text and " style=" not in page.text, "no inline style (CSP style-src 'self')"


def test_the_portals_look(world: World) -> None:
    page = world.http.get("/errors/MP-126").text
    assert 'class="pv-header"' in page and 'class="ds-skip-link"' in page and 'id="main"' in page
    sheets = STYLESHEET.findall(page)
    assert "/errors/portal.css" in sheets
    for href in sheets:
        css = world.http.get(href)
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert world.http.get("/errors/other.css").status_code == 404


def test_codes_in_backticks_are_code_and_texts_are_escaped(world: World) -> None:
    page = world.http.get("/errors/MP-126").text
    assert "<code>kid</code>" in page and "`" not in page.split("<main", 1)[1]
    unknown = world.http.get("/errors/<script>")
    assert unknown.status_code == 404 and "<script>" not in unknown.text and "&lt;script&gt;" in unknown.text


def test_a_way_back(world: World) -> None:
    page = world.http.get("/errors/MP-500").text
    assert 'href="/errors/">Alle feilkodene</a>' in page
    assert 'aria-current="page">MP-500</a>' in page
    assert 'href="/portal/"' not in page, "no portal in this process: no link to it"
    with pages(roles=["token", "portal"]) as http:
        linked = http.get("/errors/MP-500").text
    assert 'href="/portal/">Til portalen</a>' in linked and '<a class="pv-brand" href="/portal/">' in linked


def test_the_index_and_an_unknown_code(world: World) -> None:
    index = world.http.get("/errors/")
    assert index.status_code == 200 and "Feilkoder fra token-endepunktet" in index.text
    assert all(f'href="/errors/{code}"' in index.text for code in MP_CODES)
    english = world.http.get("/errors/?lang=en").text
    assert 'href="/errors/MP-250?lang=en"' in english, "a language chosen by ?lang= stays on"
    assert 'href="/errors/?lang=en">All error codes</a>' in world.http.get("/errors/MP-250?lang=en").text
    unknown = world.http.get("/errors/MP-999")
    assert unknown.status_code == 404 and "Ukjent feilkode MP-999" in unknown.text
    assert 'href="/errors/">Alle feilkodene</a>' in unknown.text


def test_the_tables_reflow() -> None:
    with pages() as http:
        page = http.get("/errors/MP-010").text
    assert 'class="ds-table pv-table"' in page
    rows = re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>", 1)[1], re.S)
    assert len(rows) == len(MP_CODES)
    assert all(row.count("data-label=") == 3 for row in rows)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_configured_default_language(lang: str) -> None:
    with pages(portal={"default_language": lang}) as http:
        assert f'<html lang="{lang}"' in http.get("/errors/MP-010").text
