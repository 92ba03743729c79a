"""Ground commands to the devices on the device bus (mixed into the GNC component, which owns the bus).

Each command's calls go out on the device bus; the command completes (1,7) once the exchange that
carried them has been answered, so a completion means the plant has the call. A call the plant
refuses fails the command (1,8 ``DEVICE_REFUSED``, the plant's error as data); with the bus dead it
fails without touching anything (1,8 ``DEVICE_UNAVAILABLE``). All are allowed in SAFE.

- ``IMU_SELECT unit``: the unit the navigation uses (the controller in flight ignores the other
  unit's readings until the switch reaches the IMU). The ground's, and the fault protection table's
  answer to a unit whose samples the descent keeps rejecting (PUS 12 on ``gnc_imu_rejected_run``).
- ``DEVICE_POWER_CYCLE device off_s``: off, ``off_s`` of flight time, on again.
- ``MAIN_ENGINE_SAFE``: thrust 0 and engine off (the emulated engine's valves close with it); a
  powered descent in progress ends (reported ``aborted``), or guidance would light it again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fsw.core.declarations import Arg, EventDef, Severity, command
from fsw.core.errors import CommandFailed
from fsw.devices.bus import DeviceBusDead
from fsw.protocol.errors import FailureCode

IMU_UNITS = ("primary", "redundant")  # unit 0, unit 1
POWER_CYCLED_DEVICES = ("imu", "range_finder", "velocimeter", "microwave")
DELIVERY_TIMEOUT_S = 2.0  # flight time for the next exchange when the fast group runs

DEVICE_COMMAND_EVENTS = (
    EventDef(0x3008, "DEVICE_COMMANDED", Severity.LOW, "{device}: {action} (ground command)"),
)


class DeviceCommands:
    """The GNC component's ground device commands."""

    if TYPE_CHECKING:  # provided by the component this is mixed into
        ctx: Any
        bus: Any
        lander: Any
        descent: Any
        failed: bool
        imu_health: tuple[int, int, int]
        period_s: float

        def emit(self, event: str, /, **args: Any) -> None: ...
        async def _exchange_now(self) -> None: ...
        def command_engine_safe(self, vehicle: str) -> None: ...
        def _finish_descent(self, outcome: str) -> None: ...
        def _flight_time(self) -> float: ...

    async def _deliver(self, device: str) -> None:
        """Wait until the calls queued now have reached the plant; fail the command if they cannot."""
        if self.failed:
            raise CommandFailed(FailureCode.DEVICE_UNAVAILABLE, "device bus dead: nothing sent")
        errors_before = len(self.bus.errors)
        if self.ctx.dormancy.dormant:
            try:
                await self._exchange_now()
            except DeviceBusDead as error:
                raise CommandFailed(FailureCode.DEVICE_UNAVAILABLE, f"device bus dead ({error.reason})") from error
        else:  # the cycle exchanges: the next request made carries the calls
            carrier, clock = self.bus.requests_made + 1, self.ctx.clock
            deadline = clock.monotonic() + DELIVERY_TIMEOUT_S
            while self.bus.requests_answered < carrier:
                if self.failed or clock.monotonic() > deadline:
                    raise CommandFailed(FailureCode.DEVICE_UNAVAILABLE, "the device bus did not carry the call")
                await clock.sleep(self.period_s)
        refused = [error for error in self.bus.errors[errors_before:] if str(error).startswith(f"{device}.")]
        if refused:
            raise CommandFailed(FailureCode.DEVICE_REFUSED, refused[0], refused)

    @command(0x3001, Arg("unit", "enum", "IMU unit: primary (0) or redundant (1)", enum=IMU_UNITS))
    async def cmd_imu_select(self, unit: str) -> None:
        """Select the IMU unit the navigation uses (primary or redundant)."""
        number = IMU_UNITS.index(unit)
        if self.descent is not None:
            self.descent.select_imu(number, self._flight_time())
        else:
            self.lander.imu.select_unit(number)
            self.imu_health = (number, self.imu_health[1], 0)
        await self._deliver("imu")
        self.emit("DEVICE_COMMANDED", device="imu", action=f"unit {number} ({unit}) selected")

    @command(0x3002, Arg("device", "enum", "device to power-cycle", enum=POWER_CYCLED_DEVICES),
             Arg("off_s", "f64", "time off", min=0.1, max=60.0, unit="s"))
    async def cmd_device_power_cycle(self, device: str, off_s: float) -> None:
        """Power a device off, wait, power it on again."""
        handle = getattr(self.lander, device)
        handle.set_power(False)
        await self._deliver(device)
        await self.ctx.clock.sleep(off_s)
        handle.set_power(True)
        await self._deliver(device)
        self.emit("DEVICE_COMMANDED", device=device, action=f"power-cycled ({off_s:g} s off)")

    @command(0x3003)
    async def cmd_main_engine_safe(self) -> None:
        """Safe the main engine: thrust 0, engine off; ends a powered descent in progress."""
        self.command_engine_safe("lander")
        if self.descent is not None:
            self._finish_descent("aborted")
        if self.failed:
            raise CommandFailed(FailureCode.DEVICE_UNAVAILABLE,
                                "device bus dead: the safing goes out when the bus answers again")
        await self._deliver("main_engine")
        self.emit("DEVICE_COMMANDED", device="main_engine", action="safed (thrust 0, off)")
