"""README's "Testing your integration": every example runs as it is written (the Python blocks as a test suite that
uses only the plugin, the seed file on a server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

from portvakt.testing import Maskinporten
from portvakt.testing.seedfile import apply_seed

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.usefixtures("loaded")

README = Path(__file__).resolve().parents[2] / "README.md"
QUIET = ("-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:anyio")


def section() -> str:
    """The text of the section, up to the next section."""
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Testing your integration\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def blocks(language: str) -> list[str]:
    """The fenced code blocks of `language` in the section."""
    return re.findall(rf"```{language}\n(.*?)```", section(), flags=re.DOTALL)


def test_the_section_has_a_vendor_and_a_provider_example() -> None:
    code = blocks("python")
    assert any("MaskinportenAuth" in b and "httpx" in b for b in code)
    assert any("FastAPI" in b and "require_token" in b for b in code)


def test_every_python_example_passes_as_written(pytester: pytest.Pytester) -> None:
    code = blocks("python")
    for n, block in enumerate(code):
        pytester.makepyfile(**{f"test_readme_{n}": block})
    tests = sum(len(re.findall(r"^def test_", b, flags=re.MULTILINE)) for b in code)
    assert tests >= 3
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(passed=tests)


def test_the_seed_file_example_applies(mp: Maskinporten) -> None:
    (seed,) = blocks("yaml")
    done = apply_seed(mp, yaml.safe_load(seed))
    assert done.orgs["provider"].orgno == "974760673"
    client = done.clients["turbo"]
    token = mp.token(client, "brreg:reelle/offentlig", consumer_org=done.orgs["customer"])
    assert token.claims["supplier"]["ID"] == f"0192:{done.orgs['vendor'].orgno}"
