"""The campaign engine's mechanics on Dask, with cheap run functions (tests/hil/campaign/cheap_runs.py):
the same table on 1 and 2 workers, a resume after an interruption, a killed worker's runs retried,
and a scheduler and worker started by hand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from distributed import LocalCluster

from hil.rigs.campaign.engine import run_campaign
from hil.rigs.campaign.store import ResultsFile
from tests.hil.campaign.cheap_runs import cheap, dies_once, records

REPO = Path(__file__).resolve().parents[3]
SEEDS = [11, 12, 13, 14]


@pytest.fixture(scope="module")
def one_worker() -> Iterator[str]:
    """A LocalCluster of one worker process, shared by the tests (a cluster takes seconds to start); its
    dashboard, and the other cluster's, on a free port (two at once would both want the default)."""
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def two_workers() -> Iterator[str]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def reference(one_worker: str, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[int, bool, str | None, str]]:
    """The cheap campaign's table, flown uninterrupted on one worker."""
    path = tmp_path_factory.mktemp("reference") / "results.sqlite"
    run_campaign(path, SEEDS, cheap, scheduler=one_worker, progress=None)
    return table(path)


def table(path: Path) -> list[tuple[int, bool, str | None, str]]:
    with ResultsFile(path) as results:
        return results.table()


def test_two_worker_processes_give_the_same_table_as_one(tmp_path: Path, one_worker: str, two_workers: str) -> None:
    one = run_campaign(tmp_path / "one.sqlite", SEEDS, cheap, scheduler=one_worker, progress=None)
    two = run_campaign(tmp_path / "two.sqlite", SEEDS, cheap, scheduler=two_workers, workers=2, progress=None)
    assert (one.workers, two.workers) == (1, 2)
    assert one.flown == two.flown == 4
    assert table(tmp_path / "one.sqlite") == table(tmp_path / "two.sqlite")
    assert [row[0] for row in table(tmp_path / "one.sqlite")] == SEEDS
    with ResultsFile(tmp_path / "two.sqlite") as results:  # both workers flew
        assert len({row["worker"] for row in results.rows()}) == 2


def test_an_interrupted_campaign_resumes_flying_only_the_missing_seeds(
        tmp_path: Path, one_worker: str, reference: list[tuple[int, bool, str | None, str]]) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "stop-after").write_text("2")
    results = tmp_path / "results.sqlite"
    # The campaign's own process, killed with its cluster once two rows are in the file.
    script = ("import sys; from functools import partial; from pathlib import Path\n"
              "from hil.rigs.campaign.engine import run_campaign\n"
              "from tests.hil.campaign.cheap_runs import stops_the_campaign\n"
              "if __name__ == '__main__':\n"
              f"    run_campaign(Path({str(results)!r}), {SEEDS}, partial(stops_the_campaign, Path({str(markers)!r})),"
              " workers=1, progress=None)\n")
    campaign = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, start_new_session=True,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 120.0
        while time.monotonic() < deadline and (not results.exists() or len(table(results)) < 2):
            assert campaign.poll() is None, "the campaign ended before it was interrupted"
            time.sleep(0.2)
    finally:
        os.killpg(campaign.pid, signal.SIGKILL)
        campaign.wait(30)
    kept = table(results)
    assert len(kept) == 2
    engine = run_campaign(results, SEEDS, partial(records, markers), scheduler=one_worker, progress=None)
    assert (engine.skipped, engine.flown) == (2, 2)
    resumed = sorted(int(path.name.split("-")[1]) for path in markers.glob("resumed-*"))
    assert resumed == sorted(set(SEEDS) - {row[0] for row in kept})  # only the missing seeds flew again
    final = table(results)
    assert [row[0] for row in final] == SEEDS and set(kept) <= set(final)  # the first rows kept as they were
    assert final == reference


def test_the_runs_of_a_killed_worker_are_flown_again(
        tmp_path: Path, two_workers: str, reference: list[tuple[int, bool, str | None, str]]) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    engine = run_campaign(tmp_path / "results.sqlite", SEEDS, partial(dies_once, markers), scheduler=two_workers,
                          workers=2, progress=None)
    assert engine.lost == [] and engine.flown == 4
    with ResultsFile(tmp_path / "results.sqlite") as results:
        rows = results.rows()
    assert [row["seed"] for row in rows] == SEEDS
    died = {int(path.name.split("-")[1]): path.read_text() for path in markers.glob("flown-*")}
    assert sorted(died) == [11, 13]
    for row in rows:  # the odd seeds' first worker died in them (os._exit); another process flew them
        assert row["worker"].split(":")[1] != died.get(row["seed"])
    assert table(tmp_path / "results.sqlite") == reference


def test_a_scheduler_and_worker_started_by_hand_run_the_campaign(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    address_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    scheduler = subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(address_file)], cwd=REPO, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.monotonic() + 60.0
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = __import__("json").loads(address_file.read_text())["address"]
        assert address.startswith("tcp://")
        worker = subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1",
                                   "--no-dashboard"], cwd=REPO, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        engine = run_campaign(tmp_path / "results.sqlite", SEEDS[:2], cheap, scheduler=address, workers=1,
                              progress=None)
        assert engine.flown == 2 and engine.workers == 1
        assert [row[0] for row in table(tmp_path / "results.sqlite")] == SEEDS[:2]
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()


@pytest.mark.parametrize("seeds", [[], [11]])
def test_nothing_to_fly_starts_no_cluster(tmp_path: Path, seeds: list[int]) -> None:
    with ResultsFile(tmp_path / "results.sqlite") as results:
        results.add(cheap(11))
    engine = run_campaign(tmp_path / "results.sqlite", seeds, cheap, workers=1, progress=None)
    assert engine.flown == 0 and engine.workers == 0
