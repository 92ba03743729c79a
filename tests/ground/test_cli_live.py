"""``ilrs-ground`` as an operator runs it: a subprocess against a live flight software over real
ptys (``ilrs-hil link`` + ``ilrs-fsw run``), checking exit codes and what is printed."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fsw.protocol import FailureCode
from ground.client import GroundClient
from ground.procedure import run_procedure
from ground.session import GroundSession
from tests.ground.conftest import REPOSITORY, LiveVehicle, start_vehicle

pytestmark = pytest.mark.slow


def test_ping_completes(vehicle: LiveVehicle) -> None:
    result = vehicle.ground("ping", "--count", "2", "--interval", "0.05")
    assert result.returncode == 0, result.stderr
    assert "2/2 pings completed" in result.stdout


def test_send_noop_prints_each_stage_and_exits_zero(vehicle: LiveVehicle) -> None:
    result = vehicle.ground("send", "NOOP")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line for line in lines if line in ("NOOP: accepted", "NOOP: started", "NOOP: completed")] == [
        "NOOP: accepted", "NOOP: started", "NOOP: completed"]
    assert lines[-1] == "NOOP: => completed"


def test_unknown_command_is_a_local_error(vehicle: LiveVehicle) -> None:
    result = vehicle.ground("send", "SELF_DESTRUCT")
    assert result.returncode == 2
    assert "unknown command 'SELF_DESTRUCT'" in result.stderr
    assert result.stdout == ""  # nothing was sent


def test_bad_enum_is_rejected_locally_with_the_choices(vehicle: LiveVehicle) -> None:
    result = vehicle.ground("send", "MODE_SET", "mode=LANDED")
    assert result.returncode == 2
    assert "mode: 'LANDED' is not one of SAFE, NOMINAL" in result.stderr


def test_out_of_range_argument_is_rejected_locally(vehicle: LiveVehicle) -> None:
    result = vehicle.ground("send", "EVENT_LOG_DUMP", "last=9999")
    assert result.returncode == 2
    assert "last: 9999 is above the maximum 512" in result.stderr


def test_missing_port_is_a_clear_local_error(vehicle: LiveVehicle) -> None:
    missing = str(vehicle.directory / "no-such-tty")
    result = vehicle.ground("send", "NOOP", global_args=("--port", missing))
    assert result.returncode == 2
    assert f"port {missing} does not exist" in result.stderr


def test_silent_port_times_out_with_exit_3(vehicle: LiveVehicle, tmp_path: Path) -> None:
    # A pty nobody answers on: the command stays "in flight" until its timeout, then exit 3.
    import os
    import pty

    master, slave = pty.openpty()
    try:
        result = vehicle.ground("send", "NOOP", "--timeout", "0.5", global_args=("--port", os.ttyname(slave)))
    finally:
        os.close(master)
        os.close(slave)
    assert result.returncode == 3
    assert "in flight" in result.stdout
    assert "NOOP: => timed out" in result.stdout
    assert "no verification" in result.stderr


def test_mode_set_nominal_completes_and_tlm_shows_it(vehicle: LiveVehicle) -> None:
    sent = vehicle.ground("send", "MODE_SET", "mode=nominal")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "MODE_SET mode=NOMINAL: => completed" in sent.stdout
    tlm = vehicle.ground("tlm", "mode", "uptime_s")
    assert tlm.returncode == 0, tlm.stderr
    lines = tlm.stdout.splitlines()
    assert lines[0].endswith("mode = NOMINAL")
    assert lines[1].split(" = ")[0].endswith("uptime_s") and lines[1].endswith(" s")


def test_tlm_unknown_point_is_a_local_error(vehicle: LiveVehicle) -> None:
    result = vehicle.ground("tlm", "fuel_remaining_kg")
    assert result.returncode == 2
    assert "unknown telemetry point 'fuel_remaining_kg'" in result.stderr


def test_flight_side_rejection_of_an_unknown_opcode(vehicle: LiveVehicle) -> None:
    async def scenario() -> list[str]:
        client = GroundClient(vehicle.port)
        await client.open()
        try:
            record = client.send(8, 1, [0x7FFF])
            await client.wait(record, 5.0)
        finally:
            await client.close()
        assert record.failure is not None
        assert record.failure.code == FailureCode.UNKNOWN_COMMAND
        return record.stage_names()

    assert asyncio.run(scenario()) == ["ACCEPTANCE_FAILED"]


def test_archive_records_while_connected_and_answers_queries(vehicle: LiveVehicle, tmp_path: Path) -> None:
    db = tmp_path / "archive.sqlite"
    result = vehicle.ground("send", "NOOP", global_args=("--archive", str(db)))
    assert result.returncode == 0, result.stderr
    record = vehicle.ground("archive", "--db", str(db), "record", "--duration", "1.5")
    assert record.returncode == 0, record.stderr
    with sqlite3.connect(db) as connection:
        kinds = dict(connection.execute("SELECT kind, count(*) FROM packets GROUP BY kind").fetchall())
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        stages = [json.loads(row[0])["stage"] for row in connection.execute(
            "SELECT decoded FROM packets WHERE kind = 'verification' ORDER BY id")]
    assert stages[-3:] == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
    assert kinds["hk"] >= 1
    query = vehicle.ground("archive", "--db", str(db), "query", "--point", "uptime_s", "--since=-1h")
    assert query.returncode == 0, query.stderr
    assert query.stdout.count("uptime_s = ") >= 1


def test_checkout_procedure_runs_to_completion(vehicle: LiveVehicle) -> None:
    result = vehicle.ground("run", str(REPOSITORY / "ground" / "procedures" / "checkout.py"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mode = 'NOMINAL'" in result.stdout
    assert "procedure checkout completed (3 checks)" in result.stdout


def test_failing_procedure_exits_one(vehicle: LiveVehicle, tmp_path: Path) -> None:
    procedure = tmp_path / "fails.py"
    procedure.write_text(
        "async def procedure(p):\n"
        "    await p.send('NOOP')\n"
        "    await p.wait_until('boot_count', lambda n: n > 10**6, timeout=1.5)\n")
    result = vehicle.ground("run", str(procedure))
    assert result.returncode == 1
    assert "FAILED: boot_count not <lambda> within 1.5 s" in result.stdout


def test_procedure_send_raises_on_flight_rejection(vehicle: LiveVehicle, dictionary_path: Path,
                                                   tmp_path: Path) -> None:
    # The ground thinks EVENT_LOG_CLEAR is critical; the flight side refuses to arm a non-critical
    # command, so the arm fails and the command is never fired.
    data = json.loads(dictionary_path.read_text())
    for command in data["commands"]:
        if command["name"] == "EVENT_LOG_CLEAR":
            command["critical"] = True
    (tmp_path / "dictionary.json").write_text(json.dumps(data))

    async def scenario() -> tuple[int, list[str]]:
        from ground.dictionary import Dictionary

        session = GroundSession(vehicle.port, Dictionary.load(tmp_path / "dictionary.json"))
        await session.open()
        try:
            async def procedure(p: object) -> None:
                await p.send("EVENT_LOG_CLEAR")  # type: ignore[attr-defined]

            import io

            log = io.StringIO()
            code = await run_procedure(session, procedure, interactive=False, out=log)
            entry = session.history[-1]
            assert entry.fire is None
            return code, entry.stages
        finally:
            await session.close()

    code, stages = asyncio.run(scenario())
    assert code == 1
    assert stages[-1].startswith("arm failed at completion: BAD_ARGUMENT")


@pytest.fixture(scope="module")
def delayed_vehicle(tmp_path_factory: pytest.TempPathFactory, dictionary_path: Path) -> Iterator[LiveVehicle]:
    yield from start_vehicle(tmp_path_factory.mktemp("delayed"), dictionary_path, "--delay", "0.5")


def test_ping_through_half_second_light_time(delayed_vehicle: LiveVehicle) -> None:
    result = delayed_vehicle.ground("ping", "--count", "1", global_args=("--link-delay", "0.5"))
    assert result.returncode == 0, result.stderr
    rtt_ms = float(result.stdout.split("rtt=")[1].split(" ms")[0])
    assert rtt_ms >= 1000.0  # two crossings of 0.5 s each: physics, not a performance threshold


def test_send_through_light_time_uses_scaled_timeout(delayed_vehicle: LiveVehicle) -> None:
    result = delayed_vehicle.ground("send", "NOOP", global_args=("--link-delay", "0.5"))
    assert result.returncode == 0, result.stderr
    assert "waiting up to 6.5 s" in result.stdout  # 5 s + 2 * 0.5 s * 1.5
    assert result.stdout.splitlines()[-1] == "NOOP: => completed"


def test_cli_module_runs_with_python_dash_m() -> None:
    import subprocess

    result = subprocess.run([sys.executable, "-m", "ground.cli", "--help"], capture_output=True, text=True,
                            cwd=REPOSITORY, timeout=60)
    assert result.returncode == 0
    for command in ("send", "tlm", "events", "archive", "plot", "run", "dict", "replay", "console"):
        assert command in result.stdout


def test_events_with_the_onboard_log(vehicle: LiveVehicle) -> None:
    result = vehicle.ground("events", "--log", "0", "--timeout", "0.5")
    assert result.returncode == 0, result.stderr
    assert "INFO   BOOT: flight software boot 1, clock realtime (from the log)" in result.stdout


def test_events_follow_prints_severity_and_text(vehicle: LiveVehicle, tmp_path: Path) -> None:
    # Commanding SAFE produces a MEDIUM event; archived while connected, then printed by replay.
    db = tmp_path / "events.sqlite"
    sent = vehicle.ground("send", "MODE_SET", "mode=SAFE", global_args=("--archive", str(db)))
    assert sent.returncode == 0, sent.stderr
    followed = vehicle.ground("events", "--follow", "--duration", "1.0", global_args=("--archive", str(db)))
    assert followed.returncode == 0, followed.stderr
    replay = vehicle.ground("replay", "--db", str(db), "--what", "events")
    assert replay.returncode == 0, replay.stderr
    assert "MEDIUM SAFE_COMMANDED: entered SAFE by command from the ground" in replay.stdout


def test_critical_send_needs_confirmation_then_arms_first(vehicle: LiveVehicle, dictionary_path: Path,
                                                          tmp_path: Path) -> None:
    data = json.loads(dictionary_path.read_text())
    for command in data["commands"]:
        if command["name"] == "EVENT_LOG_CLEAR":
            command["critical"] = True  # the flight side does not agree, so its ARM must fail
    critical_dictionary = tmp_path / "critical.json"
    critical_dictionary.write_text(json.dumps(data))
    refused = vehicle.ground("send", "EVENT_LOG_CLEAR", global_args=("--dictionary", str(critical_dictionary)))
    assert refused.returncode == 2
    assert "needs confirmation" in refused.stderr and "not sent" in refused.stdout
    sent = vehicle.ground("send", "EVENT_LOG_CLEAR", "--yes", global_args=("--dictionary", str(critical_dictionary)))
    assert sent.returncode == 1
    assert "EVENT_LOG_CLEAR: arm: accepted" in sent.stdout
    assert "EVENT_LOG_CLEAR: arm: failed at completion: BAD_ARGUMENT" in sent.stdout
    assert "fire:" not in sent.stdout


def test_parameters_report_and_set_with_local_range_check(vehicle: LiveVehicle) -> None:
    too_small = vehicle.ground("params", "arm_window_s=0.1")
    assert too_small.returncode == 2
    assert "arm_window_s: 0.1 is below the minimum 0.5" in too_small.stderr
    assert vehicle.ground("params", "no_such_parameter").returncode == 2
    changed = vehicle.ground("params", "arm_window_s=12.5")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.splitlines()[-1] == "set: completed"
    report = vehicle.ground("params", "arm_window_s")
    assert report.returncode == 0, report.stderr
    assert report.stdout.splitlines()[-1] == "arm_window_s = 12.5 s"
    assert vehicle.ground("params", "arm_window_s=10").returncode == 0


def test_the_same_command_twice_runs_twice(vehicle: LiveVehicle) -> None:
    # Byte-identical TCs are treated on board as retransmissions; the persisted sequence count keeps
    # two separate runs of the same command from ever being byte-identical.
    def counters() -> dict[str, int]:
        result = vehicle.ground("tlm", "cmds_completed", "cmds_duplicate")
        assert result.returncode == 0, result.stderr
        return {line.split(" = ")[0].split()[-1]: int(line.split(" = ")[1]) for line in result.stdout.splitlines()}

    before = counters()
    assert vehicle.ground("send", "NOOP").returncode == 0
    assert vehicle.ground("send", "NOOP").returncode == 0
    after = counters()
    assert after["cmds_duplicate"] == before["cmds_duplicate"]
    assert after["cmds_completed"] - before["cmds_completed"] == 3  # two NOOPs and the first snapshot's 3,27


def test_procedure_main_entry_and_local_argument_errors(vehicle: LiveVehicle, tmp_path: Path) -> None:
    good = tmp_path / "sync_main.py"
    good.write_text("def main(p):\n    p.log('hello')\n"
                    "    p.check(p.tlm('mode') in (None, 'SAFE', 'NOMINAL'), 'mode known or not yet received')\n")
    result = vehicle.ground("run", str(good))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check ok: mode known or not yet received" in result.stdout
    bad = tmp_path / "bad_argument.py"
    bad.write_text("async def procedure(p):\n    await p.send('MODE_SET', mode='LANDED')\n")
    result = vehicle.ground("run", str(bad))
    assert result.returncode == 1
    assert "FAILED: mode: 'LANDED' is not one of SAFE, NOMINAL" in result.stdout
    missing = vehicle.ground("run", str(tmp_path / "absent.py"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
