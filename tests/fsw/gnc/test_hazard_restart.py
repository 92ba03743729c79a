"""Hazard detection across a restart of the flight software (guidance restored from its
checkpoint): a hover that has not judged its image settles again before it scans, a site already
chosen is kept, not judged again, and an image whose judgement was under way is judged again from
the start, without a new scan."""

from __future__ import annotations

import math
import pickle

from fsw.gnc.guidance import HAZARD_AVOIDANCE, HOVER, DescentGuidance, GuidanceConfig
from fsw.gnc.navigation import NavState
from tests.fsw.gnc.test_gnc_units import nav_state
from tests.fsw.gnc.test_hazard import image

AIM_M = 1_000.0


def hovering(**kw: float) -> NavState:
    base = dict(h=100.0, height_above_ground=100.0, s=AIM_M, vd=0.0, pitch=0.0, mass_kg=2_000.0,
                propellant_kg=400.0, specific_force=1.62)
    base.update(kw)
    return nav_state(**base)


def in_hover() -> DescentGuidance:
    guidance = DescentGuidance(GuidanceConfig(target_downrange_m=AIM_M))
    guidance.phase = HOVER
    return guidance


def first_scan_request(guidance: DescentGuidance, start: float, until: float, **disturbed: float) -> float | None:
    """Step the hover at 10 Hz; the time of the first scan request (None: none)."""
    steps = round((until - start) / 0.1)
    for k in range(steps + 1):
        t = start + 0.1 * k
        nav = hovering(**disturbed) if disturbed and k < 10 else hovering()
        if guidance.step(t, nav).request_hazard_scan:
            return t
    return None


def judge(guidance: DescentGuidance, start: float, cycles: int = 400) -> float | None:
    """Step the hover at 50 Hz while it judges its image; the time it leaves the hover (None: never)."""
    for k in range(cycles):
        t = start + 0.02 * k
        guidance.step(t, hovering())
        if guidance.phase == HAZARD_AVOIDANCE:
            return t
    return None


def test_a_restart_before_the_scan_settles_the_hover_again() -> None:
    for told in (True, False):
        guidance = in_hover()
        assert first_scan_request(guidance, 0.0, 1.5) is None  # settled since 0 s, the scan due at 2 s
        restored: DescentGuidance = pickle.loads(pickle.dumps(guidance))  # the checkpoint
        if told:
            restored.restarted(3.0)
        # After a 1.5 s outage the lander swings (6 deg, 0.6 m/s) for its first second back.
        asked = first_scan_request(restored, 3.0, 8.0, pitch=math.radians(6.0), vd=0.6)
        if told:
            assert asked is not None and asked >= 3.0 + 1.0 + restored.config.hover_settle_s - 1e-6
            assert "hover_settling_again" in [name for _, name, _ in restored.events]
        else:  # the negative control: the stale settling lets it scan mid-swing
            assert asked == 3.0


def test_a_site_chosen_before_a_restart_is_kept_and_not_judged_again() -> None:
    guidance = in_hover()
    rock_at_aim = image(rocks=((0.0, 0.0, 1.2, 0.8),))
    assert first_scan_request(guidance, 0.0, 3.0) is not None
    guidance.provide_hazard_map(rock_at_aim)
    judged_at = judge(guidance, 3.1)
    assert judged_at is not None and guidance.last_hazard is not None
    chosen = (guidance.target.s, guidance.target.c)
    assert math.hypot(chosen[0] - AIM_M, chosen[1]) > 2.5  # moved off the rock

    restored: DescentGuidance = pickle.loads(pickle.dumps(guidance))
    restored.restarted(judged_at + 1.0)
    commands = [restored.step(judged_at + 1.0 + 0.1 * k, hovering(h=99.0, height_above_ground=99.0)) for k in range(20)]
    assert (restored.target.s, restored.target.c) == chosen
    assert restored.last_hazard == guidance.last_hazard
    assert not any(command.request_hazard_scan for command in commands)
    assert "hover_settling_again" not in [name for _, name, _ in restored.events]


def test_a_restart_while_the_image_is_judged_judges_it_again_without_a_new_scan() -> None:
    rock_at_aim = image(rocks=((0.0, 0.0, 1.2, 0.8),))
    undisturbed = in_hover()
    assert first_scan_request(undisturbed, 0.0, 3.0) is not None
    undisturbed.provide_hazard_map(rock_at_aim)
    assert judge(undisturbed, 3.1) is not None

    guidance = in_hover()
    assert first_scan_request(guidance, 0.0, 3.0) is not None
    guidance.provide_hazard_map(rock_at_aim)
    for k in range(5):  # part of the way through the judgement
        guidance.step(3.1 + 0.02 * k, hovering())
    assert guidance.phase == HOVER and guidance.last_hazard is None
    restored: DescentGuidance = pickle.loads(pickle.dumps(guidance))
    restored.restarted(4.0)
    commands = [restored.step(4.0 + 0.02 * k, hovering()) for k in range(400)]
    assert restored.phase == HAZARD_AVOIDANCE
    assert not any(command.request_hazard_scan for command in commands)
    assert restored.last_hazard == undisturbed.last_hazard
    assert (restored.target.s, restored.target.c) == (undisturbed.target.s, undisturbed.target.c)
    assert "hover_settling_again" not in [name for _, name, _ in restored.events]
