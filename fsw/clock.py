"""The executive's one clock, in three modes.

- ``realtime``: wall time (bench and flight).
- ``scaled:K``: K times real time (demos).
- ``afap``: as-fast-as-possible virtual time (CI). When nothing is ready to run and no I/O has
  arrived, time jumps straight to the next due timer, so quiet hours of a mission cost no wall time.

It works by giving asyncio an event loop whose ``time()`` is the clock and whose selector turns a
wait of T seconds into a jump of T virtual seconds. Every ``asyncio.sleep``, ``wait_for`` and
``call_later`` therefore runs on flight time without flight code knowing the mode. A task awaiting
another process (for instance a plant step over a serial link) takes a ``hold()`` so that virtual
time stands still until the answer arrives; that is what keeps a seeded afap run deterministic.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import selectors
import time
from collections.abc import Awaitable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from fsw.protocol.cuc import UNIX_TO_TAI_1958

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

Result = TypeVar("Result")

# Below this, the selector's millisecond rounding dominates: spin on the clock instead (see docs).
SPIN_MARGIN_S = 0.0015
# While a hold is taken, how long to wait for real I/O before looking again.
HOLD_POLL_S = 0.05


class ClockError(ValueError):
    pass


@dataclass(frozen=True)
class ClockMode:
    kind: str  # "realtime" | "scaled" | "afap"
    factor: float = 1.0

    @classmethod
    def parse(cls, text: str) -> ClockMode:
        if text == "realtime":
            return cls("realtime")
        if text == "afap":
            return cls("afap")
        if text.startswith("scaled:"):
            try:
                factor = float(text.split(":", 1)[1])
            except ValueError as error:
                raise ClockError(f"bad scale factor in {text!r}") from error
            if not factor > 0:
                raise ClockError(f"scale factor must be positive, got {factor}")
            return cls("scaled", factor)
        raise ClockError(f"clock mode {text!r}: expected realtime, scaled:K or afap")

    def __str__(self) -> str:
        return f"scaled:{self.factor:g}" if self.kind == "scaled" else self.kind


class Clock:
    """Monotonic flight time plus on-board time correlation (TAI seconds since 1958)."""

    def __init__(self, mode: ClockMode | str = "realtime", *, start_tai: float | None = None) -> None:
        self.mode = ClockMode.parse(mode) if isinstance(mode, str) else mode
        self._real_origin = time.monotonic()
        self._virtual = 0.0
        self._holds = 0
        # On-board time = monotonic + offset. A virtual run starts at a fixed epoch so that its
        # telemetry is the same twice; a real-time run starts at the host's TAI estimate.
        if start_tai is None:
            start_tai = 2_100_000_000.0 if self.mode.kind == "afap" else time.time() + UNIX_TO_TAI_1958
        self._tai_offset = start_tai - self.monotonic()
        self.correlation_changes = 0

    # --- reading time --------------------------------------------------------------------------
    def monotonic(self) -> float:
        """Seconds of flight time since the clock was made; never goes backwards."""
        kind = self.mode.kind
        if kind == "afap":
            return self._virtual
        elapsed = time.monotonic() - self._real_origin
        return elapsed * self.mode.factor if kind == "scaled" else elapsed

    def onboard_time(self) -> float:
        return self.monotonic() + self._tai_offset

    def to_monotonic(self, onboard: float) -> float:
        return onboard - self._tai_offset

    # --- time correlation ----------------------------------------------------------------------
    def set_onboard_time(self, tai: float) -> float:
        """Set on-board time; returns the step applied (seconds)."""
        step = tai - self.onboard_time()
        self._tai_offset += step
        self.correlation_changes += 1
        return step

    def adjust_onboard_time(self, delta: float) -> None:
        self._tai_offset += delta
        self.correlation_changes += 1

    # --- sleeping ------------------------------------------------------------------------------
    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, deadline: float, precise: bool = False) -> None:
        """Sleep until monotonic ``deadline``. ``precise`` spins the last 1.5 ms in real time,
        trading a little CPU for sub-millisecond wake-up (the selector rounds up to 1 ms)."""
        remaining = deadline - self.monotonic()
        if precise and self.mode.kind == "realtime":
            if remaining > SPIN_MARGIN_S:
                await asyncio.sleep(remaining - SPIN_MARGIN_S)
            while self.monotonic() < deadline:
                pass
            return
        if remaining > 0:
            await asyncio.sleep(remaining)

    # --- holding virtual time ------------------------------------------------------------------
    def hold(self) -> _Hold:
        """Keep afap time still while awaiting another process (``with clock.hold(): ...``)."""
        return _Hold(self)

    def acquire_hold(self) -> None:
        """Like :meth:`hold`, for a wait that does not fit a ``with`` block; pair with release_hold."""
        self._holds += 1

    def release_hold(self) -> None:
        self._holds = max(0, self._holds - 1)

    @property
    def holds(self) -> int:
        return self._holds

    # --- event loop ----------------------------------------------------------------------------
    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        if self.mode.kind == "realtime":
            return _RealtimeLoop(self)
        return ClockedEventLoop(self)

    def _advance(self, seconds: float) -> None:
        self._virtual += seconds


class _Hold:
    """The context of :meth:`Clock.hold`: a plain class, as the device bus takes one per exchange (a
    generator-based context manager costs several times as much)."""

    __slots__ = ("_clock",)

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __enter__(self) -> None:
        self._clock.acquire_hold()

    def __exit__(self, *exc: object) -> None:
        self._clock.release_hold()


class _RealtimeLoop(asyncio.SelectorEventLoop):
    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.flight_clock = clock

    def time(self) -> float:
        return self.flight_clock.monotonic()


def _sooner(a: float | None, b: float | None) -> float | None:
    """The shorter of two waits (None: for ever)."""
    return b if a is None else a if b is None else min(a, b)


class _ClockSelector(selectors.BaseSelector):
    """Delegates to a real selector, but waits in flight time rather than wall time. It also keeps
    the loop's wall-time alarms (:meth:`ClockedEventLoop.wall_alarm`): no real wait outlasts the
    next one, and each is set when the loop looks for I/O after its time."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._real = selectors.DefaultSelector()
        self._alarms: list[tuple[float, int, asyncio.Future[None]]] = []  # heap of (wall deadline, order, alarm)
        self._order = itertools.count()

    def add_alarm(self, deadline: float, alarm: asyncio.Future[None]) -> None:
        heapq.heappush(self._alarms, (deadline, next(self._order), alarm))

    def _ring(self) -> float | None:
        """Set the alarms that are due (0.0: some were), else the wall seconds to the next (None: none)."""
        alarms = self._alarms
        if not alarms:
            return None
        now = time.monotonic()
        rang = False
        while alarms and (alarms[0][0] <= now or alarms[0][2].done()):
            alarm = heapq.heappop(alarms)[2]
            if not alarm.done():
                alarm.set_result(None)
                rang = True
        if rang:
            return 0.0
        return alarms[0][0] - now if alarms else None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        clock = self._clock
        wall = self._ring()
        if clock.mode.kind == "scaled":
            return self._real.select(_sooner(None if timeout is None else timeout / clock.mode.factor, wall))
        events = self._real.select(0)
        if events or wall == 0.0 or timeout is None or timeout <= 0:
            # (An alarm just set wakes the loop as I/O would: time does not jump in this pass.)
            return events if events or wall == 0.0 or timeout is not None else self._real.select(wall)
        if clock.holds:
            return self._real.select(min(timeout, HOLD_POLL_S) if wall is None else min(timeout, HOLD_POLL_S, wall))
        clock._advance(timeout)
        return []

    def register(self, fileobj: FileDescriptorLike, events: int, data: object = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: FileDescriptorLike, events: int, data: object = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def get_key(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._real.get_key(fileobj)

    def get_map(self) -> Mapping[FileDescriptorLike, selectors.SelectorKey]:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()


class ClockedEventLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on flight time (scaled or as fast as possible)."""

    def __init__(self, clock: Clock) -> None:
        self._clock_selector = _ClockSelector(clock)
        super().__init__(selector=self._clock_selector)
        self.flight_clock = clock

    def time(self) -> float:
        return self.flight_clock.monotonic()

    def wall_alarm(self, seconds: float) -> asyncio.Future[None]:
        """A future set after ``seconds`` of wall time, whatever flight time does (cancel it when
        no longer wanted)."""
        alarm: asyncio.Future[None] = self.create_future()
        self._clock_selector.add_alarm(time.monotonic() + seconds, alarm)
        return alarm

    def ring_after_wall(self, future: asyncio.Future[None], seconds: float) -> None:
        """Set ``future`` after ``seconds`` of wall time unless something sets it before."""
        self._clock_selector.add_alarm(time.monotonic() + seconds, future)


class WallTimeout:
    """Marks a :func:`wait_wall` that ran out of wall time."""


WALL_TIMEOUT = WallTimeout()


def _wall_alarm(loop: asyncio.AbstractEventLoop, seconds: float) -> asyncio.Future[None]:
    if isinstance(loop, ClockedEventLoop):
        return loop.wall_alarm(seconds)
    # Any other loop (the realtime clock's, a plain asyncio loop) keeps wall time itself.
    alarm: asyncio.Future[None] = loop.create_future()
    handle = loop.call_later(seconds, _set_alarm, alarm)
    alarm.add_done_callback(lambda _: handle.cancel())
    return alarm


def ring_after_wall(future: asyncio.Future[None], seconds: float) -> None:
    """Set ``future`` (to None) after ``seconds`` of wall time unless it is done before, whatever the
    loop's clock does: a wall-time bound on a wait for a future of one's own, without the second
    future (and the pass of the loop) that :func:`wait_wall` chains to it. The waiter looks for itself
    whether what it waited for came."""
    loop = future.get_loop()
    if isinstance(loop, ClockedEventLoop):
        loop.ring_after_wall(future, seconds)
        return
    handle = loop.call_later(seconds, _set_alarm, future)
    future.add_done_callback(lambda _: handle.cancel())


def _set_alarm(alarm: asyncio.Future[None], *_: object) -> None:
    if not alarm.done():
        alarm.set_result(None)


async def wait_wall(awaitable: Awaitable[Result], seconds: float) -> Result | WallTimeout:
    """Await ``awaitable`` for at most ``seconds`` of wall time, whatever the loop's clock does.

    ``asyncio.wait_for`` measures on the loop's clock: on the afap clock under a hold that clock
    stands still, so a timeout would never come. The alarm here is kept by the clocked loop's
    selector in wall time (no thread: the device bus waits like this on every exchange). Returns
    :data:`WALL_TIMEOUT` (and cancels the awaitable) when the time runs out."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(awaitable)
    if task.done():
        return task.result()
    alarm = _wall_alarm(loop, max(0.0, seconds))
    task.add_done_callback(lambda _: _set_alarm(alarm))  # the answer first: the alarm is set at once
    try:
        await alarm
    finally:
        alarm.cancel()
        if not task.done():
            task.cancel()
    if task.done() and not task.cancelled():
        return task.result()
    return WALL_TIMEOUT


def run(main: Coroutine[Any, Any, Result], clock: Clock) -> Result:
    """Run a coroutine to completion on an event loop driven by ``clock``."""
    with asyncio.Runner(loop_factory=clock.new_event_loop) as runner:
        return runner.run(main)
