"""Mission state machines: the mission, sampling, ascent, rendezvous and docking, return, rover; and
the lander's power (its PDU's measurements and switched lines) when the platform has a PDU, and the
lander's survival heaters.

Wiring: the topology builds a :class:`MissionDevices` bundle of device ports, calls
:func:`build_mission` with the context and adds the components in :meth:`MissionComponents.wiring_order`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.devices.descent import AscentEngine, LaserRangeFinder, MainEngine, PropellantGauge, StrapdownImu
from fsw.devices.surface import SurfaceSuite
from fsw.mission.ascent import AscentMachine
from fsw.mission.drivers import PhaseDriver
from fsw.mission.machine import MissionMachine
from fsw.mission.mission import MissionControl
from fsw.mission.power import PowerControl
from fsw.mission.rendezvous import RendezvousMachine
from fsw.mission.returns import ReturnMachine
from fsw.mission.rover import RoverMachine
from fsw.mission.sampling import SamplingMachine
from fsw.mission.survival import SurvivalHeaters


@dataclass
class MissionDevices:
    """The lander's powered-flight devices the machines check, and the platform's mechanisms (with
    the rover's, when there is a rover: without its deploy mechanism and mobility there is no rover machine)."""

    imu: StrapdownImu
    range_finder: LaserRangeFinder
    main_engine: MainEngine
    propellant: PropellantGauge
    ascent_engine: AscentEngine
    mechanisms: SurfaceSuite


@dataclass
class MissionComponents:
    mission: MissionControl
    sampling: SamplingMachine
    ascent: AscentMachine
    rendezvous: RendezvousMachine
    returns: ReturnMachine
    rover: RoverMachine | None = None  # started by the ground (ROVER_DEPLOY), not by the mission
    power: PowerControl | None = None  # the lander's PDU (when the platform has one)
    survival: SurvivalHeaters | None = None  # the lander's survival heaters, when the platform has them

    def wiring_order(self) -> list[Component]:
        """The power and the survival heaters first, then the phase machines, the mission last, so
        that the phases have restored their state before the mission resumes and delegates to them."""
        phases: list[Component | None] = [self.power, self.survival, self.sampling, self.ascent, self.rendezvous,
                                          self.returns, self.rover]
        return [component for component in phases if component is not None] + [self.mission]

    def machines(self) -> list[MissionMachine]:
        machines: list[MissionMachine] = [self.mission, self.sampling, self.ascent, self.rendezvous, self.returns]
        return machines + ([self.rover] if self.rover is not None else [])


def build_mission(ctx: Context, devices: MissionDevices, *, descent_driver: PhaseDriver | None = None,
                  ascent_driver: PhaseDriver | None = None) -> MissionComponents:
    """Make the mission components (not yet added to the executive)."""
    kit = devices.mechanisms
    sampling = SamplingMachine(ctx, kit.drill, kit.arm, kit.container, kit.transfer, kit.radar, kit.power)
    ascent = AscentMachine(ctx, devices.ascent_engine, kit.ascender_separation, ascent_driver)
    rendezvous = RendezvousMachine(ctx, kit.rendezvous_radar, kit.approach_thrusters, kit.docking, kit.transfer,
                                   kit.ascender_release, kit.orbiter_accelerometers)
    returns = ReturnMachine(ctx, kit.orbit_engines, kit.returner_separation, kit.orbiter_accelerometers)
    mission = MissionControl(
        ctx, imu=devices.imu, range_finder=devices.range_finder, main_engine=devices.main_engine,
        propellant=devices.propellant, descent_driver=descent_driver,
        phases={"sampling": sampling, "ascent": ascent, "rendezvous": rendezvous, "return": returns},
    )
    power = PowerControl(ctx, kit.pdu, kit.power) if kit.pdu is not None else None
    survival = SurvivalHeaters(ctx, kit.thermal) if kit.thermal is not None else None
    return MissionComponents(mission, sampling, ascent, rendezvous, returns, build_rover(ctx, devices), power,
                             survival)


def build_rover(ctx: Context, devices: MissionDevices) -> RoverMachine | None:
    """The rover machine when the devices include a rover (its power falls back to the lander's)."""
    kit = devices.mechanisms
    if kit.rover_deploy is None or kit.rover_mobility is None or kit.sun is None:
        return None
    return RoverMachine(ctx, kit.rover_deploy, kit.rover_mobility, kit.sun, kit.rover_power or kit.power,
                        kit.rover_thermal)
