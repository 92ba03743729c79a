"""Rate groups: members run in a fixed order at a fixed rate; overruns and jitter are measured."""

from __future__ import annotations

import asyncio
import inspect
import math
from collections import deque
from collections.abc import Callable
from typing import Any

from fsw.clock import Clock

JITTER_WINDOW = 1000  # samples kept for the p99 figure: bounded memory
MAX_CONSECUTIVE_FAULTS = 10  # cycles in a row a member may fail before it is taken out of its group


def member_name(member: Callable[[], Any]) -> str:
    """A member as a reader of the event log knows it: ``Component.method`` or the function's name."""
    name: str = getattr(member, "__qualname__", "") or repr(member)
    return name


def _end_sleep(sleeper: asyncio.Future[bool] | None, slept_out: bool) -> None:
    if sleeper is not None and not sleeper.done():
        sleeper.set_result(slept_out)


class RateGroup:
    def __init__(self, name: str, rate_hz: float, clock: Clock, members: list[Callable[[], Any]] | None = None,
                 precise: bool = False) -> None:
        self.name = name
        self.rate_hz = rate_hz
        self.period = 1.0 / rate_hz
        self.clock = clock
        self.members: list[Callable[[], Any]] = list(members or [])
        self.precise = precise
        self.cycles = 0
        self.overruns = 0
        self.cycle_time_max = 0.0
        self.jitter_max = 0.0
        self.last_cycle_end = clock.monotonic()
        self._jitter: deque[float] = deque(maxlen=JITTER_WINDOW)
        self.enabled = True
        self.member_faults = 0
        self.members_disabled = 0
        self._fault_streaks: dict[Callable[[], Any], int] = {}
        # Told of a member's first failure in a streak and of its removal: (group, member, error, disabled).
        self.on_fault: Callable[[str, str, str, bool], None] | None = None
        self._wake = asyncio.Event()  # set to cut a sleep short: a rate change or a resume
        self._sleeper: asyncio.Future[bool] | None = None  # the sleep in progress (its result: True, slept out)

    async def _run_member(self, member: Callable[[], Any]) -> None:
        """One member's turn. Its exception is caught and counted, and the group and the other members
        carry on; a member that fails ``MAX_CONSECUTIVE_FAULTS`` cycles running is taken out of the group."""
        try:
            result = member()
            if result is not None and inspect.isawaitable(result):  # (most members are plain functions)
                await result
        except Exception as error:  # a member's bug must not stop the group
            self.member_faults += 1
            streak = self._fault_streaks[member] = self._fault_streaks.get(member, 0) + 1
            disabled = streak >= MAX_CONSECUTIVE_FAULTS
            if disabled:
                self.members.remove(member)
                self._fault_streaks.pop(member, None)
                self.members_disabled += 1
            if self.on_fault is not None and (streak == 1 or disabled):
                self.on_fault(self.name, member_name(member), f"{type(error).__name__}: {error}", disabled)
        else:
            if member in self._fault_streaks:
                del self._fault_streaks[member]

    def add(self, member: Callable[[], Any]) -> None:
        self.members.append(member)

    def suspend(self) -> None:
        """Stop running cycles (and stop waking up) until ``resume``."""
        self.enabled = False
        self._wake_up()

    def resume(self) -> None:
        self.enabled = True
        self._wake_up()

    def set_rate(self, rate_hz: float) -> None:
        """Change the rate; the next cycle comes one new period after the last one."""
        self.rate_hz = rate_hz
        self.period = 1.0 / rate_hz
        self._wake_up()

    def _wake_up(self) -> None:
        self._wake.set()
        _end_sleep(self._sleeper, False)

    async def _sleep_until(self, deadline: float) -> bool:
        """Sleep until ``deadline``; False when woken early by a change."""
        if self.precise and not self._wake.is_set():
            await self.clock.sleep_until(deadline, True)
            return not self._wake.is_set()
        remaining = deadline - self.clock.monotonic()
        if remaining <= 0:
            return True
        if self._wake.is_set():
            return False
        # A timer and a future rather than wait_for on the event (a task of its own every cycle).
        loop = asyncio.get_running_loop()
        sleeper: asyncio.Future[bool] = loop.create_future()
        self._sleeper = sleeper
        timer = loop.call_later(remaining, _end_sleep, sleeper, True)
        try:
            return await sleeper
        finally:
            timer.cancel()
            self._sleeper = None

    def jitter_p99(self) -> float:
        if not self._jitter:
            return 0.0
        ordered = sorted(self._jitter)
        return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]

    def stats(self) -> dict[str, Any]:
        return {
            f"{self.name}_cycles": self.cycles,
            f"{self.name}_overruns": self.overruns,
            f"{self.name}_cycle_max_ms": round(self.cycle_time_max * 1e3, 3),
            f"{self.name}_jitter_max_ms": round(self.jitter_max * 1e3, 3),
            f"{self.name}_jitter_p99_ms": round(self.jitter_p99() * 1e3, 3),
            f"{self.name}_member_faults": self.member_faults,
            f"{self.name}_members_disabled": self.members_disabled,
        }

    async def run(self) -> None:
        clock = self.clock
        deadline = clock.monotonic()
        last_start = deadline
        while True:
            if not self.enabled:
                self._wake.clear()
                while not self.enabled:
                    await self._wake.wait()
                    self._wake.clear()
                deadline = clock.monotonic()
            if not await self._sleep_until(deadline):
                self._wake.clear()
                if self.enabled:
                    deadline = max(clock.monotonic(), last_start + self.period)
                continue
            period = self.period
            start = last_start = clock.monotonic()
            lateness = start - deadline
            self._jitter.append(lateness)
            if lateness > self.jitter_max:
                self.jitter_max = lateness
            if self.enabled:  # (a suspend during a cycle takes effect at the next one)
                for member in list(self.members):
                    await self._run_member(member)
            end = clock.monotonic()
            self.last_cycle_end = end
            self.cycles += 1
            self.cycle_time_max = max(self.cycle_time_max, end - start)
            deadline += period
            if end > deadline:
                # Overrun: count it and skip the cycles already missed rather than bunching them.
                self.overruns += 1
                missed = math.ceil((end - deadline) / period)
                deadline += missed * period
