"""A machine stops cleanly with its executive: no task of it outlives the shutdown, whatever it was doing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fsw.mission.machine import MachineSpec, MissionMachine, StateSpec, machine_events, machine_telemetry
from fsw.mission.machine import TransitionSpec as T
from tests.fsw.harness import Harness
from tests.fsw.mission.conftest import quiet_start

# Flight time (afap) after which a shutdown that has not finished counts as hung.
SHUTDOWN_LIMIT_S = 60.0

CHILD = MachineSpec(
    name="child",
    initial="idle",
    states=(
        StateSpec("idle", "waiting for the parent", dormant=True),
        StateSpec("working", "a long task", 3_600.0),
        StateSpec("done", "finished", final=True),
        StateSpec("safe", "stopped", final=True),
    ),
    transitions=(
        T("begin", "idle", "working"),
        T("finish", "working", "done"),
        T("abort", "*", "safe"),
    ),
)

PARENT = MachineSpec(
    name="parent",
    initial="preparing",
    states=(
        StateSpec("preparing", "about to delegate", 3_600.0),
        StateSpec("delegating", "the child does the work", 3_600.0),
        StateSpec("finished", "the child is done", final=True),
        StateSpec("safe", "stopped", final=True),
    ),
    transitions=(
        T("ready", "preparing", "delegating"),
        T("child_done", "delegating", "finished"),
        T("abort", "*", "safe"),
    ),
)


class Child(MissionMachine):
    name = "child"
    spec = CHILD
    event_prefix = "CHILD"
    telemetry = machine_telemetry(CHILD)
    events = machine_events("CHILD", 0x7010)

    def on_safe(self, source: str, reason: str) -> None:
        pass


class Parent(MissionMachine):
    name = "parent"
    spec = PARENT
    event_prefix = "PARENT"
    telemetry = machine_telemetry(PARENT)
    events = machine_events("PARENT", 0x7000)

    def __init__(self, executive: Any, child: Child) -> None:
        super().__init__(executive)
        self.child = child

    def on_safe(self, source: str, reason: str) -> None:
        pass

    async def do_preparing(self) -> None:
        await self.fire("ready")

    async def do_delegating(self) -> None:
        await self.run_child(self.child, "done", "child_done")


def make(store: Path) -> tuple[Harness, Parent, Child]:
    harness = Harness(store)
    child = Child(harness.vehicle.ctx)
    parent = Parent(harness.vehicle.ctx, child)
    harness.vehicle.add(child)
    harness.vehicle.add(parent)
    return harness, parent, child


async def stop_and_collect_leftovers(harness: Harness, before_stop: Callable[[], None] = lambda: None) -> list[str]:
    """Stop the executive (``before_stop`` just before, in the same step); the names of machine tasks still
    pending after it returned (those are then cancelled here, so that a failure is reported rather than
    hanging the event loop's close)."""

    async def stop() -> None:
        before_stop()
        await harness.vehicle.stop("test over")

    await asyncio.wait_for(stop(), SHUTDOWN_LIMIT_S)
    leftovers = [task for task in asyncio.all_tasks()
                 if task is not asyncio.current_task() and not task.done()
                 and task.get_name().startswith(("parent-", "child-"))]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)
    return [task.get_name() for task in leftovers]


def test_a_machine_delegating_to_a_child_stops_within_the_shutdown(store: Path) -> None:
    harness, parent, _ = make(store)

    async def scenario(h: Harness) -> list[str]:
        await quiet_start(h.vehicle)
        while parent.state != "delegating":
            await parent.changed()
        # The parent's activity is now starting the child: shut down in the middle of that trigger.
        return await stop_and_collect_leftovers(h)

    assert harness.run(scenario, start=False) == []
    assert parent.state == "delegating"


def test_stop_cancels_whoever_waits_for_a_transition(store: Path) -> None:
    harness, _, child = make(store)

    async def scenario(h: Harness) -> tuple[list[str], bool]:
        await quiet_start(h.vehicle)
        while child.state != "working":
            await child.changed()
        watcher = asyncio.get_running_loop().create_task(child.changed())
        await asyncio.sleep(0)
        leftovers = await stop_and_collect_leftovers(h)
        await asyncio.wait({watcher}, timeout=SHUTDOWN_LIMIT_S)
        ended_cancelled = watcher.cancelled()
        watcher.cancel()
        return leftovers, ended_cancelled

    assert harness.run(scenario, start=False) == ([], True)
    assert child.state == "working"


def test_a_trigger_posted_just_before_shutdown_is_cancelled(store: Path) -> None:
    harness, parent, child = make(store)

    async def scenario(h: Harness) -> list[str]:
        await quiet_start(h.vehicle)
        while child.state != "working":
            await child.changed()
        # The parent is the first machine the executive stops: its posted trigger has not run yet.
        return await stop_and_collect_leftovers(h, lambda: parent.post("abort", "too late"))

    assert harness.run(scenario, start=False) == []
    assert parent.state == "delegating"  # the posted trigger was cancelled, not run after the stop
