"""The descent's IMU handling in its loop: stale or implausible samples are rejected and the navigation
coasts; the rejections are counted for the fault protection; the controller never switches units
on its own, and follows a selection."""

from __future__ import annotations

from dataclasses import replace

from fsw.gnc.controller import DescentController
from fsw.gnc.guidance import MAIN_BRAKING
from hil.emulator.devices import LanderDevices
from hil.emulator.plant import LunarLanderPlant
from hil.rigs.closed_loop import build_descent

DT = 0.02


class Flight:
    def __init__(self, seed: int = 2) -> None:
        self.plant, self.devices, self.controller = build_descent(seed)
        self.t = 0.0
        while self.controller.phase != MAIN_BRAKING:
            self.fly(DT)
        self.fly(3.0)

    def fly(self, seconds: float) -> None:
        for _ in range(round(seconds / DT)):
            self.controller.step(self.t, DT)
            self.plant.step(DT)
            self.t += DT

    def events(self) -> list[tuple[str, str]]:
        return [(name, detail) for _, name, detail in self.controller.events]


def parts(flight: Flight) -> tuple[LunarLanderPlant, LanderDevices, DescentController]:
    return flight.plant, flight.devices, flight.controller


def test_a_frozen_unit_is_rejected_as_stale_and_counted_but_not_switched_by_the_controller() -> None:
    flight = Flight()
    plant, devices, controller = parts(flight)
    assert controller.imu_health() == (0, 0, 0)
    plant.faults = replace(plant.faults, imu_failure_altitude_m=plant.h + 1.0)
    flight.fly(1.0)
    unit, rejected, run = controller.imu_health()
    assert unit == 0 and rejected == run and 49 <= run <= 50  # every sample since: its time tag stands still
    assert devices.imu.failed_at is not None and devices.imu.read().valid  # the frame itself looks healthy
    coasting = [detail for name, detail in flight.events() if name == "imu_coasting"]
    assert len(coasting) == 1 and "stale" in coasting[0]
    flight.fly(5.0)
    assert devices.imu.selections == [] and controller.imu_health()[2] >= 299  # coasts on; no verdict
    # A selection (the fault protection's, or the ground's) is followed: the redundant unit's samples are used.
    rejected = controller.imu_health()[1]
    controller.select_imu(1, flight.t)
    flight.fly(1.0)
    assert controller.imu_health() == (1, rejected, 0)  # none of the redundant unit's samples rejected
    assert [unit for _, unit, _ in devices.imu.selections] == [1]


def test_a_glitch_shorter_than_the_coast_report_is_ridden_out() -> None:
    flight = Flight()
    _, devices, controller = parts(flight)
    devices.imu.glitched_units.add(0)
    flight.fly(0.2)  # ten samples of dropouts and spikes
    devices.imu.glitched_units.discard(0)
    assert 8 <= controller.imu_health()[2] <= 10
    flight.fly(0.2)
    unit, rejected, run = controller.imu_health()
    assert (unit, run) == (0, 0) and 8 <= rejected <= 12
    assert "imu_coasting" not in [name for name, _ in flight.events()] and devices.imu.selections == []
