"""The fine hazard-avoidance stage's choice in guidance (mixed into
:class:`fsw.gnc.guidance.DescentGuidance`): judge the hover's elevation image, move the aim to the
chosen site (or the least-bad one when none is safe), and give the divert the time it needs.

The judgement is spread over the hover's control cycles (:class:`fsw.gnc.hazard.HazardJudgement`,
a few milliseconds each): the hover holds its position until the site is chosen, and no cycle
carries the whole image."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fsw.devices.descent import ElevationImageReading
from fsw.gnc.hazard import HazardAssessment, HazardConfig, HazardJudgement
from fsw.gnc.navigation import NavState

# The hazard-avoidance divert's tilt limit, and the share of the lateral acceleration it gives that a
# divert is planned on (the rest is for the vertical channel's and the attitude's transients) [est.].
AVOIDANCE_MAX_TILT = math.radians(10.0)
AVOIDANCE_ACCEL_SHARE = 0.8


@dataclass
class AimPoint:
    s: float
    c: float


@dataclass
class SiteJudging:
    """The hover image's judgement under way, a step per control cycle."""

    judgement: HazardJudgement
    scan_position: tuple[float, float]  # the lander's (downrange, crossrange) when the image came
    aim_offset: tuple[float, float]  # the aim from there


class SiteSelection:
    """What the choice needs of the guidance it is mixed into."""

    config: Any
    target: AimPoint
    hazard_avoidance: bool
    hazard_config: HazardConfig
    last_hazard: HazardAssessment | None
    last_site_shift: tuple[float, float]
    _judging: SiteJudging | None

    if TYPE_CHECKING:
        def _event(self, t: float, name: str, detail: str = "") -> None: ...

    def _avoidance_time(self, nav: NavState) -> float:
        """Time for the divert to the site: the nominal avoidance time, or longer when E-guidance's
        rest-to-rest peak acceleration 6d/T^2 over it would ask more than the avoidance tilt gives
        (the tilt limit would clip it and leave the divert metres short of the site)."""
        cfg = self.config
        distance = math.hypot(self.target.s - nav.s, self.target.c - nav.c)
        a_lim = AVOIDANCE_ACCEL_SHARE * nav.effective_gravity * math.tan(AVOIDANCE_MAX_TILT)
        return max(cfg.avoidance_duration_s, math.sqrt(6.0 * distance / max(1e-6, a_lim)))

    def _begin_site_selection(self, t: float, nav: NavState, reading: ElevationImageReading) -> bool:
        """Start judging the hover's image; False when there is nothing to judge (avoidance off)."""
        if not self.hazard_avoidance:
            self._event(t, "hazard_avoidance_off", "keeping the current target unjudged")
            return False
        # Where the aim point falls in the image (relative to the point under us at the scan).
        rel = (self.target.s - nav.s, self.target.c - nav.c)
        judgement = HazardJudgement(reading, rel, nav.mass_kg, self.hazard_config, least_bad=True)
        self._judging = SiteJudging(judgement, (nav.s, nav.c), rel)
        return True

    def _continue_site_selection(self, t: float) -> bool:
        """One step of the judgement under way; True when it is complete and the aim is decided.
        The image's offsets count from where the lander was at the scan, kept with the judgement."""
        judging = self._judging
        if judging is None or not judging.judgement.step():
            return judging is None
        self._judging = None
        found = judging.judgement.assessment()
        (scan_s, scan_c), (rel_s, rel_c) = judging.scan_position, judging.aim_offset
        self.last_hazard = found
        summary = f"{found.hazard_cells} hazard, {found.unknown_cells} unknown, {found.unsafe_sites} unsafe cells"
        judged = f"judged over {judging.judgement.steps} cycles"
        if found.site is None:
            fallback = judging.judgement.fallback()
            if fallback is None:
                self._event(t, "no_safe_site", f"{found.reason}; {summary}; keeping the current target ({judged})")
                return True
            site, why = fallback
            self.target = AimPoint(scan_s + site[0], scan_c + site[1])
            self.last_site_shift = (site[0] - rel_s, site[1] - rel_c)
            self._event(t, "no_safe_site", f"{found.reason}; {summary}; least-bad site "
                        f"{math.hypot(*self.last_site_shift):.1f} m from the old one ({why}; {judged})")
            return True
        shift = (found.site[0] - rel_s, found.site[1] - rel_c)
        if found.target_safe and math.hypot(*shift) <= found.cell_m * 1.5:
            self._event(t, "site_confirmed_safe", f"target at ({rel_s:.1f}, {rel_c:.1f}) m; {summary}; {judged}")
            return True
        self.target = AimPoint(scan_s + found.site[0], scan_c + found.site[1])
        self.last_site_shift = shift
        why = "aim safe, a better site" if found.target_safe else "hazard at the aim"
        self._event(t, "hazard_detected_retargeting", f"new site {math.hypot(*shift):.1f} m from the old one "
                    f"({why}, score {found.site_score:.2f}); {summary}; {judged}")
        return True
