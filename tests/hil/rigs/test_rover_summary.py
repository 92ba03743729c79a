"""The rover section of the run's summary: the flight's energy figure is compared with the plant's at
the same moment, and a disagreement is a problem."""

from dataclasses import replace

import pytest

from hil.emulator.rover import RockField, RoverPlantConfig
from hil.rigs.mission_run import ROVER_ROCK_FIELD, ROVER_WAYPOINTS
from hil.rigs.rover_summary import energy_at, energy_check, rover_summary
from hil.rigs.rover_traverse import run_traverse

# A plant that drew 25 Wh by its time 3600 s and ran on to 81.5 Wh by the end of the run.
HISTORY = [[0.0, 0.0], [1800.0, 20.0], [3600.0, 25.0], [11700.0, 81.5]]


def test_energy_at_interpolates_the_plants_record() -> None:
    assert energy_at(HISTORY, 0.0) == 0.0
    assert energy_at(HISTORY, 2700.0) == pytest.approx(22.5)
    assert energy_at(HISTORY, 11700.0) == 81.5
    assert energy_at(HISTORY, 11701.0) is None and energy_at([], 1.0) is None


def test_a_figure_taken_before_the_end_is_compared_with_the_plant_at_its_moment() -> None:
    truth = {"energy_history": HISTORY, "energy_used_wh": 81.5}
    summary = rover_summary({"energy_used_wh": 23.3, "energy_at_s": 3000.0}, truth, [])
    assert summary["energy_used_wh"] == pytest.approx(23.33, abs=0.01)
    assert summary["energy_used_wh_to_end"] == 81.5 and summary["energy_claimed_at_s"] == 3000.0
    assert not [problem for problem in summary["problems"] if "Wh" in problem or "energy" in problem]


@pytest.mark.parametrize("ground, expected", [
    ({"energy_used_wh": 30.0, "energy_at_s": 3000.0}, "claims 30.0 Wh drawn at 3000.0 s"),
    ({"energy_used_wh": 23.3}, "no energy figure with its moment"),
    ({"energy_used_wh": 23.3, "energy_at_s": 20000.0}, "outside the plant's record"),
])
def test_a_figure_that_disagrees_or_cannot_be_placed_is_a_problem(ground: dict[str, float], expected: str) -> None:
    _, problem = energy_check(ground, {"energy_history": HISTORY})
    assert problem is not None and expected in problem


def test_the_flights_energy_agrees_with_the_plants_at_the_same_moment_after_a_traverse() -> None:
    config = RoverPlantConfig()
    config.terrain = replace(config.terrain, fields=(RockField(*ROVER_ROCK_FIELD),))
    result = run_traverse(3, [(float(e), float(n), bool(s)) for e, n, s in ROVER_WAYPOINTS], 2400.0, config=config)
    hk = result.housekeeping
    ground = {"energy_used_wh": hk["rsurv_energy_used_wh"], "energy_at_s": hk["rsurv_energy_at_s"]}
    plant, problem = energy_check(ground, result.truth)
    assert problem is None and plant is not None
    assert abs(hk["rsurv_energy_used_wh"] - plant) < 0.1  # measured: 0.02 Wh
    # The same figure against the plant's at a later moment (a stale figure) would not agree.
    assert energy_check({**ground, "energy_at_s": hk["rsurv_energy_at_s"] - 600.0}, result.truth)[1] is not None


def test_a_rock_is_avoided_only_if_the_plant_saw_no_contact_and_the_path_kept_clear_of_it() -> None:
    path = [[3.0 + 0.5 * k, 0.0] for k in range(35)]  # straight east to (20, 0)
    kept_clear, hit, grazed = [10.0, 1.2, 0.3, 0.3], [15.0, 1.2, 0.3, 0.3], [12.0, 0.85, 0.3, 0.3]
    truth = {"path": path, "east_m": 20.0, "north_m": 0.0, "hazard_rocks": [kept_clear, hit, grazed],
             "collisions": [{"t": 100.0, "east_m": 15.0, "north_m": 1.2, "height_m": 0.3}]}
    summary = rover_summary({}, truth, [[20.0, 0.0, False]])
    assert summary["hazards_in_the_way"] == 3
    # The grazed rock's edge came within the plant's contact distance; the hit one is in its record.
    assert summary["hazards_avoided"] == 1
    assert "rover: ran into 1 rock(s)" in summary["problems"]
