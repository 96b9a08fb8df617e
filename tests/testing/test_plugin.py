"""The pytest plugin: a suite that uses only its fixtures passes, found by the `pytest11` entry point or named with
`-p portvakt.testing`; the server's scope is configurable; an armed failure ends with its test; nothing starts (or
is even imported) unless a test asks for a fixture."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.usefixtures("loaded")

SUITE = '''
import sys

SEEN = []


def test_0_nothing_is_loaded_before_a_test_asks():
    assert "portvakt.wiring" not in sys.modules or not {check_lazy}
    assert "uvicorn" not in sys.modules or not {check_lazy}


def test_1_a_real_token(maskinporten, maskinporten_token):
    vendor = maskinporten.org()
    api = maskinporten.scope("suite:read")
    maskinporten.grant_access(api, vendor)
    token = maskinporten_token(maskinporten.client(vendor, [api]), [api])
    assert token.claims["consumer"]["ID"] == "0192:" + vendor.orgno
    assert token.claims["iss"] == maskinporten.issuer
    SEEN.append(maskinporten.issuer)


def test_2_left_armed(maskinporten):
    maskinporten.failing("outage")
    SEEN.append(maskinporten.issuer)


def test_3_not_armed_any_more(maskinporten, maskinporten_token):
    vendor = maskinporten.org()
    api = maskinporten.scope("suite:read")
    maskinporten.grant_access(api, vendor)
    assert maskinporten_token(maskinporten.client(vendor, [api]), [api]).scope == "suite:read"
    SEEN.append(maskinporten.issuer)


def test_4_scope():
    assert len(SEEN) == 3
    assert (len(set(SEEN)) == 1) == {shared}
'''


#: The inner runs leave out the other plugins of this venv (faster, and the suite needs none of them).
QUIET = ("-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:anyio")


def suite(*, shared: bool, check_lazy: bool = False) -> str:
    """The test file, expecting one server for all tests (shared) or one per test."""
    return SUITE.format(shared=shared, check_lazy=check_lazy)


@pytest.mark.slow
def test_a_suite_using_only_the_plugin_passes_by_autodiscovery(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=suite(shared=False, check_lazy=True))
    result = pytester.runpytest_subprocess(*QUIET)
    result.assert_outcomes(passed=5)


def test_the_plugin_can_be_named_with_p_when_autoload_is_off(pytester: pytest.Pytester,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_suite=suite(shared=False))
    result = pytester.runpytest("-p", "portvakt.testing", *QUIET)
    result.assert_outcomes(passed=5)


def test_without_the_plugin_the_fixtures_are_unknown(pytester: pytest.Pytester,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(test_suite=suite(shared=False))
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(passed=1, failed=1, errors=3)
    result.stdout.fnmatch_lines(["*fixture 'maskinporten' not found*"])


def test_naming_it_with_p_and_by_the_entry_point_registers_it_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=suite(shared=False))
    result = pytester.runpytest("-p", "portvakt.testing", *QUIET)
    result.assert_outcomes(passed=5)


def test_the_ini_option_makes_one_server_for_the_session(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmaskinporten_scope = session\n")
    pytester.makepyfile(test_suite=suite(shared=True))
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(passed=5)


def test_the_command_line_option_wins_over_the_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmaskinporten_scope = function\n")
    pytester.makepyfile(test_suite=suite(shared=True))
    result = pytester.runpytest("--maskinporten-scope=module", *QUIET)
    result.assert_outcomes(passed=5)


def test_an_unknown_scope_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmaskinporten_scope = forever\n")
    pytester.makepyfile(test_suite=suite(shared=True))
    result = pytester.runpytest(*QUIET)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*maskinporten_scope must be one of function, module, session*"])
