"""The safing response: every entry into SAFE starts the stored sequence SAFING.

SAFING is an ordinary stored sequence (service 150), built in by the topology from each component's
safing steps (``Component.safing``): drill stopped and retracted, rover stopped, payloads off,
survival heaters on. It is loaded at boot when the store has none of that name, so the ground sees
it (150,4), can replace it (150,1) or delete it, and each step is a TC with its own verification.
It runs with ``continue_on_failure``: a step that fails is reported and the next one still runs.

This component only listens to the software bus topic ``mode`` and, when the mode becomes SAFE
(by command, autonomously, or at a boot into SAFE), submits ``SEQ_START SAFING`` to the dispatcher
like any on-board submitter. It never calls another component. The parameter ``safing_enabled``
turns the response off (``SAFING_DISABLED`` then says, at each SAFE entry, that nothing was safed).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fsw.core.bus import Subscription
from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, ParameterDef, Severity, TelemetryDef
from fsw.protocol.packet import PusTc

SAFING_SEQUENCE = "SAFING"
ORIGIN = "safing"


class SafingService(Component):
    name = "safing"
    reported_in = 15  # with the stored sequences it starts
    telemetry = (
        TelemetryDef("safing_started", "u16", "", "safing responses started (SEQ_START SAFING sent) since boot"),
    )
    events = (
        EventDef(0x0410, "SAFING_DISABLED", Severity.MEDIUM,
                 "entered SAFE with the safing response disabled (safing_enabled false): nothing was safed"),
    )
    parameters = (
        ParameterDef(0x0410, "safing_enabled", "bool", True,
                     "entering SAFE starts the stored sequence SAFING (the safing response)"),
    )

    def __init__(self, ctx: Context, start_tc: PusTc) -> None:
        """``start_tc``: the SEQ_START SAFING to submit (the topology packs it with the right opcode)."""
        super().__init__(ctx)
        self.start_tc = start_tc
        self.started = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        subscription = self.ctx.bus.subscribe("mode")
        self._task = asyncio.get_running_loop().create_task(self._follow(subscription), name="safing")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _follow(self, subscription: Subscription) -> None:
        while True:
            if await subscription.get() == "SAFE":
                self.respond()

    def respond(self) -> None:
        if not self.param("safing_enabled"):
            self.emit("SAFING_DISABLED")
            return
        self.started += 1
        # Its failure (no SAFING stored, already running) is reported like any TC's: 1,4 / 1,8, CMD_FAILED.
        self.ctx.commands.submit(self.start_tc, origin=ORIGIN)

    def housekeeping(self) -> dict[str, Any]:
        return {"safing_started": self.started}
