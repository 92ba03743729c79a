"""Rendezvous truth: the orbiter and the ascender as two point masses on their own lunar orbits, the
orbiter's microwave rendezvous radar, its translation thrusters and the docking claws.

The orbiter is the active vehicle, as in Chang'e-5, where the orbiter-returner chased and captured
the passive ascender (CNSA, December 2020). Far range (orbit phasing, ground-guided, about two days
in CE-5) is not flown here: ``far_range_phasing_s`` after the ascender's separation the plant puts
the orbiter where the phasing left it, ``handover_offset_m`` from the ascender in the ascender's
local frame with seeded dispersions, and from then on both vehicles fly two-body orbits integrated
by this module (RK4). The ascender's orbit is the one its ascent gave it (``world.ascender_insertion``:
height, radial and horizontal speed at cut-off, from the ascent plant's record when a rig hands it
over, else the nominal 15 x 180 km insertion).

Frames: inertial, Moon-centred; a vehicle's local frame is x along its velocity (in the orbit
plane, perpendicular to the radius), z towards the Moon's centre, y completing the triad (opposite
the orbit normal). The orbiter holds its local frame as body frame during the rendezvous.

Capture is the plant's verdict when the claws close: the ascender's docking fixture must be inside
the claws' envelope, coming slowly enough and well enough aligned (``CAPTURE_*``, estimates: no
figures for the CE-5 mechanism are published that we know of). Every closing of the claws is
recorded in ``capture_attempts`` with its figures and verdict.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from fsw.devices.surface import DockingStatus, RendezvousReading
from hil.emulator.dynamics import GM_MOON, R_MOON
from hil.emulator.surface.world import SurfaceWorld, _act, _Device, _reading

State = list[float]  # x, y, z, vx, vy, vz (inertial)


def _accel(state: State, thrust: tuple[float, float, float]) -> list[float]:
    x, y, z = state[0], state[1], state[2]
    r3 = (x * x + y * y + z * z) ** 1.5
    return [state[3], state[4], state[5], -GM_MOON * x / r3 + thrust[0], -GM_MOON * y / r3 + thrust[1],
            -GM_MOON * z / r3 + thrust[2]]


def rk4(state: State, thrust: tuple[float, float, float], dt: float) -> State:
    k1 = _accel(state, thrust)
    k2 = _accel([s + 0.5 * dt * k for s, k in zip(state, k1, strict=True)], thrust)
    k3 = _accel([s + 0.5 * dt * k for s, k in zip(state, k2, strict=True)], thrust)
    k4 = _accel([s + dt * k for s, k in zip(state, k3, strict=True)], thrust)
    return [s + dt / 6.0 * (a + 2 * b + 2 * c + d) for s, a, b, c, d in zip(state, k1, k2, k3, k4, strict=True)]


def local_axes(state: State) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """The vehicle's local frame (x along track, y opposite the orbit normal, z to the Moon's centre)."""
    r, v = state[:3], state[3:]
    rn = math.sqrt(sum(c * c for c in r))
    z = tuple(-c / rn for c in r)
    h = (r[1] * v[2] - r[2] * v[1], r[2] * v[0] - r[0] * v[2], r[0] * v[1] - r[1] * v[0])
    hn = math.sqrt(sum(c * c for c in h))
    y = tuple(-c / hn for c in h)
    x = (y[1] * z[2] - y[2] * z[1], y[2] * z[0] - y[0] * z[2], y[0] * z[1] - y[1] * z[0])
    return x, y, z


def _dot(a: Any, b: Any) -> float:
    return float(a[0] * b[0] + a[1] * b[1] + a[2] * b[2])


class EmulatedRendezvous(_Device):
    """Both orbits, the radar (``RendezvousRadar``) and the thrusters (``ApproachThrusters``)."""

    RADAR_MAX_M = 100_000.0  # [est.] microwave radar, far-range acquisition
    RANGE_NOISE_M = 0.05  # [est.] plus RANGE_NOISE_FRACTION of the range
    RANGE_NOISE_FRACTION = 2e-4
    RATE_NOISE_M_S = 0.003  # [est.]
    ANGLE_NOISE_RAD = 1e-3  # [est.] ~0.06 deg
    MAX_ACCEL = 0.05  # m/s^2 per axis [est.] ~115 N on the 2.3 t orbiter-returner
    STEP_S = 2.0  # while thrusting or within NEAR_M
    COAST_STEP_S = 10.0
    NEAR_M = 2_000.0
    CAPTURE_RANGE_M = 0.5  # claws' reach along the docking axis [est.]
    CAPTURE_CLOSING_M_S = 0.2  # [est.]
    CAPTURE_LATERAL_M = 0.15  # [est.] offset of the fixture from the docking axis
    CAPTURE_LATERAL_M_S = 0.05  # [est.]
    STATE = ("orbiter", "ascender", "a", "last", "handover_t", "claws_closed", "latched", "latch_count",
             "capture_attempts", "closest_m", "released")

    def __init__(self, world: SurfaceWorld, ascender_separation: Any = None) -> None:
        self.world = world
        self.separation = ascender_separation
        self.rng = world.rng("rendezvous")
        self.orbiter: State | None = None
        self.ascender: State | None = None
        self.a = [0.0, 0.0, 0.0]  # commanded orbiter acceleration, body (local) frame
        self.last = world.now()
        self.handover_t: float | None = None
        self.claws_closed = False
        self.latched = False
        self.latch_count = 0
        self.capture_attempts: list[list[Any]] = []  # [t, range, closing, lateral, lateral speed, verdict]
        self.closest_m: float | None = None
        self.released = False  # the claws let the ascender go: the rendezvous is over for good

    # --- the two orbits ---------------------------------------------------------------------
    def _handover_due(self) -> float | None:
        """When the far-range phasing ends: counted from the ascender's separation (from the
        world's start when no separation device is wired)."""
        fired_at = 0.0 if self.separation is None else self.separation.fired_at
        return None if fired_at is None else fired_at + self.world.far_range_phasing_s

    def _insertion(self) -> tuple[float, float, float]:
        """The ascender's cut-off state: the ascent plant's record when there is one."""
        record = self.world.ascender_record
        if record is not None:
            try:
                state = json.loads(Path(record).read_text())
                return float(state["h"]), float(state["vu"]), float(state["vd"])
            except (OSError, ValueError, KeyError, TypeError):
                pass  # no ascent flown by a plant (a rig stubbing it): the nominal insertion
        return self.world.ascender_insertion

    def _start(self, t: float) -> None:
        """Where the far-range phasing left the two: the ascender on its flown orbit, the orbiter
        at the hand-over offset from it with seeded dispersions."""
        h, vu, vd = self._insertion()
        self.ascender = asc = [R_MOON + h, 0.0, 0.0, vu, vd, 0.0]
        x, y, z = local_axes(asc)
        world = self.world
        offset = [c + self.rng.gauss(0.0, s) for c, s in zip(world.handover_offset_m, world.handover_dispersion_m,
                                                             strict=True)]
        dv = [self.rng.gauss(0.0, world.handover_velocity_dispersion_m_s) for _ in range(3)]
        pos = [asc[i] + offset[0] * x[i] + offset[1] * y[i] + offset[2] * z[i] for i in range(3)]
        # Co-elliptic with the ascender at the same orbital energy per radius: its velocity scaled to
        # the orbiter's radius, plus the phasing's residual.
        scale = math.sqrt((R_MOON + h) / math.sqrt(sum(c * c for c in pos)))
        vel = [asc[3 + i] * scale + dv[0] * x[i] + dv[1] * y[i] + dv[2] * z[i] for i in range(3)]
        self.orbiter = [*pos, *vel]
        self.handover_t = t

    def _advance(self) -> None:
        now = self.world.now()
        dt, self.last = now - self.last, now
        if self.orbiter is None:
            if self.released:
                return
            due = self._handover_due()
            if due is None or now < due:
                return
            self._start(due)
            dt = now - due
        if dt <= 0 or self.latched or self.orbiter is None or self.ascender is None:
            return
        coasting = self.a == [0.0, 0.0, 0.0] and self.relative()[0] > self.NEAR_M
        steps = max(1, math.ceil(dt / (self.COAST_STEP_S if coasting else self.STEP_S)))
        h = dt / steps
        for _ in range(steps):
            x, y, z = local_axes(self.orbiter)
            thrust = tuple(self.a[0] * x[i] + self.a[1] * y[i] + self.a[2] * z[i] for i in range(3))
            self.orbiter = rk4(self.orbiter, (thrust[0], thrust[1], thrust[2]), h)
            self.ascender = rk4(self.ascender, (0.0, 0.0, 0.0), h)
            distance = self.relative()[0]
            if self.closest_m is None or distance < self.closest_m:
                self.closest_m = distance

    def relative(self) -> tuple[float, list[float], list[float]]:
        """Range, and the ascender's position and velocity relative to the orbiter in the orbiter's
        local frame (velocity as seen in the inertial frame, resolved on the local axes)."""
        assert self.orbiter is not None and self.ascender is not None
        d = [self.ascender[i] - self.orbiter[i] for i in range(3)]
        w = [self.ascender[3 + i] - self.orbiter[3 + i] for i in range(3)]
        axes = local_axes(self.orbiter)
        p = [_dot(axis, d) for axis in axes]
        v = [_dot(axis, w) for axis in axes]
        return math.sqrt(sum(c * c for c in p)), p, v

    def acceleration(self) -> tuple[float, float, float]:
        """The orbiter's thrust acceleration, body frame (what its accelerometers feel from these thrusters)."""
        self._advance()
        if self.orbiter is None or self.latched:
            return (0.0, 0.0, 0.0)
        return (self.a[0], self.a[1], self.a[2])

    # --- docking mechanism (EmulatedDocking): the claws act on the two bodies -----------------
    @_act
    def close_claws(self) -> None:
        self._advance()
        self.claws_closed = True
        if self.latched or self.orbiter is None:
            return
        distance, p, v = self.relative()
        closing = -_dot(p, v) / max(distance, 1e-9)
        lateral = math.hypot(p[1], p[2])
        lateral_speed = math.hypot(v[1], v[2])
        verdict = "latched"
        if self.world.faults.docking_claws_fail:
            verdict = "claws failed"
        elif distance > self.CAPTURE_RANGE_M or p[0] <= 0.0:
            verdict = "out of reach"
        elif abs(closing) > self.CAPTURE_CLOSING_M_S:
            verdict = "closing too fast"
        elif lateral > self.CAPTURE_LATERAL_M or lateral_speed > self.CAPTURE_LATERAL_M_S:
            verdict = "misaligned"
        self.capture_attempts.append([self.world.now(), distance, closing, lateral, lateral_speed, verdict])
        if verdict == "latched":
            self.latched, self.a = True, [0.0, 0.0, 0.0]
            self.latch_count += 1

    @_act
    def open_claws(self) -> None:
        self.claws_closed = False
        if self.latched:
            # Released: the ascender is no one's concern any more, and the phasing that brought it
            # must not start again (the radar would find it at the hand-over point once more).
            self.released = True
            self.orbiter = self.ascender = None
        self.latched = False

    @_reading
    def advance(self) -> None:
        self._advance()

    # --- ApproachThrusters --------------------------------------------------------------------
    @_act
    def command_acceleration(self, x_m_s2: float, y_m_s2: float = 0.0, z_m_s2: float = 0.0) -> None:
        self._advance()
        self.a = [max(-self.MAX_ACCEL, min(self.MAX_ACCEL, float(c))) for c in (x_m_s2, y_m_s2, z_m_s2)]

    # --- RendezvousRadar ----------------------------------------------------------------------
    @_reading
    def read(self) -> RendezvousReading:
        self._advance()
        if self.orbiter is None or self.world.faults.rendezvous_radar_dead:
            return RendezvousReading(self.last, 0.0, 0.0, False)
        distance, p, v = self.relative()
        if distance > self.RADAR_MAX_M or self.latched:
            return RendezvousReading(self.last, 0.0, 0.0, False)
        rate = _dot(p, v) / max(distance, 1e-9)
        noise = self.rng.gauss
        return RendezvousReading(
            self.last,
            max(0.0, distance + noise(0.0, self.RANGE_NOISE_M + self.RANGE_NOISE_FRACTION * distance)),
            rate + noise(0.0, self.RATE_NOISE_M_S),
            True,
            math.atan2(p[1], p[0]) + noise(0.0, self.ANGLE_NOISE_RAD),
            math.atan2(p[2], math.hypot(p[0], p[1])) + noise(0.0, self.ANGLE_NOISE_RAD),
        )


class EmulatedDocking(_Device):
    def __init__(self, world: SurfaceWorld, rendezvous: EmulatedRendezvous) -> None:
        self.world = world
        self.rendezvous = rendezvous

    def close_claws(self) -> None:
        self.rendezvous.close_claws()

    def open_claws(self) -> None:
        self.rendezvous.open_claws()

    def read(self) -> DockingStatus:
        rv = self.rendezvous
        rv.advance()
        contact = rv.latched or (rv.orbiter is not None and rv.relative()[0] <= rv.CAPTURE_RANGE_M)
        return DockingStatus(self.world.now(), contact, rv.claws_closed, rv.latched, True)
