"""Health: checks every task's heartbeat at 10 Hz and strokes the hardware watchdog only while all
of them are healthy.

Each periodic task beats ``ctx.health`` (the monitor in ``fsw.core.health``); a task that
misses its limit is reported by TASK_STALLED within the limit plus one 10 Hz cycle, and counted in
housekeeping. While any task is stalled, or when the 10 Hz group itself stops, the watchdog is not
stroked and resets the computer after its timeout. At boot, a reset by the watchdog is reported.
"""

from __future__ import annotations

from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, Severity, TelemetryDef
from fsw.devices.watchdog import Watchdog

BITES_SEEN_KEY = "watchdog_bites_seen"
CHECK_GROUP = "medium"


class HealthService(Component):
    name = "health"
    hk_structure = 12
    telemetry = (
        TelemetryDef("health_watched", "u16", "", "tasks whose heartbeat is watched"),
        TelemetryDef("health_stalled", "u16", "", "tasks stalled now"),
        TelemetryDef("health_stalls", "u32", "", "stalls detected since boot"),
        TelemetryDef("watchdog_armed", "bool", "", "a watchdog backend is armed"),
        TelemetryDef("watchdog_strokes", "u32", "", "watchdog strokes since boot"),
        TelemetryDef("watchdog_withheld", "u32", "", "10 Hz cycles without a stroke because a task was stalled"),
        TelemetryDef("watchdog_bites", "u32", "", "watchdog resets recorded (all time)"),
        TelemetryDef("latches_fired", "u16", "", "irreversible acts recorded in the store"),
    )
    events = (
        EventDef(0x0C01, "WATCHDOG_WITHHELD", Severity.HIGH, "watchdog not stroked: {tasks} stalled"),
        EventDef(0x0C02, "WATCHDOG_RESET", Severity.HIGH, "restarted by the watchdog ({bites} resets recorded)"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.watchdog: Watchdog | None = None
        self.watchdog_timeout_s = 0.0
        self.strokes = 0
        self.withheld = 0
        self.bites = 0
        self._withholding = False
        self._report_reset = False

    def use_watchdog(self, watchdog: Watchdog, timeout_s: float) -> None:
        """Attach a watchdog backend before start."""
        self.watchdog = watchdog
        self.watchdog_timeout_s = timeout_s

    async def start(self) -> None:
        self.bites = self.watchdog.resets_recorded() if self.watchdog is not None else 0
        self._report_reset = self.bites > int(self.ctx.store.get(BITES_SEEN_KEY, 0) or 0)
        self.ctx.rate_groups[CHECK_GROUP].add(self._cycle)
        if self.watchdog is not None:
            self.watchdog.start(self.watchdog_timeout_s)

    async def stop(self) -> None:
        if self.watchdog is not None:
            self.watchdog.stop()

    def _cycle(self) -> None:
        if self._report_reset:
            # On the first cycle rather than in start(): every component (the ground link too) is up.
            self._report_reset = False
            self.emit("WATCHDOG_RESET", bites=self.bites)
            self.ctx.store.put(BITES_SEEN_KEY, self.bites)
        stalled = self.ctx.health.check()
        if stalled:
            self.withheld += 1
            if not self._withholding and self.watchdog is not None:
                self.emit("WATCHDOG_WITHHELD", tasks=", ".join(stalled))
            self._withholding = True
            return
        self._withholding = False
        if self.watchdog is not None:
            self.watchdog.stroke()
            self.strokes += 1

    def housekeeping(self) -> dict[str, Any]:
        tasks = self.ctx.health.tasks.values()
        return {
            "health_watched": len(tasks),
            "health_stalled": sum(task.stalled for task in tasks),
            "health_stalls": sum(task.stalls for task in tasks),
            "watchdog_armed": self.watchdog is not None,
            "watchdog_strokes": self.strokes,
            "watchdog_withheld": self.withheld,
            "watchdog_bites": self.bites,
            "latches_fired": len(self.ctx.latches.fired),
        }
