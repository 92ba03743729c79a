"""The hazard-avoidance divert reaches the chosen site: a far site gets the time its divert needs
within the avoidance tilt, instead of a clipped divert that ends metres short (guidance flown on a
point mass; no emulator). Campaign seed 396555069's 16.7 m divert, clipped, landed 8.6 m short of
its site in the full flight."""

from __future__ import annotations

import math

import pytest

from fsw.gnc.guidance import HAZARD_AVOIDANCE, SLOW_DESCENT, DescentGuidance
from tests.fsw.gnc.test_hazard_restart import AIM_M, hovering, in_hover

G = 1.62


def fly_divert(guidance: DescentGuidance, site: tuple[float, float]) -> tuple[float, float]:
    """From rest at the hover over the aim, fly the avoidance to ``site`` on a point mass (thrust
    along guidance's attitude, exact); where the lander is when slow descent begins."""
    guidance.target.s, guidance.target.c = site
    s, c, h, vd, vc, vu = AIM_M, 0.0, 100.0, 0.0, 0.0, 0.0
    t, dt = 0.0, 0.1
    guidance._avoidance_s = guidance._avoidance_time(hovering())
    guidance._enter(t, HAZARD_AVOIDANCE, hovering())
    while guidance.phase == HAZARD_AVOIDANCE and t < 60.0:
        nav = hovering(s=s, c=c, h=h, height_above_ground=h, vd=vd, vc=vc, vu=vu)
        command = guidance.step(t, nav)
        accel = command.thrust_n / nav.mass_kg
        a_c = accel * math.sin(command.yaw)
        a_u = accel * math.cos(command.yaw) * math.cos(command.pitch)
        a_d = accel * math.cos(command.yaw) * math.sin(command.pitch)
        vd, vc, vu = vd + a_d * dt, vc + a_c * dt, vu + (a_u - G) * dt
        s, c, h = s + vd * dt, c + vc * dt, h + vu * dt
        t += dt
    assert guidance.phase == SLOW_DESCENT
    return s, c


@pytest.mark.parametrize("distance_m", [6.0, 16.7, 20.0])
def test_the_divert_reaches_a_far_site_and_a_clipped_one_falls_short(distance_m: float) -> None:
    site = (AIM_M - 0.53 * distance_m, -0.85 * distance_m)  # as seed 396555069's: back and to the side
    guidance = in_hover()
    s, c = fly_divert(guidance, site)
    assert math.dist((s, c), site) < 0.3  # inside the detector's landing dispersion, with room
    nominal = guidance.config.avoidance_duration_s
    if distance_m > 12.0:  # beyond what 15 s at the avoidance tilt flies: given longer
        assert guidance._avoidance_s > nominal
        clipped = in_hover()
        clipped._avoidance_time = lambda nav: nominal  # type: ignore[method-assign]
        assert math.dist(fly_divert(clipped, site), site) > 2.0  # the negative control: short
    else:
        assert guidance._avoidance_s == nominal
