"""The emulated lander power and drill: measurements out, truth kept in the plant."""

from __future__ import annotations

import dataclasses

import pytest

from fsw.devices.surface import DistributionStatus, PowerDistribution
from hil.emulator.surface import SurfaceDevices, SurfaceFaults, SurfaceWorld, make_surface_devices
from hil.emulator.surface.electrical import BROWNOUT_V, CELL_CUTOFF_V, CELLS_IN_SERIES, cell_ocv
from hil.emulator.surface.sampling import WINDING_DAMAGE_C


class Time:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def devices(**faults: object) -> tuple[Time, SurfaceDevices]:
    clock = Time()
    return clock, make_surface_devices(SurfaceWorld(clock, 1, SurfaceFaults(**faults)))  # type: ignore[arg-type]


def test_the_pdu_reports_measurements_only_and_is_the_flight_port() -> None:
    _, d = devices()
    assert isinstance(d.power, PowerDistribution)
    reading = d.power.read_distribution()
    fields = {f.name for f in dataclasses.fields(DistributionStatus)}
    assert fields == {"t", "bus_voltage_v", "battery_current_a", "solar_current_a", "load_current_a", "lines", "valid"}
    assert 30.0 < reading.bus_voltage_v < 33.6  # 8 cells at 80 %
    assert {line for line, _, _ in reading.lines} == {"comms", "survival_heaters", "mechanism_heaters", "drill", "arm"}
    assert all(on for _, on, _ in reading.lines)


def test_the_open_circuit_curve_is_monotonic() -> None:
    socs = [i / 100 for i in range(101)]
    volts = [cell_ocv(s) for s in socs]
    assert volts == sorted(volts) and volts[0] == CELL_CUTOFF_V and volts[-1] == pytest.approx(4.15)


def test_without_its_arrays_the_battery_drains_to_a_brownout_and_an_over_discharge() -> None:
    clock, d = devices(solar_output_fraction=0.0)
    power = d.power
    for hours in range(1, 12):
        clock.t = hours * 3600.0
        power.read()
    truth = power.truth()
    assert truth.soc == 0.0
    assert truth.min_bus_v < CELLS_IN_SERIES * CELL_CUTOFF_V < BROWNOUT_V
    assert truth.brownout_at is not None and truth.over_discharged_at is not None
    assert truth.brownout_at < truth.over_discharged_at < 11 * 3600.0


def test_shedding_lines_cuts_the_load_and_the_battery_charges_again() -> None:
    clock, d = devices(solar_output_fraction=0.4)
    power = d.power
    before = power.read_distribution()
    assert before.battery_current_a < 0.0  # 40 % of the arrays does not carry the full load
    for line in ("mechanism_heaters", "drill", "arm"):
        power.set_line(line, False)
    after = power.read_distribution()
    assert after.load_current_a < before.load_current_a - 5.0
    assert after.battery_current_a > 0.0
    clock.t = 3600.0
    assert power.read().battery_soc > 0.8
    with pytest.raises(ValueError):
        power.set_line("avionics", False)


def test_a_line_switched_off_stops_its_mechanism_where_it_is() -> None:
    clock, d = devices()
    d.drill.start(2.0, 0.001)
    clock.t = 100.0
    assert d.drill.read().depth_m == pytest.approx(0.1)
    d.power.set_line("drill", False)
    clock.t = 200.0
    reading = d.drill.read()
    assert not reading.valid and d.drill.depth == pytest.approx(0.1) and d.drill.mode == "idle"
    d.drill.start(2.0, 0.001)  # no supply: the command goes nowhere
    clock.t = 300.0
    assert d.drill.depth == pytest.approx(0.1)
    d.power.set_line("drill", True)
    assert d.drill.read().valid and not d.drill.read().drilling
    d.arm.start_scoop(1)
    d.power.set_line("arm", False)  # the cycle is cut short: nothing reaches the container
    clock.t = 1000.0
    d.power.set_line("arm", True)
    assert d.arm.read().scoops_done == 0 and d.container.mass_g == 0.0


def test_a_drill_left_grinding_in_a_hard_layer_burns_its_motor() -> None:
    clock, d = devices(hard_layer_depth_m=0.2)
    d.drill.start(2.0, 0.001)
    for t in range(1, 900):
        clock.t = float(t)
        d.drill.read()
    assert d.drill.depth < 0.3  # the hard layer slows it to a crawl
    assert d.drill.damaged_at is not None and 400.0 < d.drill.damaged_at < 900.0
    assert d.drill.peak_winding_c >= WINDING_DAMAGE_C
    reading = d.drill.read()
    assert reading.jammed and not reading.drilling
    d.drill.stop()
    d.drill.start(2.0, 0.001)  # a burnt motor never turns again
    assert not d.drill.read().drilling
    d.drill.retract()  # the feed still lifts the string out
    clock.t = 1000.0
    assert d.drill.read().depth_m == 0.0


def test_stopped_in_time_the_hard_layer_does_no_harm() -> None:
    clock, d = devices(hard_layer_depth_m=0.2)
    d.drill.start(2.0, 0.001)
    currents = []
    for t in range(1, 221):
        clock.t = float(t)
        currents.append(dict((line, amps) for line, _, amps in d.power.read_distribution().lines)["drill"])
    assert max(currents[:190]) < 3.0 < min(currents[-10:])  # the drill line climbs in the hard layer
    d.drill.stop()
    clock.t = 2000.0
    assert d.drill.damaged_at is None and d.drill.peak_winding_c < WINDING_DAMAGE_C


def test_a_rock_stall_stays_jammed_after_the_stop_until_the_retract() -> None:
    clock, d = devices(rock_depth_m=0.05)
    d.drill.start(2.0, 0.001)
    clock.t = 60.0
    assert d.drill.read().jammed
    d.drill.stop()
    assert d.drill.read().jammed and d.drill.motor_current_a() == 0.0  # stopped: the motor is off
    d.drill.retract()
    clock.t = 100.0
    assert d.drill.read().depth_m == 0.0 and d.drill.damaged_at is None
