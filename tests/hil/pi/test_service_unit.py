"""The systemd unit shipped for the Pi: parses, restarts always, and leaves systemd's software watchdog off."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from fsw.cli import main as fsw_main

UNIT = Path(__file__).parents[3] / "hil" / "pi" / "ilrs-fsw.service"


def test_service_unit_runs_fsw_on_the_pi_hal(monkeypatch: pytest.MonkeyPatch) -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(UNIT.read_text())
    service = unit["Service"]
    assert service["Restart"] == "always"
    assert "WatchdogSec" not in service  # needs sd_notify pings, which ilrs-fsw does not send
    command = shlex.split(service["ExecStart"].replace("\\\n", " "))
    assert command[0].endswith("/ilrs-fsw") and command[1] == "run"
    # The arguments are ones ilrs-fsw accepts: parse them without running anything.
    seen: dict[str, object] = {}

    def capture(args: object) -> int:
        seen.update(vars(args))
        return 0

    monkeypatch.setattr("fsw.cli._run", capture)
    assert fsw_main(command[1:]) == 0
    assert (seen["hal"], seen["watchdog"], seen["port"]) == ("pi", "dev", "/dev/serial0")
