"""The rendezvous machine's short range and final approach: relative navigation on the radar,
Clohessy-Wiltshire targeting, and burns cut off on the orbiter's accelerometers.

Sequence (the ascender's position relative to the orbiter, orbiter local frame, x along track):
  1. track: the filter runs on the radar until its position uncertainty is small;
  2. transfer to the hold point ``HOLD_POINT`` (ahead on the velocity axis: the orbiter behind the
     ascender) in ``HOLD_TRANSFER_S``, re-targeted half-way; station-keep there briefly;
  3. transfer to the gate ``GATE_POINT`` the same way;
  4. final approach: along the x axis at ``APPROACH_SPEED_M_S`` (slower near contact), re-targeted
     every ``APPROACH_STEP_S``, until the range is inside ``CONTACT_RANGE_M``.
Figures are estimates [est.], chosen inside the plant's capture limits with margin.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from fsw.devices.surface import ApproachThrusters, OrbiterAccelerometers, RendezvousRadar
from fsw.gnc.burn import DeltaVMeter
from fsw.gnc.relnav import RelativeNavigator, Vector3, cw_velocity_to_reach, mean_motion


class _Host(Protocol):
    """What the guidance needs of its machine: the clock and events."""

    clock: Any

    def emit(self, name: str, /, **args: Any) -> None: ...


class ApproachGuidance:
    TRACK_S = 300.0
    TRACK_SIGMA_M = 60.0
    HOLD_POINT: Vector3 = (300.0, 0.0, 0.0)
    HOLD_TRANSFER_S = 1_800.0
    GATE_POINT: Vector3 = (30.0, 0.0, 0.0)
    GATE_TRANSFER_S = 600.0
    GATE_M = 40.0
    APPROACH_STEP_S = 5.0
    APPROACH_HORIZON_S = 30.0
    MAX_APPROACH_BURN_M_S = 0.2
    APPROACH_SPEED_M_S = 0.1
    CONTACT_SPEED_M_S = 0.03
    CONTACT_RANGE_M = 0.35
    MIN_BURN_M_S = 0.005  # smaller corrections are left to the next cycle (accelerometer noise ~0.001 m/s)
    BURN_SHORT_FRACTION = 0.8
    MAX_ACCEL = 0.04  # commanded per axis, under the thrusters' 0.05 [est.]
    RADAR_LOSS_S = 30.0
    MAX_APPROACH_S = 3_600.0

    def __init__(self, host: _Host, radar: RendezvousRadar, thrusters: ApproachThrusters,
                 accelerometers: OrbiterAccelerometers | None) -> None:
        self.host, self.radar, self.thrusters, self.accelerometers = host, radar, thrusters, accelerometers
        self.nav = RelativeNavigator(n=mean_motion(1_834_900.0))
        self.delta_v_used = 0.0
        self._last_good: float | None = None

    # --- navigation -------------------------------------------------------------------------
    def _navigate(self) -> bool:
        """One radar look into the filter; False when the radar has been silent too long."""
        reading = self.radar.read()
        now = self.host.clock.monotonic()
        if reading.valid:
            self.nav.update(reading.t, reading.range_m, reading.range_rate_m_s, reading.azimuth_rad,
                            reading.elevation_rad)
            self._last_good = now
            return True
        return self._last_good is not None and now - self._last_good < self.RADAR_LOSS_S

    async def _coast(self, seconds: float) -> bool:
        end = self.host.clock.monotonic() + seconds
        while self.host.clock.monotonic() < end:
            await self.host.clock.sleep(1.0)
            if not self._navigate():
                return False
        return True

    # --- burns ------------------------------------------------------------------------------
    async def _burn(self, relative_change: Vector3, purpose: str) -> str:
        """Change the ascender's relative velocity by ``relative_change``: the orbiter burns the
        opposite, cut off when its accelerometers have measured it. Returns a failure or ""."""
        wanted = tuple(-c for c in relative_change)
        size = math.sqrt(sum(c * c for c in wanted))
        if size < self.MIN_BURN_M_S:
            return ""
        if self.accelerometers is None:
            return "no accelerometers to measure a burn"
        duration = max(1.0, max(abs(c) for c in wanted) / self.MAX_ACCEL)
        meter = DeltaVMeter()
        first = self.accelerometers.read()
        meter.add(first.t, first.specific_force_m_s2, first.valid)
        self.thrusters.command_acceleration(*(c / duration for c in wanted))
        applied = [0.0, 0.0, 0.0]
        start = self.host.clock.monotonic()
        failure = ""
        while True:
            await self.host.clock.sleep(min(0.5, duration / 4.0))
            reading = self.accelerometers.read()
            meter.add(reading.t, reading.specific_force_m_s2, reading.valid)
            # Navigation goes on through the burn: the measured increment, then the radar.
            self.nav.predict(reading.t)
            increment = [meter.velocity[i] - applied[i] for i in range(3)]
            self.nav.apply_delta_v((increment[0], increment[1], increment[2]))
            applied = list(meter.velocity)
            self._navigate()
            along = sum(meter.velocity[i] * wanted[i] for i in range(3)) / size
            if along >= size:
                break
            if self.host.clock.monotonic() - start > 2.0 * duration + 2.0:
                # Near enough is a burn done (the filter takes what was measured); far short is a fault.
                if along < self.BURN_SHORT_FRACTION * size:
                    failure = f"{purpose} burn not measured ({along:.3f} of {size:.3f} m/s)"
                break
        self.thrusters.command_acceleration(0.0, 0.0, 0.0)
        measured = math.sqrt(sum(v * v for v in meter.velocity))
        self.delta_v_used += measured
        self.host.emit("RENDEZVOUS_BURN", purpose=purpose, delta_v_m_s=measured, target_m_s=size,
                       range_m=math.sqrt(sum(c * c for c in self.nav.position)))
        self._navigate()
        return failure

    async def _transfer(self, target: Vector3, seconds: float, purpose: str) -> str:
        """A CW transfer to ``target`` in ``seconds``, re-targeted half-way and stopped on arrival."""
        for leg, time_left in ((purpose, seconds), (f"{purpose} correction", seconds / 2.0)):
            wanted = cw_velocity_to_reach(self.nav.n, self.nav.position, target, time_left)
            velocity = self.nav.velocity
            failure = await self._burn((wanted[0] - velocity[0], wanted[1] - velocity[1], wanted[2] - velocity[2]), leg)
            if failure:
                return failure
            if not await self._coast(time_left / 2.0 if leg == purpose else time_left):
                return "radar track lost"
        # Arrived: null the relative velocity (hold the point for the next leg).
        velocity = self.nav.velocity
        return await self._burn((-velocity[0], -velocity[1], -velocity[2]), f"{purpose} stop")

    # --- phases -----------------------------------------------------------------------------
    async def fly_to_gate(self, orbit_radius_m: float) -> str:
        self.nav = RelativeNavigator(n=mean_motion(orbit_radius_m))
        self._last_good = self.host.clock.monotonic()
        if not await self._coast(self.TRACK_S):
            return "radar track lost"
        if self.nav.position_sigma_m > self.TRACK_SIGMA_M:
            return f"relative navigation not converged ({self.nav.position_sigma_m:.0f} m)"
        for target, seconds, purpose in ((self.HOLD_POINT, self.HOLD_TRANSFER_S, "hold transfer"),
                                         (self.GATE_POINT, self.GATE_TRANSFER_S, "gate transfer")):
            failure = await self._transfer(target, seconds, purpose)
            if failure:
                return failure
            if not await self._coast(30.0):
                return "radar track lost"
        return "" if self.inside_gate() else "gate not reached"

    async def final_approach(self) -> str:
        start = self.host.clock.monotonic()
        while not self.at_contact():
            if self.host.clock.monotonic() - start > self.MAX_APPROACH_S:
                return "final approach took too long"
            x = self.nav.position[0]
            speed = self.APPROACH_SPEED_M_S if x > 3.0 else self.CONTACT_SPEED_M_S
            step, horizon = self.APPROACH_STEP_S, self.APPROACH_HORIZON_S
            # A point on the docking axis one horizon ahead (a little through the contact point, so
            # that the closing speed does not die away short of it), re-targeted every step.
            aim = (max(-0.5, x - speed * horizon), 0.0, 0.0)
            wanted = cw_velocity_to_reach(self.nav.n, self.nav.position, aim, horizon)
            change = [w - v for w, v in zip(wanted, self.nav.velocity, strict=True)]
            size = math.sqrt(sum(c * c for c in change))
            if size > self.MAX_APPROACH_BURN_M_S:
                change = [c * self.MAX_APPROACH_BURN_M_S / size for c in change]
            failure = await self._burn((change[0], change[1], change[2]), "approach")
            if failure:
                return failure
            end = self.host.clock.monotonic() + step
            while self.host.clock.monotonic() < end and not self.at_contact():
                await self.host.clock.sleep(0.5)
                if not self._navigate():
                    return "radar track lost"
        self.thrusters.command_acceleration(0.0, 0.0, 0.0)
        return ""

    # --- judgements on the estimate -----------------------------------------------------------
    def inside_gate(self) -> bool:
        return self.nav.initialised and math.sqrt(sum(c * c for c in self.nav.position)) <= self.GATE_M

    def at_contact(self) -> bool:
        return self.nav.initialised and math.sqrt(sum(c * c for c in self.nav.position)) <= self.CONTACT_RANGE_M

    def closing_speed(self) -> float:
        x, y, z = self.nav.position
        r = max(1e-6, math.sqrt(x * x + y * y + z * z))
        return -sum(p * v for p, v in zip(self.nav.position, self.nav.velocity, strict=True)) / r
