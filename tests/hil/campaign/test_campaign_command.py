"""``ilrs-hil campaign`` flying the flight software: one real descent in the default run; the replay,
the 20-run campaign and a campaign on a scheduler and workers started by hand are ``slow``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hil.rigs.campaign.command import campaign_seeds
from hil.rigs.campaign.store import ResultsFile

REPO = Path(__file__).resolve().parents[3]


def campaign(*args: str, timeout: float = 3000.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hil.cli", "campaign", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def rows(folder: Path) -> list[dict[str, object]]:
    with ResultsFile(folder / "results.sqlite") as results:
        return results.rows()


def test_a_one_run_campaign_flies_the_flight_software_and_a_rerun_resumes(tmp_path: Path) -> None:
    out = campaign("--runs", "1", "--seed", "3", "--workers", "1", "--out", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1/1 succeeded" in out.stdout and "ETA" in out.stderr
    (row,) = rows(tmp_path)
    assert row["seed"] == campaign_seeds(3, 1)[0] and row["success"] and row["cause"] is None
    # By the plant: one burn, a touchdown on the site; the flight software's mission went on to the surface.
    assert row["ignitions"] == 1 and 0.0 < row["vertical_speed_m_s"] <= 3.6  # type: ignore[operator]
    assert row["mission_end"] == "surface_operations"
    for drawn in ("thrust_scale", "exhaust_velocity_m_s", "wet_mass_kg", "od_downrange_error_m", "boulders"):
        assert drawn in row
    assert row["propellant_remaining_kg"] > 0.0  # type: ignore[operator]
    report = (tmp_path / "campaign.md").read_text()
    assert "**1/1 succeeded**" in report and "CE-5 flight" in report
    assert (tmp_path / "touchdown.png").exists() and (tmp_path / "propellant.png").exists()
    again = campaign("--runs", "1", "--seed", "3", "--out", str(tmp_path))
    assert again.returncode == 0 and "flown now 0, already in the file 1" in again.stdout
    other = campaign("--runs", "1", "--seed", "4", "--out", str(tmp_path))
    assert other.returncode == 2 and "choose another --out" in other.stderr


@pytest.mark.slow
def test_a_replay_flies_the_same_run_with_its_telemetry(tmp_path: Path) -> None:
    out = campaign("--runs", "1", "--seed", "3", "--workers", "1", "--out", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    (row,) = rows(tmp_path)
    replayed = campaign("--replay", str(row["seed"]), "--out", str(tmp_path))
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    folder = tmp_path / f"replay-{row['seed']}"
    telemetry = json.loads((folder / "telemetry.json").read_text())
    same = {key: value for key, value in telemetry["row"].items() if key != "wall_s"}
    assert same == {key: value for key, value in row.items() if key not in ("wall_s", "worker", "attempts")}
    names = [event["name"] for event in telemetry["events"]]
    assert "DESCENT_OUTCOME" in names and "GNC_PHASE" in names
    samples = telemetry["gnc_housekeeping"]
    assert len(samples) > 500 and samples[-1]["t"] > samples[0]["t"] + 800.0  # every second of the descent
    assert (folder / "gnc.png").stat().st_size > 10_000 and "DESCENT_OUTCOME" in (folder / "replay.md").read_text()


@pytest.mark.slow
def test_twenty_run_campaign_succeeds_at_least_nineteen_times(tmp_path: Path) -> None:
    out = campaign("--runs", "20", "--seed", "7", "--workers", "2", "--out", str(tmp_path), timeout=7200.0)
    flown = rows(tmp_path)
    assert len(flown) == 20 and len({row["seed"] for row in flown}) == 20
    assert sum(bool(row["success"]) for row in flown) >= 19, out.stdout
    assert "/20 succeeded" in out.stdout


@pytest.fixture
def hand_started_cluster(tmp_path: Path) -> Iterator[str]:
    """``dask scheduler`` and two ``dask worker`` processes from the project's environment."""
    bin_dir = Path(sys.executable).parent
    address_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": REPO, "env": env}
    processes = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--port", "0", "--no-dashboard",
                                   "--scheduler-file", str(address_file)], **quiet)]  # type: ignore[call-overload]
    try:
        deadline = time.monotonic() + 60.0
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(address_file.read_text())["address"]
        processes += [subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nthreads", "1",
                                        "--no-dashboard"], **quiet) for _ in range(2)]  # type: ignore[call-overload]
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.slow
def test_a_campaign_runs_on_a_scheduler_and_workers_started_by_hand(tmp_path: Path, hand_started_cluster: str) -> None:
    out = campaign("--runs", "2", "--seed", "5", "--scheduler", hand_started_cluster, "--workers", "2",
                   "--out", str(tmp_path))
    assert "on 2 workers" in out.stdout, out.stdout + out.stderr
    flown = rows(tmp_path)
    assert [row["seed"] for row in flown] == sorted(campaign_seeds(5, 2))
    assert len({row["worker"] for row in flown}) == 2  # one run each
