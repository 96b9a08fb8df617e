"""Bearer authentication of the self-service API with portvakt's own access tokens (RFC 6750): the one caller
dependency shared with the Altinn side (api.bearer)."""

from __future__ import annotations

from ..bearer import ACTING_FOR, PERSON, CallerDep

__all__ = ["ACTING_FOR", "PERSON", "CallerDep"]
