"""Coarse hazard avoidance: the approach's wide elevation image, judged for a safe *region*.

CE-3/4/5 avoid hazards in two stages (Zhang Honghua et al., "Guidance navigation and control for
Chang'E-5 powered descent", Space: Science & Technology 2021; the CE-3 GNC papers): in the approach at
~2 km the optical camera's wide image picks a region free of large slopes, craters and mounds; at the
~100 m hover the laser imager's fine image picks the footprint within it. The fine image covers only
~48 m and the hover can divert ~20 m, so a hover that arrives over a mound's flank (the navigation
brings the lander there 50-150 m from its target) finds nothing safe: the coarse stage moves the
approach's aim to ground the fine stage can use.

The judgement is :class:`fsw.gnc.hazard.HazardJudgement` with a coarse configuration, a step per
approach cycle: the "footprint" is a
region about the fine image's half-size, the "dispersion" the room the fine stage needs about it, the
bump and pit limits read mounds and crater floors at the coarse cell size (boulders are below it).
The image is re-centred on the aim so the chosen region is the best-scored one (distance weighing
most) within ``max_divert_m`` of the aim. Pure and sans-IO.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from fsw.core.declarations import EventDef, ParameterDef, Severity, TelemetryDef
from fsw.devices.descent import ElevationImageReading
from fsw.gnc.hazard import HazardAssessment, HazardConfig, HazardJudgement

#: [est.] thresholds for a ~9.5 m cell image with ~0.3 m height noise (figures in docs/gnc.md).
COARSE_CONFIG = HazardConfig(
    footprint_radius_m=9.0,  # plane over 3 x 3 cells (~28 m): the slope the fine stage's image will see
    landing_dispersion_m=15.0,  # good ground within ~2 cells (~19 m) of the region's centre: the fine image's reach
    bump_limit_m=1.2,  # a mound's crown or a rim 1.2 m above the ~28 m plane (4 sigma of the noise)
    pit_limit_m=1.2,  # a crater floor as far below it
    slope_limit_deg=8.0,
    slope_margin_deg=3.0,  # a ~28 m plane reads a mound's flank flatter than the legs' 5 m find it
    roughness_limit_m=0.6,
    max_unknown_fraction=0.25,
    nearby_radius_factor=3.0,
    max_divert_m=200.0,  # [est.] the approach's bounded retarget
    divert_time_s=60.0,
    distance_weight=1.0,  # the nearest good region: distance weighs as much as the whole safety score
    propellant_weight=0.0,  # the approach flies to the aim anyway; a shift of 200 m costs little
)


@dataclass(frozen=True)
class CoarseChoice:
    """The coarse stage's verdict. ``shift``: where the new aim lies from the old one (downrange,
    crossrange), metres ((0, 0): the aim is kept)."""

    assessment: HazardAssessment | None
    shift: tuple[float, float]
    outcome: str  # "kept" (aim region safe), "moved", "none safe" (aim kept), "invalid" (aim kept)
    detail: str


INVALID = "coarse image invalid; keeping the aim"


def judge_coarse(reading: ElevationImageReading, aim_offset: tuple[float, float], mass_kg: float,
                 config: HazardConfig = COARSE_CONFIG) -> CoarseChoice:
    """Judge a coarse image at once; ``aim_offset``: the aim from the point under the lander when the
    image was taken (downrange, crossrange), metres."""
    judgement = coarse_judgement(reading, aim_offset, mass_kg, config)
    return CoarseChoice(None, (0.0, 0.0), "invalid", INVALID) if judgement is None else \
        coarse_choice(judgement.run())


def coarse_judgement(reading: ElevationImageReading, aim_offset: tuple[float, float], mass_kg: float,
                     config: HazardConfig = COARSE_CONFIG) -> HazardJudgement | None:
    """The judgement of a coarse image re-centred on the aim (None: the image is unusable)."""
    if not reading.valid or reading.rows * reading.cols <= 0 or reading.cell_m <= 0.0:
        return None
    # Re-centre on the aim: the divert reach and the distance cost then count from it.
    centred = replace(reading, origin_downrange_m=reading.origin_downrange_m - aim_offset[0],
                      origin_crossrange_m=reading.origin_crossrange_m - aim_offset[1])
    return HazardJudgement(centred, (0.0, 0.0), mass_kg, config)


def coarse_choice(judgement: HazardJudgement) -> CoarseChoice:
    """The verdict of a complete coarse judgement."""
    found = judgement.assessment()
    summary = f"{found.hazard_cells} hazard, {found.unknown_cells} unknown, {found.unsafe_sites} unsafe cells"
    if found.target_safe:
        return CoarseChoice(found, (0.0, 0.0), "kept", f"aim region safe; {summary}")
    if found.site is None:
        return CoarseChoice(found, (0.0, 0.0), "none safe", f"{found.reason}; {summary}; keeping the aim")
    shift = found.site
    return CoarseChoice(found, shift, "moved", f"aim moved {math.hypot(*shift):.0f} m to ({shift[0]:.0f}, "
                        f"{shift[1]:.0f}) m, score {found.site_score:.2f}; {summary}")


@dataclass
class CoarseStage:
    """The approach's one coarse image: asked for at the approach's entry, judged when it comes."""

    enabled: bool = True  # off only for a negative control: the aim is kept unjudged
    wait_s: float = 5.0  # an image not back by then is given up: the aim is kept
    choice: CoarseChoice | None = None  # the verdict (None: not reached yet)
    requested_t: float | None = None
    reading: ElevationImageReading | None = field(default=None, repr=False)
    judging: HazardJudgement | None = field(default=None, repr=False)  # the image's judgement under way

    def look(self, aim_offset: tuple[float, float]) -> tuple[float, float] | None:
        """Where to point the coarse image while it is awaited (None: not awaited)."""
        awaited = self.choice is None and self.judging is None and self.requested_t is not None
        return aim_offset if awaited else None

    def step(self, t: float, nav_t: float, aim_offset: tuple[float, float], velocity: tuple[float, float],
             mass_kg: float) -> tuple[tuple[float, float] | None, list[tuple[str, str]]]:
        """One approach cycle: the aim's move (None: kept) and the guidance events to report.
        ``aim_offset``: the aim from the lander now; ``velocity``: its ground velocity (downrange, crossrange)."""
        if self.choice is not None:
            return None, []
        if self.requested_t is None:
            self.requested_t = t
            return None, [("coarse_scan_requested", f"aim {math.hypot(*aim_offset):.0f} m ahead")]
        if self.judging is not None:  # a step of the judgement under way each cycle
            if not self.judging.step():
                return None, []
            self.choice, self.judging = coarse_choice(self.judging), None
            return self._verdict(self.choice)
        reading, self.reading = self.reading, None
        if reading is None:
            if t - self.requested_t <= self.wait_s:
                return None, []
            self.choice = CoarseChoice(None, (0.0, 0.0), "missing", "no coarse image; keeping the aim")
            return None, [("coarse_aim_kept", self.choice.detail)]
        if not self.enabled:
            self.choice = CoarseChoice(None, (0.0, 0.0), "off", "coarse avoidance off; keeping the aim unjudged")
            return None, [("coarse_avoidance_off", self.choice.detail)]
        # The aim from where the lander was at the image's time tag (it flew on while the image came back).
        age = max(0.0, nav_t - reading.t)
        aim = (aim_offset[0] + velocity[0] * age, aim_offset[1] + velocity[1] * age)
        self.judging = coarse_judgement(reading, aim, mass_kg)
        if self.judging is None:
            self.choice = CoarseChoice(None, (0.0, 0.0), "invalid", INVALID)
            return self._verdict(self.choice)
        # The verdict is a shift of the aim: it holds however many cycles the judgement takes.
        return self.step(t, nav_t, aim_offset, velocity, mass_kg)

    @staticmethod
    def _verdict(choice: CoarseChoice) -> tuple[tuple[float, float] | None, list[tuple[str, str]]]:
        if choice.outcome == "moved":
            return choice.shift, [("coarse_site_selected", choice.detail)]
        return None, [("coarse_aim_kept", f"{choice.outcome}: {choice.detail}")]


# Guidance events reported as COARSE_SITE_EVENT (outcome, detail).
COARSE_OUTCOME_EVENTS = ("coarse_site_selected", "coarse_aim_kept", "coarse_avoidance_off")
COARSE_EVENTS = (
    EventDef(0x3031, "GNC_COARSE_SITE", Severity.LOW,
             "approach coarse hazard avoidance, region {outcome}: {detail}"),
)
COARSE_PARAMETERS = (
    ParameterDef(0x3031, "gnc_coarse_hazard_avoidance", "bool", True,
                 "judge the approach's coarse elevation image and move the aim to the nearest safe region (at "
                 "most 200 m); false: the approach keeps its aim unjudged (the hover's fine stage still runs)"),
)
COARSE_TELEMETRY = (
    TelemetryDef("gnc_coarse_shift_m", "f64", "m", "how far the approach's coarse hazard avoidance moved the aim "
                 "(0: kept)"),
)
