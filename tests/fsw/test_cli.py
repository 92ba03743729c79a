"""``ilrs-fsw run --param``: start-up parameter values, and the errors that name a bad one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fsw.cli import _parameter
from fsw.clock import Clock
from fsw.core.store import Store
from fsw.topology import lander
from fsw.vehicle import FlightConfig


def test_a_start_up_parameter_is_set_and_survives_the_restore(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    config = FlightConfig(port="loop://", clock="afap", store=store, parameters=(("ground_hold", True),))
    executive = lander(config, Clock("afap"), Store(store))
    executive.parameters.restore()  # what the start does
    assert executive.parameters.get("ground_hold") is True


@pytest.mark.parametrize(("item", "parsed"), [("ground_hold=true", ("ground_hold", True)),
                                              ("orbit_hold_s=3600.5", ("orbit_hold_s", 3600.5)),
                                              ("name=plain text", ("name", "plain text"))])
def test_values_are_json_or_text(item: str, parsed: tuple[str, object]) -> None:
    assert _parameter(item) == parsed


@pytest.mark.parametrize(("item", "message"), [("ground_hold", "expected NAME=VALUE"),
                                               ("no_such_thing=1", "--param no_such_thing: no such parameter"),
                                               ("orbit_hold_s=5", "--param orbit_hold_s:")])
def test_a_bad_parameter_stops_the_start_with_a_message_naming_it(tmp_path: Path, item: str, message: str) -> None:
    out = subprocess.run([sys.executable, "-m", "fsw.cli", "run", "--port", "loop://", "--clock", "afap",
                          "--store", str(tmp_path / "store.sqlite"), "--param", item],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert message in out.stderr + out.stdout


@pytest.mark.parametrize(("flag", "name", "known"), [("--hal", "arduino", "emulator, pi"),
                                                      ("--watchdog", "hamster", "dev, emulator")])
def test_an_unknown_platform_or_watchdog_is_refused_with_the_known_names(
    tmp_path: Path, flag: str, name: str, known: str
) -> None:
    out = subprocess.run([sys.executable, "-m", "fsw.cli", "run", "--port", "loop://", "--clock", "afap",
                          "--store", str(tmp_path / "store.sqlite"), flag, name],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert f"'{name}' (known: {known})" in out.stderr
    assert not (tmp_path / "store.sqlite").exists()  # refused before anything started
