"""The plant process dies in powered flight, with real processes (link bridge, plant, flight software
on the afap clock, a ground reader): the flight software reports the dead bus, goes SAFE, keeps talking
to the ground, stays alive, logs no traceback. Negative control in the same test: the same kill with
the fault response off (``fdir_bus_safe=false``) gives no SAFE."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsw.devices.bus import LINK_LOST
from hil.rigs.plant_death import check_hang, check_negative_control, check_plant_death, fly_plant_death


def test_the_plant_process_dies_in_main_braking(tmp_path: Path) -> None:
    responded = fly_plant_death(1, respond=True, run_dir=tmp_path / "respond")
    assert check_plant_death(responded) == [], responded.outcome() + "\n" + responded.log[-3000:]
    assert responded.dead[0]["reason"] == LINK_LOST and "SAFE" in responded.dead[0]["response"]
    assert responded.safe_after_s is not None and responded.safe_after_s < 1.0

    unprotected = fly_plant_death(1, respond=False, run_dir=tmp_path / "unprotected")
    assert check_negative_control(unprotected) == [], unprotected.outcome()
    assert unprotected.dead and unprotected.safe_after_s is None  # reported, but nothing done: no SAFE


@pytest.mark.slow
def test_a_hung_plant_times_out_on_wall_time_and_its_engine_is_safed_when_it_answers_again(tmp_path: Path) -> None:
    hung = fly_plant_death(1, respond=True, run_dir=tmp_path, fault="hang")
    assert check_hang(hung) == [], hung.outcome() + "\n" + hung.log[-3000:]
    assert hung.truth["repeats"] >= 1  # the flight side's retries reached the plant, answered from its last reply
