"""The portal's texts: one catalogue module per language (nb, the default, and en)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from ..config import Language
from . import en, nb

CATALOGUES: Mapping[str, Mapping[str, str]] = {"nb": nb.MESSAGES, "en": en.MESSAGES}
LANGUAGES: tuple[Language, ...] = get_args(Language)


def is_language(value: object) -> bool:
    """True for a language the portal has a catalogue for."""
    return value in CATALOGUES


class Translator:
    """`t("key", name=...)`: the text in one language, with its {placeholders} filled in ({{ is a brace)."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self._messages = CATALOGUES[language]

    def __call__(self, key: str, **values: Any) -> str:
        text = self._messages.get(key)
        if text is None:
            return key
        return text.format(**values)
