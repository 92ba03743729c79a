"""Health: a stalled task is reported and starves the watchdog, which bites; a healthy run is left alone."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from fsw.app import FlightConfig, attach_watchdog
from fsw.cli import main
from fsw.core.errors import CommandFailed
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from hil.watchdog import EmulatedWatchdog
from tests.fsw.harness import Harness


def test_stalled_task_is_reported_and_the_watchdog_bites(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db", mode="realtime")
    record = tmp_path / "s.db.watchdog.json"

    async def scenario(h: Harness) -> None:
        loop = asyncio.get_running_loop()
        bitten = asyncio.Event()
        watchdog = EmulatedWatchdog(record, on_bite=lambda: loop.call_soon_threadsafe(bitten.set), poll_s=0.01)
        h.vehicle.health_service.use_watchdog(watchdog, 1.0)
        await h.vehicle.start()
        beats = asyncio.Event()

        async def worker() -> None:  # a periodic task that stops beating when told to
            while not beats.is_set():
                h.vehicle.health.beat("worker")
                await asyncio.sleep(0.05)
            await asyncio.Event().wait()

        h.vehicle.health.watch("worker", 0.4)
        task = loop.create_task(worker())
        await asyncio.sleep(0.5)
        assert h.vehicle.health_service.strokes > 0 and not bitten.is_set()
        beats.set()
        await asyncio.wait_for(bitten.wait(), 10.0)
        task.cancel()
        names = [name for name, _ in h.events()]
        assert ("TASK_STALLED", "worker") in [(n, a.get("task")) for n, a in h.events()]
        assert "WATCHDOG_WITHHELD" in names
        hk = h.vehicle.health_service.housekeeping()
        assert hk["health_stalled"] == 1 and hk["health_stalls"] == 1 and hk["watchdog_withheld"] > 0
        assert json.loads(record.read_text())["bites"] == 1

    h.run(scenario, start=False)
    # The next boot reports the reset, once.
    h.store.close()
    again = Harness(tmp_path / "s.db")
    again.vehicle.health_service.use_watchdog(EmulatedWatchdog(record, on_bite=lambda: None), 30.0)

    async def reboot(h: Harness) -> None:
        await h.clock.sleep(1.0)
        assert [a for n, a in h.events() if n == "WATCHDOG_RESET"] == [{"bites": 1}]
        assert h.vehicle.health_service.housekeeping()["watchdog_bites"] == 1

    again.run(reboot)


def test_healthy_afap_run_strokes_and_is_not_bitten(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")
    bites: list[int] = []
    watchdog = EmulatedWatchdog(None, on_bite=lambda: bites.append(1), poll_s=0.01)
    h.vehicle.health_service.use_watchdog(watchdog, 2.0)

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(600.0)  # ten minutes of flight time, far less wall time
        hk = h.vehicle.health_service.housekeeping()
        assert hk["watchdog_armed"] and hk["health_stalled"] == 0
        assert hk["watchdog_strokes"] >= 5900
        assert watchdog.running

    h.run(scenario)
    assert bites == [] and not watchdog.running  # stopped with the executive


def test_stall_is_detected_within_its_limit_plus_one_check(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        h.vehicle.health.watch("worker", 2.0)
        start = h.clock.onboard_time()
        await h.clock.sleep(5.0)
        stalls = [tm.time for tm in h.tm if tm.service == 5 and appdata.decode(tm.source_data)[0] == 0x0005]
        assert len(stalls) == 1
        assert 2.0 < stalls[0] - start <= 2.0 + 0.1 + 1e-3
        assert h.hk(12)[-1]["health_stalled"] == 1

    h.run(scenario)


def test_latch_fires_once_across_a_restart(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")
    h.vehicle.latches.fire("descent_pyro")
    with pytest.raises(CommandFailed) as refused:
        h.vehicle.latches.fire("descent_pyro")
    assert refused.value.code == FailureCode.ALREADY_FIRED
    # No clean shutdown: the latch was on disk before fire() returned.
    again = Harness(tmp_path / "s.db")
    assert again.vehicle.latches.is_fired("descent_pyro")
    with pytest.raises(CommandFailed):
        again.vehicle.latches.fire("descent_pyro")
    again.vehicle.latches.fire("ascent_ignition")
    assert sorted(again.vehicle.latches.fired) == ["ascent_ignition", "descent_pyro"]


@pytest.mark.parametrize(("mode", "kind", "timeout"), [
    ("realtime", EmulatedWatchdog, 3.0), ("afap", EmulatedWatchdog, 30.0), ("scaled:0.5", EmulatedWatchdog, 6.0),
    ("scaled:4", EmulatedWatchdog, 3.0),
])
def test_watchdog_timeout_is_scaled_to_wall_time(tmp_path: Path, mode: str, kind: type, timeout: float) -> None:
    store = tmp_path / "s.db"
    h = Harness(store, mode=mode)
    attach_watchdog(h.vehicle, FlightConfig(port="loop://", store=store, watchdog="emulator"), h.clock)
    service = h.vehicle.health_service
    assert isinstance(service.watchdog, kind) and service.watchdog_timeout_s == timeout
    assert service.watchdog.record_path == Path(f"{store}.watchdog.json")
    none = Harness(tmp_path / "t.db")
    attach_watchdog(none.vehicle, FlightConfig(port="loop://", watchdog="none"), none.clock)
    assert none.vehicle.health_service.watchdog is None


def test_run_refuses_a_watchdog_timeout_that_is_not_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--port", "loop://", "--watchdog-timeout", "0"]) == 2
    assert "watchdog timeout" in capsys.readouterr().err
