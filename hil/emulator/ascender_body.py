"""The ascender as a rigid body: its attitude is whatever the torques of its engine (misaligned, off
the centre of mass) and of its own reaction control thrusters make it.

The attitude half of :class:`hil.emulator.ascent.AscentPlant`, which mixes :class:`AscenderRigidBody`
in; the rotations, mass properties and thruster geometry are the lander's
(:mod:`hil.emulator.rigid_body`) with the ascender's figures. The world's own code: the flight side
has its own attitude model.

Frames. Inertial: the axes the local-level frame ``(up, downrange, crossrange)`` at the ascent
site had when the ascender was set on its pad (:meth:`AscenderRigidBody.stand_as`), held fixed while
the Moon turns on; the star tracker's catalogue frame. Body: origin at the engine's throat, ``x``
along the nominal thrust axis (up on the pad), ``y`` the pitch direction, ``z`` completing the
triad; the body's direction-cosine matrix turns body vectors into the inertial frame.

Figures are estimates for a CE-5 class ascender (~800 kg at lift-off, one 3000 N engine), listed in
docs/gnc.md: the mass is the plant's; the size, inertia and thrusters are scaled down from the lander.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from hil.emulator.dynamics import GM_MOON, R_MOON, FlightState
from hil.emulator.rigid_body import (
    MassModel,
    MassProperties,
    Matrix3,
    RigidBody,
    ThrusterSet,
    Vector3,
    cross,
    mat_mul,
    mat_vec,
    rcs_layout,
    tilted_frame,
    transposed_mul,
)

#: [est.] ~320 kg dry in a ~1.5 m body over 480 kg of propellant in tanks around the engine.
ASCENDER_MASS_MODEL = MassModel(
    dry_com_x_m=0.75, propellant_com_x_m=0.45, dry_inertia_kg_m2=(110.0, 140.0, 140.0),
    full_propellant_inertia_kg_m2=(70.0, 55.0, 55.0), lateral_com_sigma_m=0.002, inertia_dispersion=0.03,
)
ASCENDER_RCS_THRUST_N = 20.0  # [est.] per thruster (a 10-25 N class)
ASCENDER_RCS_ARM_M = 0.8  # [est.] the four clusters' radius from the thrust axis
ASCENDER_RCS_STATION_X_M = 0.9  # [est.] their height above the engine's throat
#: Sixteen thrusters in the lander's pattern (four clusters on the diagonals), the ascender's size.
ASCENDER_RCS_LAYOUT = rcs_layout(ASCENDER_RCS_ARM_M, ASCENDER_RCS_STATION_X_M)


@dataclass(frozen=True)
class AscenderBodyConfig:
    mass_model: MassModel = field(default_factory=lambda: ASCENDER_MASS_MODEL)
    thrust_misalignment_sigma_rad: float = math.radians(0.1)  # [est.] seeded, per axis
    # A fixed misalignment of the thrust axis (rad, towards body +y and +z) in place of the seeded
    # one: a fault case's (a nozzle knocked at separation).
    thrust_misalignment_rad: tuple[float, float] | None = None
    rcs_failed: bool = False  # the thrusters' valves never open: no torque, no propellant


class AscenderRigidBody:
    """The ascender's rotation. What it needs of the plant it is mixed into: its time, position on
    the sphere, mass, propellant, engine thrust and whether it still stands on the pad."""

    seed: int
    t: float
    h: float
    s: float
    c: float
    mass: float
    propellant: float
    thrust: float
    on_pad: bool
    attitude_enabled: bool  # the thrusters' valve drivers powered
    state: FlightState  # the translational state (its local frame places the pad)

    def _init_body(self, seed: int, config: AscenderBodyConfig, dry_mass_kg: float, propellant_kg: float) -> None:
        self.body_config = config
        rng = random.Random(f"ascender-body-{seed}")
        # A stream of its own: the ascender's build is not the lander's.
        self.mass_properties = MassProperties(config.mass_model, dry_mass_kg, propellant_kg, rng.getrandbits(32))
        if config.thrust_misalignment_rad is not None:
            ty, tz = config.thrust_misalignment_rad
        else:
            sigma = config.thrust_misalignment_sigma_rad
            ty, tz = rng.gauss(0.0, sigma), rng.gauss(0.0, sigma)
        self.thrust_dir_body: Vector3 = _unit((1.0, math.tan(ty), math.tan(tz)))
        self.thrusters = ThrusterSet(ASCENDER_RCS_LAYOUT, ASCENDER_RCS_THRUST_N)
        self._pad_frame: Matrix3 = self.state.local_to_inertial
        self.body = RigidBody(((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))  # standing on the pad, x up
        self.body_to_local_matrix: Matrix3 = self.body.matrix
        self.specific_force_body: Vector3 = self._pad_support()
        self.max_rate_rad_s = 0.0  # the plant's record: the fastest the body turned in flight
        self._update_local_attitude()

    # ------------------------------------------------------------ what the devices read

    @property
    def angular_rate(self) -> Vector3:
        """True inertial body rates in body axes (rad/s)."""
        return self.body.w

    @property
    def rcs_pulses(self) -> int:
        return self.thrusters.pulses

    @property
    def rcs_propellant_used(self) -> float:
        return self.thrusters.propellant_used

    def fire_rcs(self, on_times_s: tuple[float, ...]) -> None:
        """Start a pulse on each thruster with a non-zero on-time (nothing while the valve drivers
        are off)."""
        if self.attitude_enabled:
            self.thrusters.fire(on_times_s)

    # ------------------------------------------------------------ truth

    @property
    def tilt(self) -> float:
        """Angle of the body x axis from local vertical (rad)."""
        return math.acos(max(-1.0, min(1.0, self.body_to_local_matrix[0][0])))

    def body_x_local(self) -> Vector3:
        """The body x axis (the nominal thrust axis) in the local frame (up, downrange, crossrange)."""
        m = self.body_to_local_matrix
        return (m[0][0], m[1][0], m[2][0])

    def thrust_direction_local(self) -> Vector3:
        """Where the engine's thrust points now, in the local frame (up, downrange, crossrange)."""
        return mat_vec(self.body_to_local_matrix, self.thrust_dir_body)

    def set_attitude(self, pitch: float, yaw: float) -> None:
        """Put the body at rest with its x axis at ``pitch``/``yaw`` in the local frame here (set-ups)."""
        self.body.set_attitude(mat_mul(self._local_matrix(), tilted_frame(pitch, yaw)))
        self._update_local_attitude()

    def stand_as(self, body_to_local: Matrix3) -> None:
        """Stand on the pad as the lander that carries it stands (its body-to-local matrix): the
        ascender's frame is the local frame at its site."""
        self._pad_frame = self.state.local_to_inertial
        self.body.set_attitude(mat_mul(self._local_matrix(), body_to_local))
        self._update_local_attitude()
        self.specific_force_body = self._pad_support()

    def _local_matrix(self) -> Matrix3:
        """The local frame here (columns: up, downrange, crossrange) in the inertial frame."""
        return transposed_mul(self._pad_frame, self.state.local_to_inertial)

    def _update_local_attitude(self) -> None:
        self.body_to_local_matrix = transposed_mul(self._local_matrix(), self.body.matrix)
        du, dd, dc = self.thrust_direction_local()
        # The thrust's direction as the translational step takes it (the pitch in the up-downrange
        # plane; a crossrange part turns the plane, which that step does not model).
        self.pitch = math.atan2(dd, du)
        self.yaw = math.asin(max(-1.0, min(1.0, dc)))

    def _pad_support(self) -> Vector3:
        """The specific force standing on the pad: the ground holding the ascender up."""
        m = self.body_to_local_matrix
        g = GM_MOON / (R_MOON + self.h) ** 2
        return (m[0][0] * g, m[0][1] * g, m[0][2] * g)

    # ------------------------------------------------------------ stepping

    def _rotate(self, dt: float) -> None:
        """Torques of the engine (its thrust off the centre of mass) and of the thrusters firing this
        step, and the body's turn under them. On the pad the lander's structure holds it."""
        com, inertia = self.mass_properties.at(self.propellant)
        f = self.thrust
        d = self.thrust_dir_body
        tx, ty, tz = cross((-com[0], -com[1], -com[2]), (f * d[0], f * d[1], f * d[2]))
        rcs_torque, rcs_force, used = self.thrusters.act(com, dt, self.propellant,
                                                         not self.body_config.rcs_failed)
        self.propellant -= used
        self.mass -= used
        if self.on_pad:  # the pad holds it, turning with the Moon
            self.body.set_attitude(mat_mul(self._local_matrix(), self.body_to_local_matrix))
        else:
            self.body.step((tx + rcs_torque[0], ty + rcs_torque[1], tz + rcs_torque[2]), inertia, dt)
            wx, wy, wz = self.body.w
            self.max_rate_rad_s = max(self.max_rate_rad_s, math.sqrt(wx * wx + wy * wy + wz * wz))
        self._update_local_attitude()
        if self.on_pad and f == 0.0:
            self.specific_force_body = self._pad_support()
        else:
            m = self.mass
            a = f / m
            self.specific_force_body = (a * d[0] + rcs_force[0] / m, a * d[1] + rcs_force[1] / m,
                                        a * d[2] + rcs_force[2] / m)


def _unit(v: Vector3) -> Vector3:
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return (v[0] / n, v[1] / n, v[2] / n)
