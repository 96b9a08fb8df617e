"""The checks after a fault scenario. Each returns the violations it found, as sentences with counts, so a failing
scenario says what was violated, how often and where."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from tests.faults.load import GOOD_KINDS, INVALID_KINDS, VALID, Answer

#: How many examples a violation names.
EXAMPLES = 3
#: The kind of an answer to a replay check: this, then the grant's own kind.
REPLAY_OF = "replay of "


@dataclass(frozen=True)
class Change:
    """An admin change a node acknowledged: which load kind it stops and with which MP code, and the second the node
    said it was done (its Date header)."""

    what: str
    kind: str
    refusal: str
    node: str
    acknowledged: float


@dataclass(frozen=True)
class Window:
    """A time (wall clock) when a node was deliberately down, so its connections were refused."""

    node: str
    start: float
    end: float


def counts(items: Iterable[str]) -> str:
    """"200×3, 503 MP-504×2", most common first."""
    return ", ".join(f"{label}×{n}" for label, n in Counter(items).most_common()) or "none"


def per_node(answers: Iterable[Answer]) -> str:
    """"A 3, B 1"."""
    return ", ".join(f"{node} {n}" for node, n in sorted(Counter(a.node for a in answers).items()))


def no_grant_accepted_twice(answers: Sequence[Answer], t0: float) -> list[str]:
    """docs/protocol.md §1.5 MP-012 and docs/security.md, Replay after a store crash: no jti answered 200 more than
    once, whatever was lost or restarted."""
    accepted: dict[str, list[Answer]] = defaultdict(list)
    for a in answers:
        if a.status == 200 and a.kind != "admin":
            accepted[a.jti].append(a)
    twice = {jti: got for jti, got in accepted.items() if len(got) > 1}
    if not twice:
        return []
    extra = sum(len(got) - 1 for got in twice.values())
    examples = "; ".join(" and ".join(f"{a.node} at +{a.sent - t0:.1f} s" for a in got)
                         for got in list(twice.values())[:EXAMPLES])
    return [f"no grant accepted twice: {len(twice)} grant(s) were accepted more than once ({extra} extra token(s)), "
            f"e.g. {examples}"]


def replays_refused(replays: Sequence[Answer], changes: Sequence[Change]) -> list[str]:
    """docs/protocol.md §1.5 MP-012 (docs/security.md, Replay after a store crash): after the scenario every accepted
    grant, sent again to each node, is refused as used before. A grant whose key, access or delegation a change took
    away is refused for that first (§1.6, the order of checks: the grant is spent last), with the change's own
    code."""
    allowed: dict[str, set[str]] = defaultdict(lambda: {"MP-012"})
    for change in changes:
        allowed[f"{REPLAY_OF}{change.kind}"].add(change.refusal)
    wrong = [a for a in replays if a.status not in (400, 403) or a.code not in allowed[a.kind]]
    if not wrong:
        return []
    return [f"every replay refused with MP-012: {len(wrong)} of {len(replays)} replays of accepted grants were "
            f"answered otherwise ({per_node(wrong)}): {counts(a.outcome for a in wrong)}"]


def invalid_grants_refused(answers: Sequence[Answer]) -> list[str]:
    """docs/protocol.md §1.6: a grant with a bad signature, an unknown kid, a passed exp or another aud never gets a
    token, whatever is down."""
    wrong = [a for a in answers if a.kind in INVALID_KINDS and a.status == 200]
    if not wrong:
        return []
    return [f"invalid grants refused: {len(wrong)} invalid grant(s) got a token ({per_node(wrong)}): "
            f"{counts(a.kind for a in wrong)}"]


def valid_grants_not_misjudged(answers: Sequence[Answer]) -> list[str]:
    """docs/security.md, Store outage (503, not another answer): an outage never makes a node call a valid grant
    invalid; a valid grant is answered 200 or 503, or MP-012 while a replay store's loss window refuses grants issued
    before the loss (docs/security.md, Replay after a store crash)."""
    wrong = [a for a in answers if a.kind == VALID and a.status is not None and 400 <= a.status < 500
             and a.code != "MP-012"]
    if not wrong:
        return []
    return [f"valid grants never refused as invalid: {len(wrong)} valid grant(s) got a client error "
            f"({per_node(wrong)}): {counts(a.outcome for a in wrong)}"]


def outages_answered_503(answers: Sequence[Answer], windows: Sequence[Window], t0: float) -> list[str]:
    """docs/security.md, Store outage; docs/protocol.md §1.5 (MP-503, MP-504): an outage is answered 503 with
    Retry-After, never a 500 or another 5xx, never a hang (no answer within the client's 5 s), and a node that was
    not stopped always answers."""
    found: list[str] = []
    hung = [a for a in answers if a.failure == "timeout"]
    if hung:
        found.append(f"never a hang: {len(hung)} request(s) got no answer within 5 s ({per_node(hung)}; "
                     f"{counts(a.kind for a in hung)}), the first sent at +{min(a.sent for a in hung) - t0:.1f} s")
    bad = [a for a in answers if a.status is not None and a.status >= 500
           and (a.status != 503 or not a.retry_after)]
    if bad:
        found.append(f"outages answered 503 with Retry-After: {len(bad)} answer(s) were otherwise ({per_node(bad)}): "
                     f"{counts(_with_retry_after(a) for a in bad)}")
    lost = [a for a in answers if a.failure not in (None, "timeout")
            and not any(w.node == a.node and w.start - 0.5 <= a.sent <= w.end + 0.5 for w in windows)]
    if lost:
        found.append(f"a running node answers: {len(lost)} request(s) got no connection to a node that was not "
                     f"stopped ({per_node(lost)}): {counts(a.outcome for a in lost)}, the first at "
                     f"+{min(a.sent for a in lost) - t0:.1f} s")
    return found


def _with_retry_after(a: Answer) -> str:
    return f"{a.outcome} with Retry-After {a.retry_after}" if a.retry_after else f"{a.outcome} without Retry-After"


def token_claims(token: str) -> dict[str, Any]:
    """The claims of an access token, unverified (for its iat)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def no_token_after_a_change(answers: Sequence[Answer], changes: Sequence[Change], bound: float) -> list[str]:
    """docs/security.md, Stale cache (decision S9): no token for a removed key, a revoked access or a revoked
    delegation is issued later than the staleness bound after the change (the change's second as the acknowledging
    node saw it, against the token's iat; one second of slack for the Date header's rounding)."""
    found: list[str] = []
    for change in changes:
        late = []
        for a in answers:
            if a.kind == change.kind and a.token is not None:
                after = token_claims(a.token)["iat"] - change.acknowledged
                if after > bound + 1:
                    late.append((a, after))
        if late:
            found.append(f"no token after the bound: {len(late)} token(s) for {change.kind} grants were issued after "
                         f"{change.what} (acknowledged by {change.node}) by more than the {bound:g} s bound "
                         f"({per_node(a for a, _ in late)}), the latest {max(s for _, s in late):.0f} s after it")
    return found


def tokens_verify(answers: Sequence[Answer], jwks: dict[str, Any], issuer: str) -> list[str]:
    """docs/protocol.md §2.5, §2.6: every issued token verifies (RS256) with a key of the issuer's /jwk, and names
    the issuer."""
    keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(jwks).keys}
    failed: Counter[str] = Counter()
    tokens = [a for a in answers if a.token is not None]
    for a in tokens:
        try:
            kid = jwt.get_unverified_header(a.token)["kid"]  # type: ignore[arg-type]
            if kid not in keys:
                failed[f"{a.node} unknown kid"] += 1
                continue
            jwt.decode(a.token, keys[kid].key, algorithms=["RS256"], issuer=issuer,  # type: ignore[arg-type]
                       options={"verify_aud": False, "verify_exp": False})
        except jwt.PyJWTError as exc:
            failed[f"{a.node} {type(exc).__name__}"] += 1
    if not failed:
        return []
    return [f"tokens verify against /jwk: {sum(failed.values())} of {len(tokens)} token(s) did not: "
            f"{counts(failed.elements())}"]


def recovered(node: str, healed: float, answers: Sequence[Answer], bound: float) -> list[str]:
    """docs/security.md, Store outage and Stale cache (tokens again once the store answers): within `bound` seconds
    of the fault's end the node issues tokens again, without anyone restarting it."""
    after = sorted((a for a in answers if a.node == node and a.kind in GOOD_KINDS and a.sent >= healed), key=lambda a:
                   a.sent)
    first = next((a for a in after if a.status == 200), None)
    if first is not None and first.sent + first.seconds - healed <= bound:
        return []
    took = "none at all" if first is None else f"the first {first.sent + first.seconds - healed:.1f} s after"
    return [f"recovers without intervention: node {node} issued no token within {bound:g} s of the fault's end "
            f"({took}); its answers since: {counts(a.outcome for a in after)}"]
