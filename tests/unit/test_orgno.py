"""Organisation numbers: 9 digits with the mod-11 check digit; ISO 6523 form 0192:<orgno>."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portvakt.domain.errors import Invalid
from portvakt.domain.orgno import is_valid_orgno, iso6523, require_orgno

WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


@pytest.mark.parametrize("orgno", ["974760673", "991825827", "910753614", "314330897", "958935420"])
def test_known_numbers(orgno: str) -> None:
    assert is_valid_orgno(orgno)


@pytest.mark.parametrize("bad", ["974760674", "97476067", "9747606730", "97476067a", "", " 974760673",
                                 "９７４７６０６７３"])
def test_invalid_numbers(bad: str) -> None:
    assert not is_valid_orgno(bad)
    with pytest.raises(Invalid):
        require_orgno(bad)


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_exactly_one_check_digit_or_none(first8: str) -> None:
    valid = [d for d in "0123456789" if is_valid_orgno(first8 + d)]
    remainder = sum(int(a) * w for a, w in zip(first8, WEIGHTS, strict=True)) % 11
    expected = 0 if remainder == 0 else 11 - remainder
    assert valid == ([] if expected == 10 else [str(expected)])


@given(st.text(max_size=12))
def test_never_raises_on_any_text(value: str) -> None:
    assert isinstance(is_valid_orgno(value), bool)


def test_iso6523() -> None:
    assert iso6523("974760673") == {"authority": "iso6523-actorid-upis", "ID": "0192:974760673"}
