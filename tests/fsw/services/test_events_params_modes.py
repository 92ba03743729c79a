from pathlib import Path

from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from tests.fsw.harness import Harness

OK = ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]


def test_boot_and_mode_changes_are_events(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(0.1)
        assert await h.submit(h.command("MODE_SET", "NOMINAL")) == OK
        names = [name for name, _ in h.events()]
        assert names[:3] == ["BOOT", "UNAUTHENTICATED", "MODE_CHANGED"]
        assert ("MODE_CHANGED", {"old": "SAFE", "new": "NOMINAL", "reason": "commanded"}) in h.events()
        severities = {tm.subtype for tm in h.tm if tm.service == 5}
        assert {1, 2, 4} <= severities  # info BOOT, low MODE_CHANGED, high UNAUTHENTICATED

    h.run(scenario)


def test_disabled_event_is_not_reported_but_kept_in_the_log(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        mode_changed = h.vehicle.events.by_name["MODE_CHANGED"].id
        assert await h.submit(h.tc(5, 6, [mode_changed])) == OK
        reported = len(h.events())
        await h.submit(h.command("MODE_SET", "NOMINAL"))
        assert h.vehicle.modes.mode == "NOMINAL"
        assert len(h.events()) == reported
        assert h.vehicle.events.suppressed == 1
        await h.submit(h.tc(5, 7))
        assert [appdata.decode(tm.source_data) for tm in h.tm if (tm.service, tm.subtype) == (5, 8)] == [
            [mode_changed]]
        await h.submit(h.command("EVENT_LOG_DUMP", 0))
        dumped = [entry for tm in h.tm if (tm.service, tm.subtype) == (5, 130)
                  for entry in appdata.decode(tm.source_data)]
        assert mode_changed in [event_id for _, event_id, _ in dumped]
        await h.submit(h.tc(5, 5, [mode_changed]))
        await h.submit(h.command("MODE_SET", "SAFE"))
        assert "MODE_CHANGED" in [name for name, _ in h.events()[-3:]]
        tc = h.tc(5, 5, [0x7FFF])
        assert await h.submit(tc) == ["ACCEPTANCE_FAILED"]
        assert h.reports(tc)[0].code == FailureCode.UNKNOWN_EVENT

    h.run(scenario)


def test_parameters_report_set_validate_and_persist(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")
    window = h.vehicle.parameters.by_name["arm_window_s"].id

    async def scenario(h: Harness) -> None:
        await h.submit(h.tc(20, 1, [window]))
        assert appdata.decode([tm for tm in h.tm if (tm.service, tm.subtype) == (20, 2)][-1].source_data) == [
            [window, 10.0]]
        assert await h.submit(h.tc(20, 3, [[window, 25.0]])) == OK
        for bad, code in (([[window, 1e9]], FailureCode.ARGUMENT_RANGE), ([[window, "x"]], FailureCode.BAD_ARGUMENT),
                          ([[0x7FFF, 1]], FailureCode.UNKNOWN_PARAMETER), ([window], FailureCode.BAD_ARGUMENT)):
            tc = h.tc(20, 3, bad)
            assert await h.submit(tc) == ["ACCEPTANCE_FAILED"]
            assert h.reports(tc)[0].code == code
        assert h.vehicle.parameters.get("arm_window_s") == 25.0

    h.run(scenario)
    h.store.close()
    again = Harness(tmp_path / "s.db")

    async def check(h: Harness) -> None:
        assert h.vehicle.parameters.get("arm_window_s") == 25.0

    again.run(check)


def test_mode_survives_restart_and_corrupted_store_boots_safe(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def go_nominal(h: Harness) -> None:
        assert await h.submit(h.command("MODE_SET", "NOMINAL")) == OK

    h.run(go_nominal)
    h.store.close()
    again = Harness(tmp_path / "s.db")

    async def restored(h: Harness) -> None:
        assert h.vehicle.modes.mode == "NOMINAL"
        assert h.vehicle.boot_count == 2

    again.run(restored)
    again.store.close()
    (tmp_path / "s.db").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"s.db{suffix}").unlink(missing_ok=True)
    corrupted = Harness(tmp_path / "s.db")

    async def safe(h: Harness) -> None:
        assert h.vehicle.modes.mode == "SAFE"
        assert "STORE_CORRUPTED" in [name for name, _ in h.events()]
        assert (tmp_path / "s.db.corrupt").exists()

    corrupted.run(safe)
