"""The lander's electrical power: a lithium-ion battery on an unregulated bus, the solar arrays, and
the power distribution unit (PDU) whose switched lines feed the loads.

The flight software gets what a PDU measures (bus voltage, battery, array and line currents, switch
states: :meth:`LanderPower.read_distribution`) and the battery gauge's state of charge
(:meth:`LanderPower.read`), never a verdict. What the battery went through is the plant's truth
(:class:`PowerTruth`): the lowest bus voltage, when the bus fell below the avionics' brown-out level,
when the cells were over-discharged. The emulator records a brown-out; it does not cut the flight
computer's power.

The battery is integrated in steps of at most ``MAX_STEP_S`` between reads, with the loads found at
the previous read (or switch) and the Sun at the middle of each step. Figures are estimates [est.]
unless a source is named: 8 cells in series, a typical NMC/graphite open-circuit curve, the common
2.5 V per cell discharge cut-off of lithium-ion cell datasheets, a bus that browns out below 22 V.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Protocol

from fsw.devices.surface import DistributionStatus, PowerStatus
from hil.emulator.surface.world import SurfaceWorld, _act, _Device, _reading

CELLS_IN_SERIES = 8
# Open-circuit voltage of one cell against state of charge [est.: typical NMC/graphite cell].
CELL_OCV_CURVE = ((0.0, 2.50), (0.02, 3.00), (0.05, 3.30), (0.10, 3.45), (0.20, 3.57), (0.40, 3.68),
                  (0.60, 3.80), (0.80, 3.97), (1.00, 4.15))
INTERNAL_RESISTANCE_OHM = 0.06  # the pack [est.]
CELL_CUTOFF_V = 2.5  # below it the cells are over-discharged (lithium-ion datasheets' discharge cut-off)
BROWNOUT_V = 22.0  # the avionics' converters drop out below this bus voltage [est.]
MAX_STEP_S = 60.0
# Loads [est.]: the avionics are never switched; comms and survival heaters are essential lines.
AVIONICS_W = 120.0
HIBERNATION_W = 20.0
LINE_LOADS_W = {"comms": 60.0, "survival_heaters": 40.0, "mechanism_heaters": 150.0, "drill": 15.0, "arm": 15.0}
LINES = tuple(LINE_LOADS_W)
ARM_MOVING_W = 80.0  # the arm's motors while a scoop cycle runs [est.]
INSTRUMENT_LOADS_W = {"camera": 8.0, "dosimeter": 3.0, "radar": 20.0}  # each while powered [est.]
VOLTAGE_NOISE_V = 0.02
CURRENT_NOISE_A = 0.02


class Powered(Protocol):
    powered: bool


class LineConsumer(Protocol):
    """A device on a switched line: told when its supply changes (the drill, the arm)."""

    def supply_changed(self, on: bool) -> None: ...


class DrillLoad(LineConsumer, Protocol):
    def motor_current_a(self) -> float: ...


class ArmLoad(LineConsumer, Protocol):
    def moving(self) -> bool: ...


def cell_ocv(soc: float) -> float:
    soc = min(1.0, max(0.0, soc))
    for (s0, v0), (s1, v1) in itertools.pairwise(CELL_OCV_CURVE):
        if soc <= s1:
            return v0 + (v1 - v0) * (soc - s0) / (s1 - s0)
    return CELL_OCV_CURVE[-1][1]


@dataclass(frozen=True)
class PowerTruth:
    """What the battery went through (times in world seconds, None: never)."""

    soc: float
    bus_v: float
    min_bus_v: float
    brownout_at: float | None
    over_discharged_at: float | None


class LanderPower(_Device):
    """Battery, arrays and PDU of the lander (``fsw.devices.surface.Power`` and ``PowerDistribution``)."""

    STATE = ("energy_wh", "last", "lines", "hibernating", "load_w", "min_bus_v", "brownout_at",
             "over_discharged_at")

    def __init__(self, world: SurfaceWorld, capacity_wh: float = 4000.0, array_w: float = 1500.0,
                 soc: float = 0.8) -> None:
        self.world = world
        self.rng = world.rng("power")
        self.capacity_wh = capacity_wh
        self.array_w = array_w
        self.energy_wh = soc * capacity_wh
        self.last = world.now()
        self.lines = dict.fromkeys(LINES, True)
        self.hibernating = False
        self.drill: DrillLoad | None = None
        self.arm: ArmLoad | None = None
        self.instruments: dict[str, Powered] = {}
        self.load_w = AVIONICS_W + sum(LINE_LOADS_W.values())
        self.min_bus_v: float | None = None
        self.brownout_at: float | None = None
        self.over_discharged_at: float | None = None

    def attach(self, drill: DrillLoad, arm: ArmLoad, instruments: dict[str, Powered]) -> None:
        """The loads whose draw depends on what they do (wired once, when the devices are made)."""
        self.drill, self.arm, self.instruments = drill, arm, instruments
        self.load_w = self._loads()

    # --- the model ---------------------------------------------------------------------------
    @property
    def soc(self) -> float:
        return self.energy_wh / self.capacity_wh

    def line_on(self, line: str) -> bool:
        return bool(self.lines.get(line, False))

    def _solar_w(self, t: float) -> float:
        fraction = self.world.faults.solar_output_fraction
        return self.array_w * fraction * max(0.0, math.sin(math.radians(self.world.sun_elevation_deg(t))))

    def _ocv(self) -> float:
        return CELLS_IN_SERIES * cell_ocv(self.soc)

    def _line_w(self, line: str, bus_v: float) -> float:
        if not self.lines[line]:
            return 0.0
        watts = LINE_LOADS_W[line]
        if line == "drill" and self.drill is not None:
            watts += bus_v * self.drill.motor_current_a()
        if line == "arm" and self.arm is not None and self.arm.moving():
            watts += ARM_MOVING_W
        return watts

    def _loads(self) -> float:
        if self.hibernating:
            return HIBERNATION_W
        bus_v = self._ocv()
        instruments = sum(INSTRUMENT_LOADS_W.get(name, 0.0) for name, device in self.instruments.items()
                          if device.powered)
        return AVIONICS_W + instruments + sum(self._line_w(line, bus_v) for line in LINES)

    def _battery(self, solar_w: float) -> tuple[float, float, float]:
        """(battery current A, positive charging; bus voltage V; array power used W) for these loads."""
        net = solar_w - self.load_w
        if net > 0 and self.energy_wh >= self.capacity_wh:
            return 0.0, self._ocv(), self.load_w  # full: the shunt regulator dumps the excess
        ocv = self._ocv()
        current = net / ocv
        return current, max(0.0, ocv + current * INTERNAL_RESISTANCE_OHM), solar_w

    def _advance(self) -> None:
        now = self.world.now()
        t = self.last
        while t < now:
            step = min(MAX_STEP_S, now - t)
            net = self._solar_w(t + step / 2) - self.load_w
            self.energy_wh = max(0.0, min(self.capacity_wh, self.energy_wh + net * step / 3600.0))
            t += step
            self._record(t, self._solar_w(t))
        self.last = now
        self.load_w = self._loads()

    def _record(self, t: float, solar_w: float) -> None:
        _, bus_v, _ = self._battery(solar_w)
        self.min_bus_v = bus_v if self.min_bus_v is None else min(self.min_bus_v, bus_v)
        if self.brownout_at is None and bus_v < BROWNOUT_V:
            self.brownout_at = t
        if self.over_discharged_at is None and bus_v < CELLS_IN_SERIES * CELL_CUTOFF_V:
            self.over_discharged_at = t

    def truth(self) -> PowerTruth:
        self._advance()
        _, bus_v, _ = self._battery(self._solar_w(self.last))
        return PowerTruth(self.soc, bus_v, self.min_bus_v if self.min_bus_v is not None else bus_v,
                          self.brownout_at, self.over_discharged_at)

    # --- the devices' ports --------------------------------------------------------------------
    @_act
    def set_line(self, line: str, on: bool) -> None:
        if line not in self.lines:
            raise ValueError(f"no PDU line {line!r}")
        self._advance()
        self.lines[line] = on
        consumer = {"drill": self.drill, "arm": self.arm}.get(line)
        if consumer is not None:
            consumer.supply_changed(on)
        self.load_w = self._loads()

    @_act
    def set_hibernation(self, on: bool) -> None:
        self._advance()
        self.hibernating = on
        self.load_w = self._loads()

    @_reading
    def read(self) -> PowerStatus:
        self._advance()
        return PowerStatus(self.last, self.soc, self._solar_w(self.last), self.load_w, self.hibernating, True)

    @_reading
    def read_distribution(self) -> DistributionStatus:
        self._advance()
        current, bus_v, solar_used = self._battery(self._solar_w(self.last))
        volts = max(bus_v, 1.0)

        def noisy(value: float, sigma: float = CURRENT_NOISE_A) -> float:
            return value + self.rng.gauss(0.0, sigma)

        lines = tuple((line, self.lines[line], max(0.0, noisy(self._line_w(line, bus_v) / volts))) for line in LINES)
        return DistributionStatus(self.last, max(0.0, noisy(bus_v, VOLTAGE_NOISE_V)), noisy(current),
                                  max(0.0, noisy(solar_used / volts)), max(0.0, noisy(self.load_w / volts)), lines,
                                  True)

    def physical_state(self) -> dict[str, Any]:
        return {**super().physical_state(), "lines": dict(self.lines)}
