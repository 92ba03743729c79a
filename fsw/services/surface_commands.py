"""Ground commands to the lander's surface mechanisms: survival heaters and the drill.

They act on the devices the platform provides (``SurfaceSuite``), outside the mission machines:
an operator's override, allowed in SAFE. ``SURVIVAL_HEATERS on`` switches the lander's survival
heaters; ``DRILL_STOP`` stops the drill where it is (the sampling machine, if it was drilling,
then meets a drill that stopped short and handles it as such). A device the platform does not
have fails the command (1,8 ``DEVICE_UNAVAILABLE``).
"""

from __future__ import annotations

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import Arg, EventDef, Severity, command
from fsw.core.errors import CommandFailed
from fsw.devices.surface import SurfaceSuite
from fsw.protocol.errors import FailureCode


class SurfaceDeviceCommands(Component):
    name = "surface_devices"
    events = (
        EventDef(0x1101, "SURFACE_DEVICE_COMMANDED", Severity.LOW, "{device}: {action} (ground command)"),
    )

    def __init__(self, ctx: Context, suite: SurfaceSuite) -> None:
        super().__init__(ctx)
        self.suite = suite

    @command(0x1101, Arg("on", "bool", "survival heaters on (true) or off (false)"))
    def cmd_survival_heaters(self, on: bool) -> None:
        """Switch the lander's survival heaters on or off."""
        if self.suite.thermal is None:
            raise CommandFailed(FailureCode.DEVICE_UNAVAILABLE, "this platform has no survival heaters")
        self.suite.thermal.set_heaters(on)
        self.emit("SURFACE_DEVICE_COMMANDED", device="survival_heaters", action="on" if on else "off")

    @command(0x1102)
    def cmd_drill_stop(self) -> None:
        """Stop the drill where it is."""
        self.suite.drill.stop()
        self.emit("SURFACE_DEVICE_COMMANDED", device="drill", action="stopped")
