"""Mission state machines: the mission, sampling, ascent, rendezvous and docking, return, rover.

Wiring: the topology builds a :class:`MissionDevices` bundle of device ports, calls
:func:`build_mission` with the context and adds the components in :meth:`MissionComponents.wiring_order`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fsw.core.context import Context
from fsw.devices.descent import AscentEngine, Imu, LaserRangeFinder, MainEngine, PropellantGauge
from fsw.devices.surface import (
    ApproachThrusters,
    DockingMechanism,
    Drill,
    GroundPenetratingRadar,
    OrbitEngines,
    Power,
    RendezvousRadar,
    RoboticArm,
    RoverDeployMechanism,
    RoverMobility,
    SampleContainer,
    SeparationDevice,
    SunSensor,
    Thermal,
    TransferMechanism,
)
from fsw.mission.ascent import AscentMachine
from fsw.mission.drivers import PhaseDriver
from fsw.mission.machine import MissionMachine
from fsw.mission.mission import MissionControl
from fsw.mission.rendezvous import RendezvousMachine
from fsw.mission.returns import ReturnMachine
from fsw.mission.rover import RoverMachine
from fsw.mission.sampling import SamplingMachine


@dataclass
class MissionDevices:
    imu: Imu
    range_finder: LaserRangeFinder
    main_engine: MainEngine
    propellant: PropellantGauge
    ascent_engine: AscentEngine
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


@dataclass
class MissionComponents:
    mission: MissionControl
    sampling: SamplingMachine
    ascent: AscentMachine
    rendezvous: RendezvousMachine
    returns: ReturnMachine
    rover: RoverMachine | None = None  # started by the ground (ROVER_DEPLOY), not by the mission

    def wiring_order(self) -> list[MissionMachine]:
        """Phase machines first, the mission last, so that the phases have restored their state
        before the mission resumes and delegates to them."""
        phases: list[MissionMachine | None] = [self.sampling, self.ascent, self.rendezvous, self.returns, self.rover]
        return [machine for machine in phases if machine is not None] + [self.mission]

    def machines(self) -> list[MissionMachine]:
        machines: list[MissionMachine] = [self.mission, self.sampling, self.ascent, self.rendezvous, self.returns]
        return machines + ([self.rover] if self.rover is not None else [])


def build_mission(ctx: Context, devices: MissionDevices, *, descent_driver: PhaseDriver | None = None,
                  ascent_driver: PhaseDriver | None = None) -> MissionComponents:
    """Make the mission components (not yet added to the executive)."""
    sampling = SamplingMachine(ctx, devices.drill, devices.arm, devices.container, devices.transfer,
                               devices.radar, devices.power)
    ascent = AscentMachine(ctx, devices.ascent_engine, devices.ascender_separation, ascent_driver)
    rendezvous = RendezvousMachine(ctx, devices.rendezvous_radar, devices.approach_thrusters, devices.docking,
                                   devices.transfer, devices.ascender_release)
    returns = ReturnMachine(ctx, devices.orbit_engines, devices.returner_separation)
    mission = MissionControl(
        ctx, imu=devices.imu, range_finder=devices.range_finder, main_engine=devices.main_engine,
        propellant=devices.propellant, descent_driver=descent_driver,
        phases={"sampling": sampling, "ascent": ascent, "rendezvous": rendezvous, "return": returns},
    )
    return MissionComponents(mission, sampling, ascent, rendezvous, returns, build_rover(ctx, devices))


def build_rover(ctx: Context, devices: MissionDevices) -> RoverMachine | None:
    """The rover machine when the devices include a rover (its power falls back to the lander's)."""
    if devices.rover_deploy is None or devices.rover_mobility is None or devices.sun is None:
        return None
    return RoverMachine(ctx, devices.rover_deploy, devices.rover_mobility, devices.sun,
                        devices.rover_power or devices.power, devices.rover_thermal)
