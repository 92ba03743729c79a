"""Device status: what the selected backend brought up, and what fails later (HK structure 13).

The platform is chosen at start-up by name (:mod:`fsw.devices.platform`); missing hardware comes back as
reports, not exceptions, and each becomes an event here: ``DEVICE_ABSENT`` at boot for a device that
did not answer, ``DEVICE_DEGRADED`` when one that did stops answering, ``DEVICE_RECOVERED`` when it
answers again. The flight software keeps running in every case, on whatever is left.
"""

from __future__ import annotations

from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, Limits, Severity, TelemetryDef
from fsw.devices.platform import ABSENT, DEGRADED, EMULATED, OK, DeviceReport, DeviceSet


class DeviceStatusService(Component):
    name = "devices"
    hk_structure = 13
    telemetry = (
        TelemetryDef("devices_backend", "str", "", "device backend: emulator or pi"),
        TelemetryDef("devices_configured", "u8", "", "devices in the backend configuration, disabled included"),
        TelemetryDef("devices_ok", "u8", "", "devices answering, real or emulated"),
        TelemetryDef("devices_absent", "u8", "", "devices not found at start-up", yellow=Limits(high=0)),
        TelemetryDef("devices_degraded", "u8", "", "devices that stopped answering", yellow=Limits(high=0),
                     red=Limits(high=2)),
        TelemetryDef("device_states", "str", "", "NAME=STATE for every device (OK, EMULATED, ABSENT, DEGRADED, "
                     "DISABLED)"),
    )
    events = (
        EventDef(0x0D01, "DEVICE_ABSENT", Severity.MEDIUM, "device {device} absent: {reason}"),
        EventDef(0x0D02, "DEVICE_DEGRADED", Severity.HIGH, "device {device} degraded: {reason}"),
        EventDef(0x0D03, "DEVICE_RECOVERED", Severity.LOW, "device {device} recovered ({state})"),
    )

    def __init__(self, ctx: Context, devices: DeviceSet, start_up_reports: list[DeviceReport]) -> None:
        super().__init__(ctx)
        self.devices = devices
        self.start_up_reports = list(start_up_reports)

    async def start(self) -> None:
        for report in self.start_up_reports:
            self._report(report)
        await self.devices.start()
        self.ctx.rate_groups["slow"].add(self.check)

    def check(self) -> None:
        for report in self.devices.check():
            self._report(report)

    def _report(self, report: DeviceReport) -> None:
        if report.state == ABSENT:
            self.emit("DEVICE_ABSENT", device=report.device, reason=report.reason)
        elif report.state == DEGRADED:
            self.emit("DEVICE_DEGRADED", device=report.device, reason=report.reason)
        else:
            self.emit("DEVICE_RECOVERED", device=report.device, state=report.state)

    async def stop(self) -> None:
        await self.devices.stop()  # outputs de-energised before the process goes

    def housekeeping(self) -> dict[str, Any]:
        states = self.devices.status()
        values = list(states.values())
        return {
            "devices_backend": self.devices.backend,
            "devices_configured": len(states),
            "devices_ok": sum(state in (OK, EMULATED) for state in values),
            "devices_absent": values.count(ABSENT),
            "devices_degraded": values.count(DEGRADED),
            "device_states": " ".join(f"{name}={state}" for name, state in states.items()),
        }
