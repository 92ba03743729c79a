"""Launch windows for the ground go of the ascent and of trans-Earth injection.

The ground uplinks a window (on-board time of its opening and closing, two parameters) computed from
the orbiter's orbit: the ascent must lift off while the orbiter passes within phasing reach, and TEI
must burn at the point of the orbit the return trajectory starts from. A go that arrives:
- inside the window: taken now;
- before it opens: accepted, and the machine waits for the opening (event ``*_WINDOW_WAIT``); the
  command completes when the go is taken;
- after it closed: refused with TIME_PASSED and the reason. Nothing is flown from a point the window
  was not computed for; the ground uplinks the next window (one orbiter revolution later) and sends
  the go again.
A window whose closing is 0 is no window: the go is taken whenever it comes (as before windows).
"""

from __future__ import annotations

from typing import Any, Protocol

from fsw.core.errors import CommandStartFailed
from fsw.protocol.errors import FailureCode


class _WindowedMachine(Protocol):
    clock: Any

    def param(self, name: str) -> Any: ...
    def go_refusal(self, command_name: str) -> str | None: ...
    def emit(self, name: str, /, **args: Any) -> None: ...
    async def fire(self, trigger: str, reason: str = "") -> bool: ...


def go_in_window(machine: _WindowedMachine, command_name: str, window: str, event: str) -> Any:
    """Take the go ``command_name`` inside the window ``<window>_window_open_s`` ..
    ``<window>_window_close_s`` (on-board time), wait for it, or refuse it (see the module doc)."""
    refusal = machine.go_refusal(command_name)
    if refusal is not None:
        raise CommandStartFailed(FailureCode.WRONG_STATE, refusal)
    opens, closes = float(machine.param(f"{window}_window_open_s")), float(machine.param(f"{window}_window_close_s"))
    now = machine.clock.onboard_time()
    if closes <= 0.0 or opens <= now <= closes:
        return machine.fire("go")
    if now > closes:
        raise CommandStartFailed(FailureCode.TIME_PASSED,
                                 f"{window} window closed {now - closes:.0f} s ago (at {closes:.0f}): "
                                 "uplink the next window and send the go again")
    machine.emit(event, opens_in_s=opens - now, closes_in_s=closes - now)

    async def at_the_opening() -> bool:
        await machine.clock.sleep(opens - machine.clock.onboard_time())
        if machine.go_refusal(command_name) is not None:
            return False  # safed or aborted meanwhile
        return await machine.fire("go")

    return at_the_opening()
