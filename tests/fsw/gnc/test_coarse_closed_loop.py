"""Two-stage hazard avoidance flown by the flight software against the plant (seed 1): a broad hill
whose flank covers the ground about the target, where the navigation brings the lander to its hover.
The approach's coarse image moves the aim to gentle ground and the lander touches down safely; with
coarse avoidance off the hover's fine image finds nothing safe, the least-bad site is taken, and the
lander touches down on the flank. Judged from the plant's touchdown record."""

from __future__ import annotations

from hil.emulator.plant import PlantConfig
from hil.emulator.terrain import TerrainConfig
from hil.rigs.flight_descent import FlightOptions, fly

SEED = 1
_BASE = PlantConfig()
# The hill's crown 20 m crossrange of the target: seed 1's hover (~50 m from the target, the
# navigation's error) falls on its ~9-10 deg flank.
HILL_BY_THE_TARGET = PlantConfig(terrain=TerrainConfig(
    target_downrange_m=_BASE.target_downrange_m, crater_downrange_m=_BASE.crater_downrange_m,
    hill_offset_m=(0.0, 20.0)))


def _events(record: object, name: str) -> list[dict[str, object]]:
    return [fields for event, fields in record.events if event == name]  # type: ignore[attr-defined]


def test_coarse_avoidance_moves_the_aim_off_a_hill_flank_and_lands_safely_without_it_lands_on_the_flank() -> None:
    record = fly(SEED, plant_config=HILL_BY_THE_TARGET)
    td = record.touchdown
    assert td is not None and td.safe and td.hazards == (), td
    coarse = _events(record, "GNC_COARSE_SITE")
    assert [e["outcome"] for e in coarse] == ["site_selected"], coarse
    assert _events(record, "GNC_LANDING_SITE")[-1]["outcome"] in ("kept", "moved")

    # Negative control: the same descent with coarse avoidance off.
    control = fly(SEED, options=FlightOptions(parameters={"gnc_coarse_hazard_avoidance": False}),
                  plant_config=HILL_BY_THE_TARGET)
    assert [e["outcome"] for e in _events(control, "GNC_COARSE_SITE")] == ["avoidance_off"]
    assert _events(control, "GNC_LANDING_SITE")[-1]["outcome"] == "none safe"
    fine = [e for e in _events(control, "GNC_EVENT") if e["event"] == "no_safe_site"]
    assert fine and "least-bad site" in str(fine[-1]["detail"])
    td = control.touchdown
    assert td is not None and not td.safe and any("slope" in h for h in td.hazards), td
