"""What one campaign run flies, per segment, and the row it leaves: plain values read from the truth.

``descent`` (the default) is the flight software's powered descent (:func:`hil.rigs.flight_descent.fly`:
executive, topology, GNC component and device bus on the afap clock) against a plant dispersed by
the run's seed (:mod:`.dispersions`). ``mission``, ``ascent`` and ``surface`` fly the whole mission
rig of ``make run`` (flight, plant and ground as processes over ptys); ``ascent`` and ``surface``
judge their part of it, since no rig flies those segments of the flight software on their own. The
mission rig's plant takes the run seed but not the campaign's dispersion table.

A run function takes a seed and returns a row: ``seed``, ``success``, ``cause`` (None on success:
the first way it went wrong, by the plant's truth) and figures; ``wall_s`` is the only value that
differs between two flights of the same seed.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from hil.emulator.plant import PlantConfig
from hil.plant_process import LanderWorld
from hil.rigs.campaign.dispersions import plant_config, realised
from hil.rigs.flight_descent import DescentRecord, FlightOptions, fly

Row = dict[str, Any]
RunFunction = Callable[[int], Row]
FALSE_TOUCHDOWN_M = 5.0  # guidance sure of a touchdown this high above the ground is a false touchdown
WALL_COLUMNS = ("wall_s",)


def quiet_flight_logs() -> None:
    """Hundreds of flights in one worker: only the flight software's errors reach its console."""
    logging.getLogger("fsw").setLevel(logging.ERROR)


def descent_cause(record: DescentRecord) -> str | None:
    """How a descent failed, by the plant's truth first (None: one burn, a safe touchdown on the site,
    and guidance reported the landing)."""
    td = record.touchdown
    if td is None:
        return "no touchdown, engine fired" if record.engine_fired else "held in orbit (no-go)"
    if td.hazards:
        return "hazard under the footprint"
    if td.vertical_speed_m_s > 3.6:
        return "vertical speed over the limit"
    if td.horizontal_speed_m_s > 1.0:
        return "horizontal speed over the limit"
    if td.tilt_deg > 8.0:
        return "tilt over the limit"
    if not record.in_ellipse:
        return "outside the landing ellipse"
    if record.ignitions != 1:
        return "main engine started more than once"
    if record.height_when_guidance_landed_m is not None and record.height_when_guidance_landed_m > FALSE_TOUCHDOWN_M:
        return "false touchdown"
    if record.outcomes != ["landed"]:
        return f"guidance reported {record.outcomes or 'nothing'}"
    return None


def descent_row(record: DescentRecord, drawn: Mapping[str, Any], target: tuple[float, float],
                propellant_kg: float) -> Row:
    td = record.touchdown
    cause = descent_cause(record)
    row: Row = {"seed": record.seed, "success": cause is None, "cause": cause,
                "ignitions": record.ignitions, "propellant_used_kg": record.propellant_used_kg,
                "propellant_remaining_kg": propellant_kg - record.propellant_used_kg,
                "mission_end": record.mission_states[-1] if record.mission_states else None}
    if td is not None:
        row.update({
            "vertical_speed_m_s": td.vertical_speed_m_s, "horizontal_speed_m_s": td.horizontal_speed_m_s,
            "tilt_deg": td.tilt_deg, "ground_slope_deg": td.ground_slope_deg, "hazards": ",".join(td.hazards),
            "downrange_error_m": td.downrange_m - target[0], "crossrange_error_m": td.crossrange_m - target[1],
            "landing_error_m": td.landing_error_m,
            "duration_s": td.t - record.ignition_t if record.ignition_t is not None else None,
        })
    row.update(drawn)
    row["wall_s"] = record.wall_s
    return row


def fly_descent(seed: int, faults: Mapping[str, Any] | None = None, options: FlightOptions | None = None, *,
                dispersed: bool = True, on_telemetry: Callable[[bytes], None] | None = None,
                on_world: Callable[[LanderWorld], None] | None = None) -> tuple[DescentRecord, Row]:
    """One descent of the flight software: the campaign's draw for ``seed`` (``dispersed``; else the
    plant's nominal spreads), with ``faults`` injected and flown with ``options``."""
    config = plant_config(seed) if dispersed else PlantConfig()
    drawn: dict[str, Any] = {}

    def look(world: LanderWorld) -> None:
        drawn.update(realised(world))
        if on_world is not None:
            on_world(world)

    record = fly(seed, faults, options, plant_config=config, on_world=look, on_telemetry=on_telemetry)
    return record, descent_row(record, drawn, (config.target_downrange_m, config.target_crossrange_m),
                               config.propellant_kg)


def descent(seed: int) -> Row:
    """The default segment's run function."""
    quiet_flight_logs()
    return fly_descent(seed)[1]


# --- the mission rig -----------------------------------------------------------------------------
MISSION_TIMEOUT_S = 900.0


def _finite(value: Any) -> Any:
    return value if not isinstance(value, float) or math.isfinite(value) else None


def mission(seed: int, part: str = "mission") -> Row:
    """The whole ``make run`` rig for ``seed``; ``part`` judges the mission, its ascent or its surface."""
    from hil.rigs import mission_run

    with tempfile.TemporaryDirectory(prefix="ilrs-campaign-mission-") as folder:
        summary = mission_run.fly(Path(folder), seed, None, MISSION_TIMEOUT_S)
    outcome = str(summary.get("outcome"))
    periapsis, apoapsis = (summary.get("ascent_orbit_km") or [None, None])[:2]
    if part == "ascent":
        in_orbit = periapsis is not None and periapsis >= mission_run.MIN_ORBIT_PERIAPSIS_KM
        cause = None if in_orbit and summary.get("docked") else (
            "ascender not in lunar orbit" if not in_orbit else "not docked")
    elif part == "surface":
        cause = None if summary.get("sample_mass_g") else "no sample aboard"
    else:
        cause = None if outcome == "success" else outcome
    row: Row = {"seed": seed, "success": cause is None, "cause": cause, "mission_outcome": outcome,
                "vertical_speed_m_s": summary.get("touchdown_vertical_speed_mps"),
                "horizontal_speed_m_s": summary.get("touchdown_horizontal_speed_mps"),
                "tilt_deg": summary.get("touchdown_tilt_deg"), "landing_error_m": summary.get("landing_error_m"),
                "propellant_used_kg": summary.get("propellant_used_kg"),
                "sample_mass_g": summary.get("sample_mass_g"), "periapsis_km": periapsis, "apoapsis_km": apoapsis,
                "docked": summary.get("docked"), "returned": summary.get("returned"),
                "wall_s": summary.get("wall_time_s")}
    return {key: _finite(value) for key, value in row.items()}


SEGMENTS: dict[str, RunFunction] = {
    "descent": descent,
    "ascent": partial(mission, part="ascent"),
    "surface": partial(mission, part="surface"),
    "mission": mission,
}
