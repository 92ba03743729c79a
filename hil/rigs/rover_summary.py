"""The rover's section of ``make run``'s summary: what the ground heard from the rover, checked against
the rover plant's truth (its path, its rocks, its camera's own record)."""

from __future__ import annotations

import itertools
import math
from typing import Any

from hil.emulator.rover.plant import ROCK_CONTACT_M

MIN_TRAVERSE_M = 50.0
MIN_WAYPOINTS = 3
REACHED_WITHIN_M = 2.5  # the planner may stop short of a waypoint that sits on a hazard (GOAL_SLACK_M)
NEAR_ROUTE_M = 1.0  # a hazard this close to the straight route (plus its radius) was in the way
# The flight's energy figure against the plant's at the same moment: the flight integrates the power
# device's load reading once a cycle (1 Hz awake, once a minute hibernating), the plant every step,
# and the plant's record is kept every 10 s (a load change inside one costs at most ~0.2 Wh).
ENERGY_TOLERANCE_WH = 0.5
ENERGY_TOLERANCE_FRACTION = 0.02
# Figures read at a moment of the ground's choosing (its last housekeeping request, its ROVER_PARK,
# after which the rover's time stands still), while the done rover's time runs on until then: they
# differ between two seeded runs by design.
AT_THE_GROUNDS_MOMENT = ("energy_used_wh", "energy_used_wh_claimed", "energy_claimed_at_s", "energy_used_wh_to_end",
                         "battery_wh")


def _segment_distance(point: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    f = 0.0 if length == 0 else max(0.0, min(1.0, ((point[0] - ax) * dx + (point[1] - ay) * dy) / length))
    return math.hypot(point[0] - (ax + f * dx), point[1] - (ay + f * dy))


def energy_at(history: list[list[float]], t: float) -> float | None:
    """The plant's energy drawn [Wh] at its time ``t`` [s], between the two records either side."""
    if not history or t < history[0][0] or t > history[-1][0]:
        return None
    for (t0, e0), (t1, e1) in itertools.pairwise(history):
        if t0 <= t <= t1:
            return e0 if t1 == t0 else e0 + (e1 - e0) * (t - t0) / (t1 - t0)
    return float(history[-1][1])


def energy_check(ground: dict[str, Any], truth: dict[str, Any]) -> tuple[float | None, str | None]:
    """The plant's energy at the moment of the ground's last figure (the ground hears the rover until
    its traverse is done, the plant runs to the end of the mission), and the problem when they differ."""
    claimed, at = ground.get("energy_used_wh"), ground.get("energy_at_s")
    if claimed is None or at is None:
        return None, "rover: no energy figure with its moment came down"
    plant = energy_at(truth.get("energy_history", []), float(at))
    if plant is None:
        return None, f"rover: the energy figure at {at} s is outside the plant's record"
    if abs(float(claimed) - plant) > ENERGY_TOLERANCE_WH + ENERGY_TOLERANCE_FRACTION * plant:
        return plant, f"rover: claims {claimed} Wh drawn at {at} s, the plant drew {plant:.2f} Wh"
    return plant, None


def rover_summary(ground: dict[str, Any] | None, truth: dict[str, Any],
                  waypoints: list[list[Any]]) -> dict[str, Any]:
    ground = ground or {}
    path = [tuple(point) for point in truth.get("path", [])] + [(truth.get("east_m", 0.0), truth.get("north_m", 0.0))]
    route = [path[0], *[(float(w[0]), float(w[1])) for w in waypoints]] if path else []
    reached = [any(math.dist(point, (w[0], w[1])) <= REACHED_WITHIN_M for point in path) for w in waypoints]
    in_the_way = [rock for rock in truth.get("hazard_rocks", [])
                  if any(_segment_distance((rock[0], rock[1]), a, b) <= rock[2] + NEAR_ROUTE_M
                         for a, b in itertools.pairwise(route))]
    # Avoided: no contact in the plant's record, and the path kept the rock's edge beyond the plant's
    # contact distance.
    hit = {(collision["east_m"], collision["north_m"]) for collision in truth.get("collisions", [])}
    avoided = [rock for rock in in_the_way if (rock[0], rock[1]) not in hit
               and min(math.dist((rock[0], rock[1]), point) for point in path) > rock[2] + ROCK_CONTACT_M]
    products_truth = {shot["sha256"] for shot in truth.get("pancam", [])}
    products_ground = set((ground.get("products") or {}).values())
    claimed = ground.get("position_m") or [None, None]
    error = (math.dist((claimed[0], claimed[1]), (truth.get("east_m", 0.0), truth.get("north_m", 0.0)))
             if None not in claimed else None)
    problems = []
    if not ground or ground.get("failed"):
        problems.append(f"rover: no traverse reported ({ground.get('failed', 'no ground view')})")
    if truth.get("collisions"):
        problems.append(f"rover: ran into {len(truth['collisions'])} rock(s)")
    if truth.get("distance_m", 0.0) < MIN_TRAVERSE_M:
        problems.append(f"rover: drove {truth.get('distance_m', 0.0):.1f} m, under {MIN_TRAVERSE_M:.0f} m")
    if sum(reached) < MIN_WAYPOINTS:
        problems.append(f"rover: {sum(reached)} waypoints reached in the plant, not {MIN_WAYPOINTS}")
    if ground and ground.get("reached") is not None and ground["reached"] != sum(reached):
        problems.append(f"rover: claims {ground['reached']} waypoints, the plant saw {sum(reached)}")
    if not avoided:
        problems.append("rover: no hazard in the way was avoided")
    if not products_truth or products_truth != products_ground:
        problems.append("rover: the downlinked product does not match the camera's record")
    if truth.get("dead"):
        problems.append(f"rover: lost ({truth['dead']})")
    energy, energy_problem = energy_check(ground, truth) if ground and not ground.get("failed") else (None, None)
    if energy_problem:
        problems.append(energy_problem)
    return {
        "distance_m": round(truth.get("distance_m", 0.0), 1), "odometer_m": ground.get("odometer_m"),
        "waypoints_reached": sum(reached), "waypoints_reached_claimed": ground.get("reached"),
        "hazards_seen": ground.get("hazards_seen"), "hazards_in_the_way": len(in_the_way),
        "hazards_avoided": len(avoided), "replans": ground.get("replans"),
        "collisions": len(truth.get("collisions", [])),
        # Like with like: the plant's energy at the moment of the flight's figure the ground last heard;
        # the plant's to the end of the run (the rover stays awake after its traverse) apart.
        "energy_used_wh": round(energy, 2) if energy is not None else None,
        "energy_used_wh_claimed": ground.get("energy_used_wh"), "energy_claimed_at_s": ground.get("energy_at_s"),
        "energy_used_wh_to_end": round(truth.get("energy_used_wh", 0.0), 1),
        "battery_wh": round(truth.get("battery_wh", 0.0), 1),
        "state": ground.get("state"), "position_m": [round(truth.get("east_m", 0.0), 2),
                                                      round(truth.get("north_m", 0.0), 2)],
        "position_error_m": round(error, 2) if error is not None else None,
        "products_downlinked": len(products_truth & products_ground), "tm_dropped": ground.get("tm_dropped"),
        "problems": problems,
    }
