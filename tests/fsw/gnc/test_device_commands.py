"""Ground commands to the devices: each reaches the plant (asserted on the plant's record) and gets
1,7, in SAFE; a bad argument is refused at acceptance (1,2) with its code; a dead bus fails the command
(1,8 DEVICE_UNAVAILABLE) without sending anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fsw.gnc.component import GncComponent
from fsw.gnc.guidance import MAIN_BRAKING
from fsw.mission.survival import SurvivalHeaters
from fsw.protocol.errors import FailureCode
from fsw.services.surface_commands import SurfaceDeviceCommands
from hil.devicebus import DeviceBusServer
from hil.emulator.surface import SurfaceWorld, make_surface_devices
from hil.plant_process import LanderWorld
from tests.fsw.gnc.uplink_support import preload_uplink
from tests.fsw.harness import Harness
from tests.hil.bus_doubles import PullableBus

COMPLETED = ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]


class Rig:
    def __init__(self, tmp_path: Path) -> None:
        self.world = LanderWorld(3)
        self.server = DeviceBusServer(self.world.devices, self.world.advance)
        self.harness = Harness(tmp_path / "store.sqlite")
        preload_uplink(self.harness.store, self.world)
        self.bus = PullableBus(self.server, self.harness.clock)
        self.gnc = GncComponent(self.harness.vehicle.ctx, self.bus)
        self.surface = make_surface_devices(SurfaceWorld(self.harness.clock.monotonic, 3))
        self.harness.vehicle.add(self.gnc)
        suite = self.surface.suite()
        self.harness.vehicle.add(SurfaceDeviceCommands(self.harness.vehicle.ctx, suite))
        assert suite.thermal is not None
        self.harness.vehicle.add(SurvivalHeaters(self.harness.vehicle.ctx, suite.thermal))

    def applied(self, device: str) -> list[tuple[str, tuple[Any, ...]]]:
        return [(method, args) for _, name, method, args in self.server.applied if name == device]

    def failure(self, tc: Any) -> tuple[str, int | None]:
        report = self.harness.reports(tc)[-1]
        return report.subtype.name, report.code


def test_device_commands_reach_the_plant_in_safe(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    stages: dict[str, list[str]] = {}

    async def scenario(h: Harness) -> None:
        assert h.vehicle.modes.mode == "SAFE"
        await h.clock.sleep(1.0)
        stages["imu"] = await h.submit(h.command("IMU_SELECT", "redundant"))
        stages["cycle"] = await h.submit(h.command("DEVICE_POWER_CYCLE", "range_finder", 2.0), settle_s=3.0)
        stages["engine"] = await h.submit(h.command("MAIN_ENGINE_SAFE"))
        stages["heaters"] = await h.submit(h.command("SURVIVAL_HEATERS", True))
        rig.surface.drill.start(0.5, 0.01)
        await h.clock.sleep(5.0)
        stages["drill"] = await h.submit(h.command("DRILL_STOP"))

    rig.harness.run(scenario)
    assert all(got == COMPLETED for got in stages.values()), stages
    devices = rig.world.devices
    assert rig.applied("imu") == [("select_unit", (1,))] and devices["imu"].unit == 1
    assert rig.applied("range_finder") == [("set_power", (False,)), ("set_power", (True,))]
    assert devices["range_finder"].powered
    assert rig.applied("main_engine") == [("set_thrust", (0.0,)), ("set_on", (False,))]
    assert not rig.world.plant.engine_on and rig.world.plant.thrust_cmd == 0.0
    assert rig.surface.thermal.heaters  # the hardware's own state
    assert rig.surface.drill.mode == "idle" and 0.0 < rig.surface.drill.depth < 0.5


@pytest.mark.parametrize(("args", "code"), [
    (("IMU_SELECT", "tertiary"), FailureCode.ARGUMENT_RANGE),
    (("DEVICE_POWER_CYCLE", "main_engine", 1.0), FailureCode.ARGUMENT_RANGE),
    (("DEVICE_POWER_CYCLE", "imu"), FailureCode.BAD_ARGUMENT),
    (("DEVICE_POWER_CYCLE", "imu", 600.0), FailureCode.ARGUMENT_RANGE),
    (("SURVIVAL_HEATERS", "yes"), FailureCode.BAD_ARGUMENT),
])
def test_a_bad_argument_is_refused_at_acceptance_with_its_code(tmp_path: Path, args: tuple[Any, ...],
                                                               code: FailureCode) -> None:
    rig = Rig(tmp_path)
    result: dict[str, Any] = {}

    async def scenario(h: Harness) -> None:
        tc = h.command(*args)
        result["stages"] = await h.submit(tc)
        result["failure"] = rig.failure(tc)

    rig.harness.run(scenario)
    assert result["stages"] == ["ACCEPTANCE_FAILED"]
    assert result["failure"] == ("ACCEPTANCE_FAILED", int(code))
    assert not rig.server.applied


def test_with_the_bus_dead_a_device_command_fails_and_sends_nothing(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    result: dict[str, Any] = {}

    async def scenario(h: Harness) -> None:
        rig.bus.down = True
        tc = h.command("IMU_SELECT", "redundant")
        result["stages"] = await h.submit(tc)
        result["failure"] = rig.failure(tc)
        tc = h.command("IMU_SELECT", "primary")
        result["again"] = await h.submit(tc)

    rig.harness.run(scenario)
    assert result["stages"] == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_FAILED"]
    assert result["failure"] == ("COMPLETION_FAILED", int(FailureCode.DEVICE_UNAVAILABLE))
    assert result["again"][-1] == "COMPLETION_FAILED"
    assert not rig.server.applied and rig.world.devices["imu"].unit == 0


async def fly_to_main_braking(rig: Rig, h: Harness) -> None:
    """NOMINAL, the descent begun, until guidance is in main braking (the engine burning)."""
    await h.nominal()
    rig.gnc.descent_driver.begin(lambda outcome: None, False)
    while rig.gnc.descent is None or rig.gnc.descent.phase != MAIN_BRAKING:
        await h.clock.sleep(0.1)


def test_imu_select_in_powered_flight_goes_with_the_cycle_and_guidance_follows_it(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    stages: list[str] = []

    async def scenario(h: Harness) -> None:
        await fly_to_main_braking(rig, h)
        stages.extend(await h.submit(h.command("IMU_SELECT", "redundant"), settle_s=0.5))
        await h.clock.sleep(2.0)

    rig.harness.run(scenario)
    assert stages == COMPLETED
    assert rig.world.devices["imu"].unit == 1
    assert rig.gnc.descent is not None and rig.gnc.descent.dev.imu.read().unit == 1
    details = [args["event"] for name, args in rig.harness.events() if name == "GNC_EVENT"]
    assert "imu_selected" in details and "imu_switched_to_redundant" not in details


def test_a_device_command_the_plant_refuses_in_powered_flight_fails_with_the_plant_s_reason(tmp_path: Path) -> None:
    """In flight the call goes with the GNC's next cycle: the command waits for that round trip and
    reports what the plant said of the call."""
    rig = Rig(tmp_path)
    failures: list[tuple[str, int | None]] = []

    def stuck(unit: int) -> None:
        raise ValueError(f"unit {unit} does not answer")

    async def scenario(h: Harness) -> None:
        await fly_to_main_braking(rig, h)
        rig.world.devices["imu"].select_unit = stuck
        for _ in range(3):
            tc = h.command("IMU_SELECT", "redundant")
            stages = await h.submit(tc, settle_s=0.5)
            failures.append((stages[-1], rig.failure(tc)[1]))

    rig.harness.run(scenario)
    assert failures == [("COMPLETION_FAILED", int(FailureCode.DEVICE_REFUSED))] * 3
    assert rig.world.devices["imu"].unit == 0
