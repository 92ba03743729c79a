"""Surface, rendezvous, return and rover device ports.

Like :mod:`fsw.devices.descent`, the flight side only talks to these ``typing.Protocol`` classes and the
backend (emulator or hardware adapters) is chosen at start-up. Mechanisms are asynchronous: a
command starts an action and ``read()`` reports its progress, so that flight code waits on its own
clock (event-driven, or a slow poll) instead of blocking. Readings carry a ``valid`` flag and a
time ``t`` (seconds of flight time). SI units, except sample masses in grams (how they are reported).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# ---------------------------------------------------------------- readings


@dataclass(frozen=True, slots=True)
class ArmStatus:
    t: float
    busy: bool  # a scoop cycle (reach, scoop, deliver to the container) is running
    scoops_done: int
    stowed: bool
    fault: bool
    valid: bool


@dataclass(frozen=True, slots=True)
class DrillStatus:
    t: float
    depth_m: float  # bit depth below the surface
    torque_nm: float  # rotary torque on the drill string
    jammed: bool  # the drive stalled (motor current limit reached)
    drilling: bool
    retracting: bool
    core_mass_g: float  # regolith held in the core bag
    valid: bool


@dataclass(frozen=True, slots=True)
class ContainerStatus:
    t: float
    sample_mass_g: float  # load-cell reading of the primary container contents
    lid_closed: bool
    sealing: bool
    sealed: bool  # seal made and the leak check passed
    valid: bool


@dataclass(frozen=True, slots=True)
class TransferStatus:
    t: float
    stage: str  # "", "lander_to_ascender" or "ascender_to_returner"
    busy: bool
    done: bool
    fault: bool
    valid: bool


@dataclass(frozen=True, slots=True)
class SeparationStatus:
    t: float
    fired: bool
    separated: bool  # separation switch confirms the two bodies parted
    valid: bool


@dataclass(frozen=True, slots=True)
class DockingStatus:
    t: float
    contact: bool
    claws_closed: bool
    latched: bool
    valid: bool


@dataclass(frozen=True, slots=True)
class RendezvousReading:
    """Microwave rendezvous radar on the orbiter: range, range rate and the line of sight to the
    ascender's transponder, as two angles in the orbiter's body frame (body = local vertical /
    local horizontal while the orbiter holds its rendezvous attitude: x along the velocity, z
    towards the Moon's centre)."""

    t: float
    range_m: float
    range_rate_m_s: float  # negative while closing
    valid: bool
    azimuth_rad: float = 0.0  # in the x-y plane from +x towards +y
    elevation_rad: float = 0.0  # out of the x-y plane towards +z


@dataclass(frozen=True, slots=True)
class AccelerometerReading:
    """The orbiter's accelerometers: specific force in its body frame (x along the thrust axis of
    the engine set in use). The flight software integrates it into a burn's delta-v."""

    t: float
    specific_force_m_s2: tuple[float, float, float]
    valid: bool


@dataclass(frozen=True, slots=True)
class BurnStatus:
    t: float
    on: bool
    engine_set: str  # "tei" (4 x 150 N) or "mcc" (2 x 25 N)
    thrust_n: float
    # The engine controller's own count since the burn started, from the rated thrust: it knows
    # nothing of a weak engine. Cut-offs are decided on the accelerometers (AccelerometerReading).
    delta_v_m_s: float
    accelerometer_valid: bool
    valid: bool


@dataclass(frozen=True, slots=True)
class PowerStatus:
    t: float
    battery_soc: float  # state of charge, 0..1
    solar_w: float
    load_w: float
    hibernating: bool
    valid: bool


@dataclass(frozen=True, slots=True)
class DistributionStatus:
    """What the power distribution unit measures: the bus, the battery, the arrays and each switched line."""

    t: float
    bus_voltage_v: float
    battery_current_a: float  # positive: charging
    solar_current_a: float
    load_current_a: float
    lines: tuple[tuple[str, bool, float], ...]  # (line, switched on, current A)
    valid: bool


@dataclass(frozen=True, slots=True)
class ThermalStatus:
    t: float
    avionics_c: float
    battery_c: float
    surface_c: float
    heaters_on: bool
    valid: bool


@dataclass(frozen=True, slots=True)
class RadarProfile:
    """Ground-penetrating radar survey of the drill site."""

    t: float
    depth_to_rock_m: float | None  # None: no reflector above max_depth_m
    max_depth_m: float
    valid: bool


@dataclass(frozen=True, slots=True)
class DeployStatus:
    t: float
    released: bool
    on_surface: bool
    fault: bool
    valid: bool


@dataclass(frozen=True, slots=True)
class MobilityStatus:
    t: float
    east_m: float
    north_m: float
    driving: bool
    arrived: bool
    hazard_stop: bool  # stopped by the hazard cameras before an obstacle
    stowed: bool  # mast and arrays in the night configuration
    mechanism_fault: bool
    valid: bool


@dataclass(frozen=True, slots=True)
class SunReading:
    t: float
    elevation_deg: float
    valid: bool


# ---------------------------------------------------------------- devices


@runtime_checkable
class RoboticArm(Protocol):
    def start_scoop(self, point: int) -> None: ...
    def stow(self) -> None: ...
    def read(self) -> ArmStatus: ...


@runtime_checkable
class Drill(Protocol):
    def start(self, target_depth_m: float, rate_m_s: float) -> None: ...
    def stop(self) -> None: ...
    def retract(self) -> None: ...
    def deliver_core(self) -> None: ...
    def read(self) -> DrillStatus: ...


@runtime_checkable
class SampleContainer(Protocol):
    def seal(self) -> None: ...
    def read(self) -> ContainerStatus: ...


@runtime_checkable
class TransferMechanism(Protocol):
    def start(self, stage: str) -> None: ...
    def read(self) -> TransferStatus: ...


@runtime_checkable
class SeparationDevice(Protocol):
    """A pyro-like separation: fires once, never again."""

    def fire(self) -> None: ...
    def read(self) -> SeparationStatus: ...


@runtime_checkable
class DockingMechanism(Protocol):
    def close_claws(self) -> None: ...
    def open_claws(self) -> None: ...
    def read(self) -> DockingStatus: ...


@runtime_checkable
class RendezvousRadar(Protocol):
    def read(self) -> RendezvousReading: ...


@runtime_checkable
class ApproachThrusters(Protocol):
    """Orbiter translation thrusters: an acceleration in the orbiter's body frame (held on its local
    frame during the rendezvous: x along track, z towards the Moon's centre)."""

    def command_acceleration(self, x_m_s2: float, y_m_s2: float = 0.0, z_m_s2: float = 0.0) -> None: ...


@runtime_checkable
class OrbiterAccelerometers(Protocol):
    def read(self) -> AccelerometerReading: ...


@runtime_checkable
class OrbitEngines(Protocol):
    def start_burn(self, engine_set: str) -> None: ...
    def stop_burn(self) -> None: ...
    def read(self) -> BurnStatus: ...


@runtime_checkable
class Power(Protocol):
    def set_hibernation(self, on: bool) -> None: ...
    def read(self) -> PowerStatus: ...


@runtime_checkable
class PowerDistribution(Protocol):
    """The PDU: switched lines to the loads, and its measurements."""

    def set_line(self, line: str, on: bool) -> None: ...
    def read_distribution(self) -> DistributionStatus: ...


@runtime_checkable
class Thermal(Protocol):
    def set_heaters(self, on: bool) -> None: ...
    def read(self) -> ThermalStatus: ...


@runtime_checkable
class GroundPenetratingRadar(Protocol):
    def survey(self) -> RadarProfile: ...


@runtime_checkable
class RoverDeployMechanism(Protocol):
    def release(self) -> None: ...
    def read(self) -> DeployStatus: ...


@runtime_checkable
class RoverMobility(Protocol):
    def drive_to(self, east_m: float, north_m: float) -> None: ...
    def stop(self) -> None: ...
    def stow(self) -> None: ...
    def unstow(self) -> None: ...
    def read(self) -> MobilityStatus: ...


@runtime_checkable
class SunSensor(Protocol):
    def read(self) -> SunReading: ...


@dataclass(frozen=True)
class SurfaceSuite:
    """The mechanisms of the lander, ascender, orbiter and rover, as a platform provides them."""

    drill: Drill
    arm: RoboticArm
    container: SampleContainer
    transfer: TransferMechanism
    radar: GroundPenetratingRadar
    power: Power
    ascender_separation: SeparationDevice
    rendezvous_radar: RendezvousRadar
    approach_thrusters: ApproachThrusters
    docking: DockingMechanism
    ascender_release: SeparationDevice
    orbit_engines: OrbitEngines
    returner_separation: SeparationDevice
    # The rover (optional): without its deploy mechanism and mobility there is no rover machine.
    rover_deploy: RoverDeployMechanism | None = None
    rover_mobility: RoverMobility | None = None
    sun: SunSensor | None = None
    rover_power: Power | None = None
    rover_thermal: Thermal | None = None
    thermal: Thermal | None = None  # the lander's survival heaters
    pdu: PowerDistribution | None = None  # the lander's switched lines (without it: no power component)
    # The orbiter's accelerometers (without them no burn can be measured: the burns are refused).
    orbiter_accelerometers: OrbiterAccelerometers | None = None
