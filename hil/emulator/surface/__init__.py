"""Seeded emulators of the surface, rendezvous and return devices (:mod:`fsw.devices.surface`).

The devices are passive: each read integrates the model from the previous read to ``now()`` in
closed form, so a flight code that waits hours between reads costs nothing. Every device draws from
its own ``random.Random`` seeded from the world seed and its name. Figures marked [est.] are
estimates, listed in docs/state-machines.md.

The devices stand for hardware that outlives the flight computer. Their world time is on-board time
since an epoch (:class:`HardwareTime`), and :func:`open_surface_devices` keeps the physical state of
every device, its random stream and the epoch in a hardware-state file (SQLite), so that a restart of
the flight software finds the container as full, the pyros as fired and the Sun as high as it left
them. The physical change of a command (an act) is saved before it returns; what a reading changes
(noise drawn, a model integrated) and the random streams are saved at most every
``READING_SAVE_INTERVAL_S`` of wall time: a kill may repeat that much noise, never lose an act.

Faults (:class:`SurfaceFaults`) reproduce the mission-profile scenarios: rock at a depth (the drill
torque rises and the drive stalls, CE-5), a hard layer (more torque and motor current, slow progress:
the drill motor overheats if nobody stops it), arrays that deliver less than designed, a sealing
failure, and a rover mechanism fault before the lunar night (Yutu-1). The lander's power
(:mod:`~hil.emulator.surface.electrical`) feeds the drill and the arm through switched PDU lines.
"""


from hil.emulator.ascent import EmulatedAscentEngine
from hil.emulator.surface.electrical import LanderPower, PowerTruth
from hil.emulator.surface.hardware import (
    READING_SAVE_INTERVAL_S,
    STATE_VERSION,
    CorruptHardwareState,
    SurfaceDevices,
    SurfaceHardware,
    SurfaceHardwareFile,
    make_surface_devices,
    open_surface_devices,
)
from hil.emulator.surface.instruments import EmulatedCamera, EmulatedDosimeter, EmulatedRadar
from hil.emulator.surface.orbit import (
    EmulatedOrbitEngines,
    EmulatedOrbiterAccelerometers,
    EmulatedSeparation,
    PadAscender,
)
from hil.emulator.surface.power import EmulatedPower, EmulatedSunSensor, EmulatedThermal
from hil.emulator.surface.rendezvous import EmulatedDocking, EmulatedRendezvous
from hil.emulator.surface.rover import EmulatedRoverDeploy, EmulatedRoverMobility
from hil.emulator.surface.sampling import EmulatedArm, EmulatedContainer, EmulatedDrill, EmulatedTransfer
from hil.emulator.surface.world import (
    SYNODIC_MONTH_S,
    HardwareTime,
    SurfaceFaults,
    SurfaceWorld,
    decode_rng,
    encode_rng,
)

__all__ = [
    "READING_SAVE_INTERVAL_S",
    "STATE_VERSION",
    "SYNODIC_MONTH_S",
    "CorruptHardwareState",
    "EmulatedArm",
    "EmulatedAscentEngine",
    "EmulatedCamera",
    "EmulatedContainer",
    "EmulatedDocking",
    "EmulatedDosimeter",
    "EmulatedDrill",
    "EmulatedOrbitEngines",
    "EmulatedOrbiterAccelerometers",
    "EmulatedPower",
    "EmulatedRadar",
    "EmulatedRendezvous",
    "EmulatedRoverDeploy",
    "EmulatedRoverMobility",
    "EmulatedSeparation",
    "EmulatedSunSensor",
    "EmulatedThermal",
    "EmulatedTransfer",
    "HardwareTime",
    "LanderPower",
    "PadAscender",
    "PowerTruth",
    "SurfaceDevices",
    "SurfaceFaults",
    "SurfaceHardware",
    "SurfaceHardwareFile",
    "SurfaceWorld",
    "decode_rng",
    "encode_rng",
    "make_surface_devices",
    "open_surface_devices",
]
