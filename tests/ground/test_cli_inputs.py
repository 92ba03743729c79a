"""``ilrs-ground`` refuses what makes no sense before opening anything, suggests close names, and
says what an interrupt leaves behind (no vehicle needed: a silent pty stands in for the link)."""

from __future__ import annotations

import io
import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ground.commands.common import Printer
from ground.dictionary import Dictionary
from ground.telemetry import Received
from tests.ground.conftest import REPOSITORY, LiveVehicle


def ground(dictionary_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ground.cli", "--dictionary", str(dictionary_path), *args],
                          capture_output=True, text=True, timeout=60, cwd=REPOSITORY, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(("args", "message"), [
    (("send", "NOOP", "--timeout", "-1"), "argument --timeout: -1 must be greater than 0"),
    (("send", "NOOP", "--timeout", "0"), "argument --timeout: 0 must be greater than 0"),
    (("--link-delay", "-5", "ping"), "argument --link-delay: -5 must be 0 or more"),
    (("ping", "--count", "0"), "argument --count: 0 must be at least 1"),
    (("ping", "--count", "two"), "argument --count: 'two' is not an integer"),
    (("tlm", "--timeout", "nan"), "argument --timeout: nan must be greater than 0"),
    (("events", "--log", "-3"), "argument --log: -3 must be 0 or more"),
    (("archive", "--db", "x.sqlite", "simulate", "--hours", "0"), "argument --hours: 0 must be greater than 0"),
])
def test_senseless_numbers_are_refused_as_usage_errors(dictionary_path: Path, args: tuple[str, ...],
                                                       message: str) -> None:
    result = ground(dictionary_path, *args)
    assert result.returncode == 2
    assert message in result.stderr


@pytest.mark.parametrize(("typed", "hint"), [
    ("NOOPP", "unknown command 'NOOPP' (did you mean NOOP?)"),
    ("GO_DESCNT", "unknown command 'GO_DESCNT' (did you mean GO_DESCENT"),
    ("mode", "unknown command 'mode' (did you mean MODE_SET?)"),
])
def test_mistyped_command_names_get_close_matches_before_any_port_is_needed(dictionary_path: Path, typed: str,
                                                                            hint: str) -> None:
    result = ground(dictionary_path, "send", typed)
    assert result.returncode == 2
    assert hint in result.stderr
    assert "needs --port" not in result.stderr


def test_mistyped_points_and_parameters_get_close_matches(dictionary: Dictionary) -> None:
    with pytest.raises(Exception, match=r"did you mean gnc_altitude_m\?"):
        dictionary.point("gnc_altitud")
    parameter = next(iter(dictionary.parameters.values())).name
    with pytest.raises(Exception, match=f"did you mean {parameter}"):
        dictionary.parameter(parameter[:-1])


def test_plot_without_data_writes_nothing_and_says_so(dictionary_path: Path, tmp_path: Path) -> None:
    db, out = tmp_path / "empty.sqlite", tmp_path / "plot.png"
    assert ground(dictionary_path, "archive", "--db", str(db), "simulate", "--hours", "0.01").returncode == 0
    result = ground(dictionary_path, "plot", "--db", str(db), "--point", "gnc_altitude_m", "--since", "0",
                    "--until", "1", "--out", str(out))
    assert result.returncode == 1
    assert "nothing written" in result.stderr
    assert not out.exists()


def test_the_onboard_log_prints_each_entry_with_its_severity(dictionary: Dictionary) -> None:
    boot = next(spec for spec in dictionary.events.values() if spec.name == "BOOT")
    received = Received(0.0, b"", "event_log", 0, 5, 130, 0)
    received.decoded = {"entries": [{"time": 1.0, "id": boot.id, "name": "BOOT", "text": "flight software boot 1",
                                     "severity": boot.severity}]}
    out = io.StringIO()
    Printer(dictionary, out, colour=False).event_log(received)
    assert f"{boot.severity:<6} BOOT: flight software boot 1 (from the log)" in out.getvalue()


def test_ctrl_c_during_send_says_the_command_may_still_be_running(dictionary_path: Path) -> None:
    master, slave = pty.openpty()  # a link nobody answers on: the command stays in flight
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "ground.cli", "--dictionary", str(dictionary_path), "--port", os.ttyname(slave),
             "send", "NOOP", "--timeout", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=REPOSITORY, stdin=subprocess.DEVNULL)
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        while "in flight" not in process.stdout.readline() and time.monotonic() < deadline:
            pass
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        os.close(master)
        os.close(slave)
    assert process.returncode == 130
    assert "interrupted: NOOP was sent and may still be executing on board" in stderr


# --- commands that run for a while, against a live vehicle ------------------------------------
def test_a_ten_second_command_is_followed_to_completion_without_a_false_timeout(vehicle: LiveVehicle) -> None:
    for words in (["MODE_SET", "mode=NOMINAL"], ["NDOS_POWER_ON"]):
        assert vehicle.ground("send", *words).returncode == 0
    # 20 x 0.5 s on board: twice the default 5 s verification window.
    result = vehicle.ground("send", "NDOS_ACQUIRE", "samples=20", "interval_s=0.5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "waiting up to 5.0 s + 11 s running on board" in result.stdout
    assert result.stdout.splitlines()[-1] == "NDOS_ACQUIRE samples=20 interval_s=0.5: => completed"


def test_a_command_longer_than_declared_is_reported_as_maybe_still_running(vehicle: LiveVehicle,
                                                                           tmp_path: Path) -> None:
    # A dictionary that understates the acquisition's running time: the tool gives up waiting, and
    # says the command started and may still be running, not that nothing answered.
    data = json.loads(vehicle.dictionary_path.read_text())
    for entry in data["commands"]:
        if entry["name"] == "NDOS_ACQUIRE":
            entry["duration_s"], entry["duration_per"] = 0.0, []
    understated = tmp_path / "dictionary.json"
    understated.write_text(json.dumps(data))
    for words in (["MODE_SET", "mode=NOMINAL"], ["NDOS_POWER_ON"]):
        assert vehicle.ground("send", *words).returncode == 0
    result = vehicle.ground("send", "NDOS_ACQUIRE", "samples=10", "interval_s=0.5", "--timeout", "2",
                            global_args=("--dictionary", str(understated)))
    assert result.returncode == 3
    assert "started" in result.stdout
    assert "completion not seen in 2 s, may still be running" in result.stdout
    assert "may still be running on board" in result.stderr
    assert "no verification" not in result.stderr


def test_expected_durations_come_from_the_dictionary(dictionary: Dictionary) -> None:
    acquire = dictionary.command("NDOS_ACQUIRE")
    assert acquire.expected_duration(acquire.parse(["samples=20", "interval_s=0.5"])) == 11.0
    assert dictionary.command("NOOP").expected_duration([]) == 0.0
