"""Supervised tasks: a long-lived task that dies is reported with its name and exception type,
counted, and started again after a backoff; one that must not restart is given up and its owner told.
The housekeeping task is made to die in a vehicle; negative control: the same death unsupervised
(no restart) stops housekeeping for good."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from fsw.clock import Clock, run
from fsw.core.tasks import BACKOFF_FIRST_S, MAX_RESTARTS, TaskSupervisor
from tests.fsw.harness import Harness

DEATH_AT_S = 3.0


def kill_housekeeping_once(harness: Harness, restart: bool) -> None:
    """At DEATH_AT_S the housekeeping loop raises once (a bug in a report's collection)."""
    housekeeping = harness.vehicle.housekeeping
    original = housekeeping.report
    died: list[bool] = []

    def report(sid: int) -> None:
        if not died and harness.clock.monotonic() >= DEATH_AT_S:
            died.append(True)
            raise RuntimeError("injected fault")
        original(sid)

    housekeeping.report = report  # type: ignore[method-assign]
    if not restart:  # what a bare create_task gave: the task dies and nothing starts it again
        spawn = harness.vehicle.ctx.tasks.spawn
        harness.vehicle.ctx.tasks.spawn = (  # type: ignore[method-assign]
            lambda name, factory, **options: spawn(name, factory, **{**options, "restart": False}))


def run_ten_seconds(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        await h.clock.sleep(10.0)

    harness.run(scenario)


def report_times(harness: Harness) -> list[float]:
    return [values["uptime_s"] for values in harness.hk(1)]


def test_a_housekeeping_task_that_dies_is_reported_and_restarted(tmp_path: Path) -> None:
    harness = Harness(tmp_path / "store.sqlite")
    kill_housekeeping_once(harness, restart=True)
    run_ten_seconds(harness)
    died = [args for name, args in harness.events() if name == "TASK_DIED"]
    assert died == [{"task": "housekeeping", "error": "RuntimeError", "detail": "injected fault",
                     "action": f"restart in {BACKOFF_FIRST_S:g} s"}]
    assert [args["task"] for name, args in harness.events() if name == "TASK_RESTARTED"] == ["housekeeping"]
    times = report_times(harness)
    assert max(times) >= 9.0  # housekeeping goes on after its restart
    last = harness.hk(1)[-1]
    assert last["tasks_died"] == 1 and last["tasks_restarted"] == 1


def test_negative_control_the_same_death_unsupervised_stops_housekeeping(tmp_path: Path) -> None:
    harness = Harness(tmp_path / "store.sqlite")
    kill_housekeeping_once(harness, restart=False)
    run_ten_seconds(harness)
    assert max(report_times(harness)) < DEATH_AT_S  # no report after the death: ten seconds of silence
    died = [args for name, args in harness.events() if name == "TASK_DIED"]
    assert died[0]["action"] == "given up"


def test_a_task_that_keeps_dying_backs_off_and_is_given_up_with_its_owner_told() -> None:
    clock = Clock("afap")
    events: list[tuple[str, dict[str, Any]]] = []
    supervisor = TaskSupervisor(clock, lambda name, **args: events.append((name, args)))
    starts: list[float] = []
    given_up: list[str] = []

    async def always_dies() -> None:
        starts.append(clock.monotonic())
        raise ValueError("broken")

    async def scenario() -> None:
        await supervisor.spawn("fragile", always_dies, on_give_up=given_up.append)

    run(scenario(), clock)
    gaps = [later - earlier for earlier, later in pairwise(starts)]
    assert gaps[:7] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0] and max(gaps) == 60.0
    assert len(starts) == MAX_RESTARTS + 1 and supervisor.deaths == MAX_RESTARTS + 1
    assert given_up == ["ValueError: broken"]
    assert events[-1][1]["action"] == f"given up after {MAX_RESTARTS} restarts"
