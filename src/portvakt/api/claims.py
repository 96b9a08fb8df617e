"""/token's store work, done off the event loop by one worker thread, a batch at a time.

The checks of a grant run on the event loop when every answer is in memory (domain/blocking.py); what must reach a
store goes to this thread: the replay claim (docs/protocol.md §1.3 jti), and with Redis the shared rate counts
(docs/security.md, Token flood). The thread takes everything waiting and does each kind in one round trip: the
rate checks and charges in one call (one Redis pipeline), then the claims in one call (ReplayCache.first_use_many:
one INSERT, or one Redis pipeline), and wakes the event loop once for the lot. Under load that is one thread
hand-off and one commit for many tokens, instead of one each (bench/RESULTS.md).

Bounds (docs/security.md, Store outage): a claim waits at most `budget` seconds in all, queue included. One that
waited its whole budget before its batch started is refused with StoreUnavailable without being recorded; the store
is given only the shortest remaining budget of the batch. The shared counts bound their own waits (their socket
timeout), and answer 0 when they can't.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from portvakt.domain.errors import StoreUnavailable
from portvakt.domain.ports import ClaimOutcome, ReplayCache, ReplayClaim, first_use_all

_IDLE_SECONDS = 5.0  # the thread ends after this long without work, and starts again with the next job
#: The shared rate counts of a batch: (address, client) admits and issued clients in; a wait per admit out.
SharedCounts = Callable[[Sequence[tuple[str, str | None]], Sequence[str]], list[float]]


@dataclass(slots=True)
class _Job:
    claim: ReplayClaim | None = None
    admit: tuple[str, str | None] | None = None
    issued: str | None = None
    future: asyncio.Future[Any] | None = None
    deadline: float = 0.0
    result: object = None
    error: BaseException | None = field(default=None)


class ClaimBatcher:
    """/token's replay claims and shared rate counts from the event loop, done in batches by one worker thread
    (docs/security.md, Store outage)."""

    def __init__(self, replay: ReplayCache, *, budget: float, shared: SharedCounts | None = None,
                 max_batch: int = 256, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._replay = replay
        self._shared = shared
        self._budget = budget
        self._max = max_batch
        self._monotonic = monotonic
        self._queue: deque[_Job] = deque()
        self._wake = threading.Condition()
        self._running = False
        self._pending: list[_Job] = []  # the event loop's jobs of this iteration, handed over together

    async def claim(self, claim: ReplayClaim) -> ClaimOutcome:
        """The claim's outcome; raises StoreUnavailable when the store did not answer within the budget."""
        return await self._wait(_Job(claim=claim))  # type: ignore[no-any-return]

    async def admit(self, address: str, client: str | None) -> float:
        """The shared rate counts' answer for a request (TokenLimits.shared_batch): 0, or the seconds to wait."""
        if self._shared is None:
            return 0.0
        return float(await self._wait(_Job(admit=(address, client))))

    def issued(self, client: str) -> None:
        """Charge an issued token to its client on the shared counts, with the next batch (nothing waits for it)."""
        if self._shared is None:
            return
        try:
            self._add(_Job(issued=client), asyncio.get_running_loop())
        except RuntimeError:  # called from a worker thread (the request that ran there)
            self._put(_Job(issued=client))

    async def _wait(self, job: _Job) -> Any:
        loop = asyncio.get_running_loop()
        job.future = loop.create_future()
        job.deadline = self._monotonic() + self._budget
        self._add(job, loop)
        return await job.future

    def _add(self, job: _Job, loop: asyncio.AbstractEventLoop) -> None:
        """Keep the job for the end of this loop iteration: the first one of an iteration schedules the hand-over."""
        if not self._pending:
            loop.call_soon(self._hand_over)
        self._pending.append(job)

    def _hand_over(self) -> None:
        """The event loop's jobs of one iteration, to the thread in one go (one wake-up for many requests)."""
        jobs, self._pending = self._pending, []
        self._put(*jobs)

    def _put(self, *jobs: _Job) -> None:
        with self._wake:
            self._queue.extend(jobs)
            if not self._running:
                self._running = True
                threading.Thread(target=self._serve, name="portvakt-claims", daemon=True).start()
            else:
                self._wake.notify()

    def _serve(self) -> None:
        while True:
            with self._wake:
                if not self._queue:
                    self._wake.wait(_IDLE_SECONDS)
                if not self._queue:
                    self._running = False
                    return
                jobs = [self._queue.popleft() for _ in range(min(self._max, len(self._queue)))]
            try:
                self._counts(jobs)
                self._claims([j for j in jobs if j.claim is not None])
            finally:  # every waiting request is answered, whatever happened here
                _resolve_all(jobs)

    def _counts(self, jobs: list[_Job]) -> None:
        """The batch's shared rate checks and charges, in one call."""
        admits = [j for j in jobs if j.admit is not None]
        issued = [j.issued for j in jobs if j.issued is not None]
        if self._shared is None or not (admits or issued):
            return
        try:
            waits = self._shared([j.admit for j in admits if j.admit is not None], issued)
        except Exception as exc:  # noqa: BLE001 - raised in every request of the batch that waits for it
            for job in admits:
                job.error = exc
            return
        for job, wait in zip(admits, waits, strict=True):
            job.result = wait

    def _claims(self, jobs: list[_Job]) -> None:
        """Every claim still within its budget, in one call."""
        now = self._monotonic()
        claiming: list[_Job] = []
        for job in jobs:
            if job.deadline <= now:
                job.error = StoreUnavailable("the replay store is busy")
            else:
                claiming.append(job)
        if not claiming:
            return
        within = min(job.deadline for job in claiming) - self._monotonic()
        try:
            outcomes = first_use_all(self._replay, [job.claim for job in claiming if job.claim is not None], within)
        except Exception as exc:  # noqa: BLE001 - raised in every request of the batch
            for job in claiming:
                job.error = exc
            return
        for job, outcome in zip(claiming, outcomes, strict=True):
            job.result = outcome


def _resolve_all(jobs: list[_Job]) -> None:
    """Wake each event loop once for its jobs."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
    for job in jobs:
        if job.future is not None:
            by_loop.setdefault(job.future.get_loop(), []).append(job)
    for loop, mine in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for these
            loop.call_soon_threadsafe(_resolve, mine)


def _resolve(jobs: list[_Job]) -> None:
    for job in jobs:
        future = job.future
        if future is None or future.done():
            continue
        if job.error is not None:
            future.set_exception(job.error)
        elif job.result is None:
            future.set_exception(StoreUnavailable("the store work of this request was not done"))
        else:
            future.set_result(job.result)
