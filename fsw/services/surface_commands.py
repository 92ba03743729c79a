"""Ground commands to the lander's surface mechanisms outside the mission machines: an operator's
override, allowed in SAFE. ``DRILL_STOP`` stops the drill where it is (the sampling machine, if it
was drilling, then meets a drill that stopped short and handles it as such). The survival heaters
have their own component (:mod:`fsw.mission.survival`, ``SURVIVAL_HEATERS``).
"""

from __future__ import annotations

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, Severity, command
from fsw.devices.surface import SurfaceSuite


class SurfaceDeviceCommands(Component):
    name = "surface_devices"
    events = (
        EventDef(0x1101, "SURFACE_DEVICE_COMMANDED", Severity.LOW, "{device}: {action} (ground command)"),
    )

    def __init__(self, ctx: Context, suite: SurfaceSuite) -> None:
        super().__init__(ctx)
        self.suite = suite

    @command(0x1102)
    def cmd_drill_stop(self) -> None:
        """Stop the drill where it is."""
        self.suite.drill.stop()
        self.emit("SURFACE_DEVICE_COMMANDED", device="drill", action="stopped")
